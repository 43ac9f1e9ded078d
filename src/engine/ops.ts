/**
 * Tensor ops the models build on, written so that every backend (wasm in particular) trains fast and
 * without missing-kernel errors: embedding lookup with a scatter-add gradient, GELU (tanh form, x·x·x
 * rather than pow), log-probabilities of target tokens with a fused gradient, layer/RMS norm with
 * hand-written gradients (far fewer kernels than autodiff), and a `linear` that folds (B,T,K) inputs
 * into one 2-D product so the forward and both gradients are single XNNPACK calls; `tokenStats` gives the
 * entropy, mean logit and argmax hit per position for the trainer's metrics.
 * With the native kernels on wasm (kernels/index.ts: fusedKernelsActive) linear layers, GELU, SwiGLU, the norms,
 * pickLogProbs and the attention softmax run as single fused kernels (fused-ops.ts); the composite forms
 * here are the fallback.
 * All ops are pure functions of tensors; call them inside tf.tidy / tf.variableGrads as usual.
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's Node bundle registers no gradients: this side-effect import does (shared global registry).
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import * as fused from './fused-ops';
import { fusedKernelsActive } from './kernels/index';

/** sqrt(2/π), the GELU tanh-approximation constant. */
const GELU_C = Math.sqrt(2 / Math.PI);
const GELU_A = 0.044715;

type GradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
/** tf.customGrad with the argument list typed loosely (its declared type cannot express "tensors, then save"). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function customGrad(f: (...args: any[]) => { value: tf.Tensor; gradFunc: GradFunc }): (...inputs: tf.Tensor[]) => tf.Tensor {
  return tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]);
}

/** ids as int32 (a no-op clone when they already are). */
function toInt32(t: tf.Tensor): tf.Tensor {
  return t.dtype === 'int32' ? t : tf.cast(t, 'int32');
}

/**
 * Embedding lookup. table (V, D) float32, ids (B, T) int32 → (B, T, D).
 * Gradient w.r.t. table: scatter-add of dy rows into the ids' rows (unsortedSegmentSum; the wasm
 * backend gets that kernel from ./kernels). ids get no gradient.
 */
export function embedding(table: tf.Tensor2D, ids: tf.Tensor2D): tf.Tensor3D {
  const [B, T] = ids.shape;
  const [V, D] = table.shape;
  const flatIds = tf.tidy(() => toInt32(tf.reshape(ids, [B * T]))); // (B·T,)
  const f = customGrad((tbl: tf.Tensor, save: tf.GradSaveFunc) => {
    save([flatIds]);
    const value = tf.reshape(tf.gather(tbl as tf.Tensor2D, flatIds), [B, T, D]); // (B, T, D)
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const dy2 = tf.reshape(dy, [B * T, D]); // (B·T, D)
      return [tf.unsortedSegmentSum(dy2, saved[0] as tf.Tensor1D, V)]; // (V, D)
    };
    return { value, gradFunc };
  });
  const out = f(table) as tf.Tensor3D;
  flatIds.dispose();
  return out;
}

/** GELU, tanh approximation (GPT-2's "gelu_new"): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). Any shape. */
export function gelu<T extends tf.Tensor>(x: T): T {
  if (fusedKernelsActive()) return fused.gelu(x);
  const f = customGrad((xin: tf.Tensor, save: tf.GradSaveFunc) => {
    const x2 = tf.mul(xin, xin);
    const inner = tf.mul(tf.mul(xin, tf.add(tf.mul(x2, GELU_A), 1)), GELU_C); // c·(x + a·x³)
    const t = tf.tanh(inner);
    const value = tf.mul(tf.mul(xin, 0.5), tf.add(t, 1));
    save([xin, t]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ts] = saved;
      // d/dx = 0.5·(1 + t) + 0.5·x·(1 − t²)·c·(1 + 3a·x²)
      const xsq = tf.mul(xs, xs);
      const dInner = tf.mul(tf.add(tf.mul(xsq, 3 * GELU_A), 1), GELU_C);
      const sech2 = tf.sub(1, tf.mul(ts, ts));
      const d = tf.add(tf.mul(tf.add(ts, 1), 0.5), tf.mul(tf.mul(tf.mul(xs, 0.5), sech2), dInner));
      return [tf.mul(dy, d)];
    };
    return { value, gradFunc };
  });
  return f(x) as T;
}

/**
 * log softmax(logits)[target] per position. logits (B, T, V) float32, targets (B, T) int32 → (B, T).
 * Gradient w.r.t. logits: dy·(onehot(target) − softmax(logits)), computed in one pass (no gather
 * gradient, no (B,T,V) log-softmax kept alive). Targets must lie in [0, V); mask padding afterwards.
 */
