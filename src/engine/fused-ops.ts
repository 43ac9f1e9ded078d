/**
 * The fused forms of ops.ts' GELU, LayerNorm, RMSNorm, target log-prob, causal attention softmax, SwiGLU
 * and llama.ts' rotary embedding:
 * one native forward kernel and one native backward kernel each (kernels/native-fused.ts), wrapped in
 * tf.customGrad with hand-written gradients. ops.ts calls these when fusedKernelsActive(); the
 * composite tfjs forms in ops.ts stay the reference (tests compare both with float64).
 */
import * as tf from '@tensorflow/tfjs-core';
import { FUSED } from './kernels/native-fused';

type GradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function customGrad(f: (...args: any[]) => { value: tf.Tensor; gradFunc: GradFunc }): (...inputs: tf.Tensor[]) => tf.Tensor {
  return tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]);
}

function run(name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, number> = {}): tf.Tensor[] {
  const out = tf.engine().runKernel(name, inputs as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap);
  return Array.isArray(out) ? (out as tf.Tensor[]) : [out as tf.Tensor];
}

export function gelu<T extends tf.Tensor>(x: T): T {
  const f = customGrad((xin: tf.Tensor, save: tf.GradSaveFunc) => {
    save([xin]);
    const [value] = run(FUSED.gelu, { x: xin });
    return { value, gradFunc: (dy, [xs]) => run(FUSED.geluGrad, { x: xs, dy }) };
  });
  return f(x) as T;
}

/** silu(gate)·up, any shape (both the same). */
export function swiglu<T extends tf.Tensor>(gate: T, up: T): T {
  const f = customGrad((g: tf.Tensor, u: tf.Tensor, save: tf.GradSaveFunc) => {
    save([g, u]);
    const [value] = run(FUSED.swiglu, { gate: g, up: u });
    return { value, gradFunc: (dy, [gs, us]) => run(FUSED.swigluGrad, { gate: gs, up: us, dy }) };
  });
  return f(gate, up) as T;
}

/**
 * RoPE in HF's rotate_half form: x·cos + rotate_half(x)·sin. x (B, H, T, Dh), or (B, T, H, Dh) when `bthd`
 * (the projections' layout, as rowsAttention reads it); cos, sin (B or 1, 1, T, Dh), constants (no gradient).
 * The gradient is the transposed rotation of dy (one kernel, nothing saved but the tables).
 */
export function rope(x: tf.Tensor4D, cos: tf.Tensor4D, sin: tf.Tensor4D, bthd = false): tf.Tensor4D {
  const attrs = { bthd: bthd ? 1 : 0 };
  const f = customGrad((xin: tf.Tensor, save: tf.GradSaveFunc) => {
    save([cos, sin]);
    const [value] = run(FUSED.rope, { x: xin, cos, sin }, attrs);
    return { value, gradFunc: (dy, [c, s]) => run(FUSED.ropeGrad, { dy, cos: c, sin: s }, attrs) };
  });
  return f(x) as tf.Tensor4D;
}

/**
 * y = x·W (+ b), x (..., K), W (K, N), b (N) → (..., N): one forward kernel (the product, the bias added in
 * place) and one backward kernel (dx, dW, db), with no reshapes; equal bit for bit to ops.linear's
 * matMul + add on the native kernels.
 */
export function linear(x: tf.Tensor, w: tf.Tensor2D, b?: tf.Tensor1D): tf.Tensor {
  const attrs = { bias: b ? 1 : 0 };
  const f = customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    const [xin, wi, bi] = args as tf.Tensor[];
    save([xin, wi]);
    const [value] = run(FUSED.linear, bi ? { x: xin, w: wi, bias: bi } : { x: xin, w: wi });
    return { value, gradFunc: (dy, [xs, ws]) => run(FUSED.linearGrad, { x: xs, w: ws, dy }, attrs) };
  });
  return b ? f(x, w, b) : f(x, w);
}