export function pickLogProbs(logits: tf.Tensor3D, targets: tf.Tensor2D): tf.Tensor2D {
  if (fusedKernelsActive()) return fused.pickLogProbs(logits, targets);
  const [B, T, V] = logits.shape;
  const N = B * T;
  const flatTargets = tf.tidy(() => toInt32(tf.reshape(targets, [N]))); // (N,)
  const f = customGrad((lg: tf.Tensor, save: tf.GradSaveFunc) => {
    const l2 = tf.reshape(lg, [N, V]); // (N, V)
    const lse = tf.logSumExp(l2, 1, true); // (N, 1)
    const rowStart = tf.mul(tf.range(0, N, 1, 'int32'), tf.scalar(V, 'int32')); // (N,)
    const picked = tf.gather(tf.reshape(l2, [N * V]), tf.add(rowStart, flatTargets)); // (N,)
    const value = tf.reshape(tf.sub(picked, tf.reshape(lse, [N])), [B, T]); // (B, T)
    save([l2, lse, flatTargets]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [ls, lse2, tgt] = saved;
      const probs = tf.exp(tf.sub(ls, lse2)); // (N, V)
      // (wasm's OneHot writes int32 bit patterns when asked for float32: build int32 and cast)
      const onehot = tf.cast(tf.oneHot(tgt as tf.Tensor1D, V), 'float32'); // (N, V)
      const g = tf.mul(tf.sub(onehot, probs), tf.reshape(dy, [N, 1])); // (N, V)
      return [tf.reshape(g, [B, T, V])];
    };
    return { value, gradFunc };
  });
  const out = f(logits) as tf.Tensor2D;
  flatTargets.dispose();
  return out;
}

/**
 * Per-position statistics of the next-token distributions, for metrics only (no gradient flows through them,
 * and since they run inside a custom-gradient op, autodiff keeps none of their (B,T,V) intermediates).
 * logits (B, T, V), targets (B, T) int32 → (B, T, 3): [entropy −Σ p·log p, mean logit over the vocabulary,
 * 1 if argmax(logits) = target else 0].
 */
export function tokenStats(logits: tf.Tensor3D, targets: tf.Tensor2D): tf.Tensor3D {
  const [B, T, V] = logits.shape;
  const N = B * T;
  const f = customGrad((lg: tf.Tensor, tg: tf.Tensor) => {
    const value = tf.tidy(() => {
      const l2 = tf.reshape(lg, [N, V]); // (N, V)
      const lse = tf.logSumExp(l2, 1, true); // (N, 1)
      const probs = tf.exp(tf.sub(l2, lse)); // (N, V)
      const entropy = tf.sub(tf.reshape(lse, [N]), tf.sum(tf.mul(probs, l2), 1)); // (N,) log Σe^l − Σ p·l
      const meanLogit = tf.mean(l2, 1); // (N,)
      const hit = tf.cast(tf.equal(tf.argMax(l2, 1), toInt32(tf.reshape(tg, [N]))), 'float32'); // (N,)
      return tf.reshape(tf.stack([entropy, meanLogit, hit], 1), [B, T, 3]); // (B, T, 3)
    });
    return { value, gradFunc: (_dy: tf.Tensor) => [tf.zerosLike(lg), tf.zerosLike(tg)] };
  });
  return f(logits, targets) as tf.Tensor3D;
}

/** SwiGLU activation silu(gate)·up = gate·σ(gate)·up (Llama's MLP). gate, up: the same shape. */
export function swiglu<T extends tf.Tensor>(gate: T, up: T): T {
  if (fusedKernelsActive()) return fused.swiglu(gate, up);
  return tf.mul(tf.mul(gate, tf.sigmoid(gate)), up) as T;
}

/**
 * y = x·W (+ b). x (..., K), W (K, N), b (N) → (..., N). Leading axes are folded into one 2-D product,
 * so forward, dX and dW are each one plain matrix product (dW = xᵀ·dy over all B·T rows).
 */
export function linear(x: tf.Tensor, w: tf.Tensor2D, b?: tf.Tensor1D): tf.Tensor {
  if (fusedKernelsActive() && x.dtype === 'float32') return fused.linear(x, w, b);
  const K = x.shape[x.shape.length - 1];
  const lead = x.shape.slice(0, -1);
  const rows = lead.reduce((p, q) => p * q, 1);
  const x2 = tf.reshape(x, [rows, K]); // (R, K)
  let y = tf.matMul(x2, w); // (R, N)
  if (b) y = tf.add(y, b);
  return tf.reshape(y, [...lead, w.shape[1]]);
}

/**
 * LayerNorm over the last axis: (x − mean)/sqrt(var + eps)·gamma + beta. x (..., D), gamma/beta (D).
 * Hand-written gradient (dx = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)), ĝ = dy·gamma).
 */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps = 1e-5): tf.Tensor {
  if (fusedKernelsActive()) return fused.layerNorm(x, gamma, beta, eps);
  const D = x.shape[x.shape.length - 1];
  const lead = x.shape.slice(0, -1);
  const rows = lead.reduce((p, q) => p * q, 1);
  const f = customGrad((xin: tf.Tensor, g: tf.Tensor, bt: tf.Tensor, save: tf.GradSaveFunc) => {
    const x2 = tf.reshape(xin, [rows, D]); // (R, D)
    const mean = tf.mean(x2, 1, true); // (R, 1)
    const xc = tf.sub(x2, mean); // (R, D)
    const variance = tf.mean(tf.mul(xc, xc), 1, true); // (R, 1)
    const rstd = tf.rsqrt(tf.add(variance, eps)); // (R, 1)
    const xhat = tf.mul(xc, rstd); // (R, D)
    const value = tf.reshape(tf.add(tf.mul(xhat, g), bt), xin.shape);
    save([xhat, rstd, g]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xh, rs, gm] = saved;
      const dy2 = tf.reshape(dy, [rows, D]); // (R, D)
      const dGamma = tf.sum(tf.mul(dy2, xh), 0); // (D,)
      const dBeta = tf.sum(dy2, 0); // (D,)
      const gh = tf.mul(dy2, gm); // (R, D)
      const meanG = tf.mean(gh, 1, true); // (R, 1)
      const meanGX = tf.mean(tf.mul(gh, xh), 1, true); // (R, 1)
      const dx = tf.reshape(tf.mul(tf.sub(tf.sub(gh, meanG), tf.mul(xh, meanGX)), rs), dy.shape);
      return [dx, dGamma, dBeta];
    };
    return { value, gradFunc };
  });
  return f(x, gamma, beta) as tf.Tensor;
}

/**
 * RMSNorm over the last axis (Llama): x / sqrt(mean(x²) + eps) · weight. x (..., D), weight (D).
 * Hand-written gradient (dx = rstd·(ĝ − x̂·mean(ĝ·x̂)), ĝ = dy·weight).
 */
export function rmsNorm(x: tf.Tensor, weight: tf.Tensor1D, eps = 1e-6): tf.Tensor {
  if (fusedKernelsActive()) return fused.rmsNorm(x, weight, eps);
  const D = x.shape[x.shape.length - 1];
  const lead = x.shape.slice(0, -1);
  const rows = lead.reduce((p, q) => p * q, 1);
  const f = customGrad((xin: tf.Tensor, w: tf.Tensor, save: tf.GradSaveFunc) => {
    const x2 = tf.reshape(xin, [rows, D]); // (R, D)
    const rstd = tf.rsqrt(tf.add(tf.mean(tf.mul(x2, x2), 1, true), eps)); // (R, 1)
    const xhat = tf.mul(x2, rstd); // (R, D)
    const value = tf.reshape(tf.mul(xhat, w), xin.shape);
    save([xhat, rstd, w]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xh, rs, wt] = saved;
      const dy2 = tf.reshape(dy, [rows, D]); // (R, D)
      const dW = tf.sum(tf.mul(dy2, xh), 0); // (D,)
      const gh = tf.mul(dy2, wt); // (R, D)
      const meanGX = tf.mean(tf.mul(gh, xh), 1, true); // (R, 1)
      const dx = tf.reshape(tf.mul(tf.sub(gh, tf.mul(xh, meanGX)), rs), dy.shape);
      return [dx, dW];
    };
    return { value, gradFunc };
  });
  return f(x, weight) as tf.Tensor;
}

/**
 * Causal scaled-dot-product attention. q, k, v (B, H, T, Dh); attentionMask (B, T) 1 = real token,
 * 0 = padding (keys only). Returns (B, H, T, Dh). Each batched product runs as 2-D XNNPACK products
 * through the fast wasm BatchMatMul.
 */
export function causalAttention(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, attentionMask?: tf.Tensor2D): tf.Tensor4D {
  if (fusedKernelsActive()) return fused.causalAttention(q, k, v, attentionMask);
  const [B, , T, Dh] = q.shape;
  const scores = tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(Dh)); // (B, H, T, T)
  const bias = attentionBias(B, T, attentionMask); // (B, 1, T, T)
  const probs = tf.softmax(tf.add(scores, bias)); // (B, H, T, T)
  return tf.matMul(probs, v) as tf.Tensor4D; // (B, H, T, Dh)
}

/** Additive attention bias: 0 where query i may see key j (j ≤ i and key j is not padding), −1e9 elsewhere. (B, 1, T, T). */
export function attentionBias(B: number, T: number, attentionMask?: tf.Tensor2D): tf.Tensor4D {
  return tf.tidy(() => {
    const causal = tf.linalg.bandPart(tf.ones([T, T]), -1, 0); // (T, T) lower triangle
    let allowed: tf.Tensor = tf.reshape(causal, [1, 1, T, T]);
    if (attentionMask) allowed = tf.mul(allowed, tf.reshape(attentionMask, [B, 1, 1, T]));
    return tf.broadcastTo(tf.mul(tf.sub(1, allowed), -1e9), [B, 1, T, T]) as tf.Tensor4D;
  });
}