export function layerNorm(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor {
  // The kernels read x (..., D) as rows of D: no reshapes. mean, rstd (R).
  const f = customGrad((xin: tf.Tensor, g: tf.Tensor, bt: tf.Tensor, save: tf.GradSaveFunc) => {
    const [y, mean, rstd] = run(FUSED.layerNorm, { x: xin, gamma: g, beta: bt }, { eps }); // (..., D), (R), (R)
    save([xin, g, mean, rstd]);
    const gradFunc = (dy: tf.Tensor, [xs, gm, mn, rs]: tf.Tensor[]) => run(FUSED.layerNormGrad, { x: xs, gamma: gm, mean: mn, rstd: rs, dy });
    return { value: y, gradFunc };
  });
  return f(x, gamma, beta);
}

export function rmsNorm(x: tf.Tensor, weight: tf.Tensor1D, eps: number): tf.Tensor {
  const f = customGrad((xin: tf.Tensor, w: tf.Tensor, save: tf.GradSaveFunc) => {
    const [y, rstd] = run(FUSED.rmsNorm, { x: xin, weight: w }, { eps }); // (..., D), (R)
    save([xin, w, rstd]);
    const gradFunc = (dy: tf.Tensor, [xs, wt, rs]: tf.Tensor[]) => run(FUSED.rmsNormGrad, { x: xs, weight: wt, rstd: rs, dy });
    return { value: y, gradFunc };
  });
  return f(x, weight);
}

/** logits (B, T, V), targets (B, T) int32 in [0, V) → log softmax(logits)[target] (B, T). */
export function pickLogProbs(logits: tf.Tensor3D, targets: tf.Tensor2D): tf.Tensor2D {
  const [B, T, V] = logits.shape;
  const N = B * T;
  const flat = tf.tidy(() => (targets.dtype === 'int32' ? tf.reshape(targets, [N]) : tf.cast(tf.reshape(targets, [N]), 'int32'))); // (N,)
  const f = customGrad((lg: tf.Tensor, save: tf.GradSaveFunc) => {
    const l2 = tf.reshape(lg, [N, V]); // (N, V)
    const [logp, lse] = run(FUSED.logProb, { logits: l2, targets: flat }); // (N), (N)
    save([l2, flat, lse]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [ls, tg, lz] = saved;
      const [dl] = run(FUSED.logProbGrad, { logits: ls, targets: tg, lse: lz, dy: tf.reshape(dy, [N]) }); // (N, V)
      return [tf.reshape(dl, [B, T, V])];
    };
    return { value: tf.reshape(logp, [B, T]), gradFunc };
  });
  const out = f(logits) as tf.Tensor2D;
  flat.dispose();
  return out;
}

/**
 * softmax(scale·scores) over the keys query i may see (j ≤ past + i, keyMask[b, j] = 1; others get 0).
 * scores (B, H, Tq, Tk), keyMask (B, Tk) float32 or undefined → probs (B, H, Tq, Tk).
 */
export function causalSoftmax(scores: tf.Tensor4D, keyMask: tf.Tensor2D | undefined, scale: number, past = 0): tf.Tensor4D {
  const mask = keyMask && keyMask.dtype !== 'float32' ? tf.cast(keyMask, 'float32') : keyMask;
  const f = customGrad((s: tf.Tensor, save: tf.GradSaveFunc) => {
    const [probs] = run(FUSED.attnSoftmax, mask ? { scores: s, keyMask: mask } : { scores: s }, { scale, past });
    save([probs]);
    return { value: probs, gradFunc: (dy, [p]) => run(FUSED.attnSoftmaxGrad, { probs: p, dy }, { scale }) };
  });
  const out = f(scores) as tf.Tensor4D;
  if (mask && mask !== keyMask) mask.dispose();
  return out;
}

/** Sequences at least this long use flashAttention (no (T, T) tensors); shorter ones the two products + softmax. */
export const FLASH_MIN_T = 256;

/**
 * Causal attention without (T, T) tensors: one forward kernel (output + per-query log-sum-exp) and one
 * backward kernel that recomputes the probabilities (native/src/flash.c). q, k, v (B, H, T, Dh),
 * keyMask (B, T) → (B, H, T, Dh). Memory grows with T, not T².
 */
export function flashAttention(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, keyMask: tf.Tensor2D | undefined): tf.Tensor4D {
  const scale = 1 / Math.sqrt(q.shape[3]);
  const mask = keyMask && keyMask.dtype !== 'float32' ? tf.cast(keyMask, 'float32') : keyMask;
  const withMask = (m: Record<string, tf.Tensor>) => (mask ? { ...m, keyMask: mask } : m);
  const f = customGrad((qi: tf.Tensor, ki: tf.Tensor, vi: tf.Tensor, save: tf.GradSaveFunc) => {
    const [out, lse] = run(FUSED.flashAttn, withMask({ q: qi, k: ki, v: vi }), { scale }); // (B, H, T, Dh), (B, H, T)
    save([qi, ki, vi, out, lse]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [qs, ks, vs, os, ls] = saved;
      return run(FUSED.flashAttnGrad, withMask({ q: qs, k: ks, v: vs, out: os, lse: ls, dy }), { scale });
    };
    return { value: out, gradFunc };
  });
  const out = f(q, k, v) as tf.Tensor4D;
  if (mask && mask !== keyMask) mask.dispose();
  return out;
}

/**
 * Causal attention on the projections' layout, for T < FLASH_MIN_T: q, k, v as (B, T, heads, Dh) rows —
 * `qkv` one (B, T, (H + 2·Hkv)·Dh) tensor holding them side by side (GPT-2's fused c_attn), or three tensors
 * q (B, T, H·Dh), k and v (B, T, Hkv·Dh) — → (B, T, H·Dh). One forward kernel (scores, causal softmax,
 * P·V; probs (B, H, T, T) saved) and one backward kernel (native/src/attn.c) that read every head through
 * strides and write the gradients in the same layout (the fused case: one (B, T, 3D) gradient, no
 * zero-padded slices summed). No (B, H, T, Dh) transposes either way. Equals causalAttention on the
 * transposed heads bit for bit when Hkv = H.
 */
export function rowsAttention(qkv: tf.Tensor3D | [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D], heads: number, kvHeads: number,
  headDim: number, keyMask: tf.Tensor2D | undefined): tf.Tensor3D {
  const attrs = { heads, kvHeads, headDim, scale: 1 / Math.sqrt(headDim) };
  const mask = keyMask && keyMask.dtype !== 'float32' ? tf.cast(keyMask, 'float32') : keyMask;
  const withMask = (m: Record<string, tf.Tensor>) => (mask ? { ...m, keyMask: mask } : m);
  const packed = !Array.isArray(qkv);
  const named = (ts: tf.Tensor[]): Record<string, tf.Tensor> => (packed ? { qkv: ts[0] } : { q: ts[0], k: ts[1], v: ts[2] });
  const f = customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    const ins = args as tf.Tensor[];
    const [out, probs] = run(FUSED.rowsAttn, withMask(named(ins)), attrs); // (B, T, H·Dh), (B, H, T, T)
    save([...ins, probs]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => run(FUSED.rowsAttnGrad, { ...named(saved.slice(0, -1)), probs: saved[saved.length - 1], dy }, attrs);
    return { value: out, gradFunc };
  });
  const out = (packed ? f(qkv) : f(...qkv)) as tf.Tensor3D;
  if (mask && mask !== keyMask) mask.dispose();
  return out;
}

/** Causal attention: q, k, v (B, H, T, Dh), attentionMask (B, T) → (B, H, T, Dh); q·kᵀ reads k transposed in place. */
export function causalAttention(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, attentionMask?: tf.Tensor2D): tf.Tensor4D {
  const Dh = q.shape[3];
  if (q.shape[2] >= FLASH_MIN_T) return flashAttention(q, k, v, attentionMask);
  const scores = tf.matMul(q, k, false, true) as tf.Tensor4D; // (B, H, T, T)
  const probs = causalSoftmax(scores, attentionMask, 1 / Math.sqrt(Dh)); // (B, H, T, T)
  return tf.matMul(probs, v) as tf.Tensor4D; // (B, H, T, Dh)
}
