/**
 * The fused kernels as tfjs kernels of the wasm backend (custom kernel names, registered only when the
 * native addon loads). src/engine/ops.ts calls them through tf.engine().runKernel inside tf.customGrad,
 * so one forward and one backward kernel replace a chain of stock kernels and their temporaries.
 * Each kernel allocates its outputs first, then reads the heap (an allocation may grow and replace it).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NativeKernels } from './native';
import { heapOf, offsetOf, type WasmHeapBackend } from './wasm-heap';

/** Names of the fused kernels. */
export const FUSED = {
  gelu: 'DapGelu', geluGrad: 'DapGeluGrad',
  layerNorm: 'DapLayerNorm', layerNormGrad: 'DapLayerNormGrad',
  rmsNorm: 'DapRmsNorm', rmsNormGrad: 'DapRmsNormGrad',
  logProb: 'DapLogProb', logProbGrad: 'DapLogProbGrad',
  attnSoftmax: 'DapAttnSoftmax', attnSoftmaxGrad: 'DapAttnSoftmaxGrad',
  flashAttn: 'DapFlashAttn', flashAttnGrad: 'DapFlashAttnGrad',
  rowsAttn: 'DapRowsAttn', rowsAttnGrad: 'DapRowsAttnGrad',
  linear: 'DapLinear', linearGrad: 'DapLinearGrad',
  swiglu: 'DapSwiglu', swigluGrad: 'DapSwigluGrad',
  rope: 'DapRope', ropeGrad: 'DapRopeGrad',
} as const;

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: {}; attrs?: tf.NamedAttrMap };
type Body = (k: NativeKernels, b: WasmHeapBackend, inp: Record<string, tf.TensorInfo>, attrs: tf.NamedAttrMap) => tf.TensorInfo | tf.TensorInfo[];

const size = (t: tf.TensorInfo) => tf.util.sizeFromShape(t.shape);
const last = (t: tf.TensorInfo) => t.shape[t.shape.length - 1];

const bodies: Record<string, Body> = {
  [FUSED.gelu]: (k, b, { x }) => {
    const y = b.makeOutput(x.shape, 'float32');
    k.geluFwd(heapOf(b), offsetOf(b, x), offsetOf(b, y), size(x));
    return y;
  },
  [FUSED.geluGrad]: (k, b, { x, dy }) => {
    const dx = b.makeOutput(x.shape, 'float32');
    k.geluBwd(heapOf(b), offsetOf(b, x), offsetOf(b, dy), offsetOf(b, dx), size(x));
    return dx;
  },
  [FUSED.layerNorm]: (k, b, { x, gamma, beta }, attrs) => {
    const D = last(x), R = size(x) / D;
    const y = b.makeOutput(x.shape, 'float32'), mean = b.makeOutput([R], 'float32'), rstd = b.makeOutput([R], 'float32');
    k.layerNormFwd(heapOf(b), offsetOf(b, x), offsetOf(b, gamma), offsetOf(b, beta), offsetOf(b, y), offsetOf(b, mean), offsetOf(b, rstd), R, D, Number(attrs.eps));
    return [y, mean, rstd];
  },
  [FUSED.layerNormGrad]: (k, b, { x, gamma, mean, rstd, dy }) => {
    const D = last(x), R = size(x) / D;
    const dx = b.makeOutput(x.shape, 'float32'), dg = b.makeOutput([D], 'float32'), db = b.makeOutput([D], 'float32');
    k.layerNormBwd(heapOf(b), offsetOf(b, x), offsetOf(b, gamma), offsetOf(b, mean), offsetOf(b, rstd), offsetOf(b, dy), offsetOf(b, dx), offsetOf(b, dg), offsetOf(b, db), R, D);
    return [dx, dg, db];
  },
  [FUSED.rmsNorm]: (k, b, { x, weight }, attrs) => {
    const D = last(x), R = size(x) / D;
    const y = b.makeOutput(x.shape, 'float32'), rstd = b.makeOutput([R], 'float32');
    k.rmsNormFwd(heapOf(b), offsetOf(b, x), offsetOf(b, weight), offsetOf(b, y), offsetOf(b, rstd), R, D, Number(attrs.eps));
    return [y, rstd];
  },
  [FUSED.rmsNormGrad]: (k, b, { x, weight, rstd, dy }) => {
    const D = last(x), R = size(x) / D;
    const dx = b.makeOutput(x.shape, 'float32'), dw = b.makeOutput([D], 'float32');
    k.rmsNormBwd(heapOf(b), offsetOf(b, x), offsetOf(b, weight), offsetOf(b, rstd), offsetOf(b, dy), offsetOf(b, dx), offsetOf(b, dw), R, D);
    return [dx, dw];
  },
  [FUSED.logProb]: (k, b, { logits, targets }) => {
    const V = last(logits), R = size(logits) / V;
    const logp = b.makeOutput([R], 'float32'), lse = b.makeOutput([R], 'float32');
    k.logProbFwd(heapOf(b), offsetOf(b, logits), offsetOf(b, targets), offsetOf(b, logp), offsetOf(b, lse), R, V);
    return [logp, lse];
  },
  [FUSED.logProbGrad]: (k, b, { logits, targets, lse, dy }) => {
    const V = last(logits), R = size(logits) / V;
    const dl = b.makeOutput(logits.shape, 'float32');
    k.logProbBwd(heapOf(b), offsetOf(b, logits), offsetOf(b, targets), offsetOf(b, lse), offsetOf(b, dy), offsetOf(b, dl), R, V);
    return dl;
  },
  [FUSED.attnSoftmax]: (k, b, { scores, keyMask }, attrs) => {
    const [B, H, Tq, Tk] = scores.shape;
    const probs = b.makeOutput(scores.shape, 'float32');
    k.attnSoftmaxFwd(heapOf(b), offsetOf(b, scores), keyMask ? offsetOf(b, keyMask) : -1, offsetOf(b, probs), B, H, Tq, Tk, Number(attrs.past), Number(attrs.scale));
    return probs;
  },
  [FUSED.attnSoftmaxGrad]: (k, b, { probs, dy }, attrs) => {
    const [B, H, Tq, Tk] = probs.shape;
    const ds = b.makeOutput(probs.shape, 'float32');
    k.attnSoftmaxBwd(heapOf(b), offsetOf(b, probs), offsetOf(b, dy), offsetOf(b, ds), B * H, Tq, Tk, Number(attrs.scale));
    return ds;
  },
  [FUSED.flashAttn]: (k, b, { q, k: kt, v, keyMask }, attrs) => {
    const [B, H, T, Dh] = q.shape;
    const out = b.makeOutput(q.shape, 'float32'), lse = b.makeOutput([B, H, T], 'float32');
    k.flashFwd(heapOf(b), offsetOf(b, q), offsetOf(b, kt), offsetOf(b, v), keyMask ? offsetOf(b, keyMask) : -1, offsetOf(b, out), offsetOf(b, lse), B, H, T, Dh, Number(attrs.scale));
    return [out, lse];
  },
  [FUSED.flashAttnGrad]: (k, b, { q, k: kt, v, keyMask, out, lse, dy }, attrs) => {
    const [B, H, T, Dh] = q.shape;
    const dq = b.makeOutput(q.shape, 'float32'), dk = b.makeOutput(q.shape, 'float32'), dv = b.makeOutput(q.shape, 'float32');
    k.flashBwd(heapOf(b), offsetOf(b, q), offsetOf(b, kt), offsetOf(b, v), keyMask ? offsetOf(b, keyMask) : -1, offsetOf(b, out), offsetOf(b, lse), offsetOf(b, dy),
      offsetOf(b, dq), offsetOf(b, dk), offsetOf(b, dv), B, H, T, Dh, Number(attrs.scale));
    return [dq, dk, dv];
  },
  // Inputs {qkv} (B, T, (H + 2·Hkv)·hs) or {q} (B, T, H·hs), {k, v} (B, T, Hkv·hs): see fused-ops.ts' rowsAttention.
  [FUSED.rowsAttn]: (k, b, inp, attrs) => {
    const L = rowsLayout(b, inp, attrs);
    const out = b.makeOutput([L.B, L.T, L.H * L.hs], 'float32'), probs = b.makeOutput([L.B, L.H, L.T, L.T], 'float32');
    k.attnFwd(heapOf(b), L.q, L.qrs, L.k, L.krs, L.v, L.vrs, inp.keyMask ? offsetOf(b, inp.keyMask) : -1, offsetOf(b, out), L.H * L.hs,
      offsetOf(b, probs), L.B, L.T, L.H, L.Hkv, L.hs, Number(attrs.scale));
    return [out, probs];
  },
  [FUSED.rowsAttnGrad]: (k, b, inp, attrs) => {
    const L = rowsLayout(b, inp, attrs);
    const grads = inp.qkv ? [b.makeOutput(inp.qkv.shape, 'float32')] : [inp.q, inp.k, inp.v].map((t) => b.makeOutput(t.shape, 'float32'));
    const [dq, dk, dv] = grads.length === 1 ? [0, L.H, L.H + L.Hkv].map((c) => offsetOf(b, grads[0]) + 4 * c * L.hs) : grads.map((t) => offsetOf(b, t));
    const heap = heapOf(b);
    k.attnBwd(heap, L.q, L.qrs, L.k, L.krs, L.v, L.vrs, offsetOf(b, inp.probs), offsetOf(b, inp.dy), L.H * L.hs,
      dq, L.qrs, dk, L.krs, dv, L.vrs, L.B, L.T, L.H, L.Hkv, L.hs, Number(attrs.scale));
    return grads;
  },
  // y = x·W (+ b): x (..., K) as (R, K), W (K, N), b (N) → (..., N); the same GEMM and add calls as
  // BatchMatMul + Add (native-matmul.ts, native-moves.ts), so equal to them bit for bit.
  [FUSED.linear]: (k, b, { x, w, bias }) => {
    const [K, N] = w.shape, R = size(x) / K;
    const y = b.makeOutput([...x.shape.slice(0, -1), N], 'float32');
    if (R * N === 0) return y;
    const heap = heapOf(b);
    k.gemm(heap, 1, R, N, K, offsetOf(b, x), K, 1, 0, offsetOf(b, w), N, 1, 0, offsetOf(b, y), N, 0, 0);
    if (bias) k.addBcast(heap, offsetOf(b, y), offsetOf(b, bias), offsetOf(b, y), R * N, N);
    return y;
  },
  // dx = dy·Wᵀ, dW = xᵀ·dy (W and x read transposed through strides), db = column sums of dy.
  [FUSED.linearGrad]: (k, b, { x, w, dy }, attrs) => {
    const [K, N] = w.shape, R = size(x) / K;
    const dx = b.makeOutput(x.shape, 'float32'), dw = b.makeOutput(w.shape, 'float32');
    const db = attrs.bias ? b.makeOutput([N], 'float32') : null;
    const heap = heapOf(b);
    k.gemm(heap, 1, R, K, N, offsetOf(b, dy), N, 1, 0, offsetOf(b, w), 1, N, 0, offsetOf(b, dx), K, 0, 0);
    k.gemm(heap, 1, K, N, R, offsetOf(b, x), 1, K, 0, offsetOf(b, dy), N, 1, 0, offsetOf(b, dw), N, 0, 0);
    if (db) k.colSum(heap, offsetOf(b, dy), offsetOf(b, db), R, N);
    return db ? [dx, dw, db] : [dx, dw];
  },
  [FUSED.swiglu]: (k, b, { gate, up }) => {
    const y = b.makeOutput(gate.shape, 'float32');
    k.swigluFwd(heapOf(b), offsetOf(b, gate), offsetOf(b, up), offsetOf(b, y), size(gate));
    return y;
  },
  [FUSED.swigluGrad]: (k, b, { gate, up, dy }) => {
    const dg = b.makeOutput(gate.shape, 'float32'), du = b.makeOutput(gate.shape, 'float32');
    k.swigluBwd(heapOf(b), offsetOf(b, gate), offsetOf(b, up), offsetOf(b, dy), offsetOf(b, dg), offsetOf(b, du), size(gate));
    return [dg, du];
  },
  // x (B, H, T, Dh) or, with attr bthd = 1, (B, T, H, Dh); cos/sin (CB, 1, T, Dh); the gradient kernel applies
  // the transposed rotation to dy.
  [FUSED.rope]: (k, b, { x, cos, sin }, attrs) => rope(k, b, x, cos, sin, 0, Number(attrs.bthd ?? 0)),
  [FUSED.ropeGrad]: (k, b, { dy, cos, sin }, attrs) => rope(k, b, dy, cos, sin, 1, Number(attrs.bthd ?? 0)),
};

function rope(k: NativeKernels, b: WasmHeapBackend, x: tf.TensorInfo, cos: tf.TensorInfo, sin: tf.TensorInfo, inverse: number, bthd: number): tf.TensorInfo {
  const [B, d1, d2, Dh] = x.shape;
  const [H, T] = bthd ? [d2, d1] : [d1, d2];
  const y = b.makeOutput(x.shape, 'float32');
  k.rope(heapOf(b), offsetOf(b, x), offsetOf(b, cos), offsetOf(b, sin), offsetOf(b, y), B, H, T, Dh, cos.shape[0], inverse, bthd);
  return y;
}

/** Byte offsets and row strides of q, k, v (B, T, heads, hs) inside their tensors (one fused qkv, or three). */
function rowsLayout(b: WasmHeapBackend, inp: Record<string, tf.TensorInfo>, attrs: tf.NamedAttrMap) {
  const H = Number(attrs.heads), Hkv = Number(attrs.kvHeads), hs = Number(attrs.headDim);
  const first = inp.qkv ?? inp.q;
  const [B, T] = first.shape;
  if (inp.qkv) {
    const rs = (H + 2 * Hkv) * hs, base = offsetOf(b, inp.qkv);
    return { B, T, H, Hkv, hs, q: base, qrs: rs, k: base + 4 * H * hs, krs: rs, v: base + 4 * (H + Hkv) * hs, vrs: rs };
  }
  return { B, T, H, Hkv, hs, q: offsetOf(b, inp.q), qrs: H * hs, k: offsetOf(b, inp.k), krs: Hkv * hs, v: offsetOf(b, inp.v), vrs: Hkv * hs };
}

/** Registers every fused kernel for wasm (idempotent). */
export function registerFusedKernels(k: NativeKernels): void {
  for (const [name, body] of Object.entries(bodies)) {
    if (tf.getKernel(name, 'wasm')) continue;
    const kernelFunc = (args: KernelArgs) => {
      const inputs = args.inputs as Record<string, tf.TensorInfo>;
      for (const [key, t] of Object.entries(inputs)) {
        if (t.dtype !== 'float32' && !(key === 'targets' && t.dtype === 'int32')) throw new Error(`${name}: input ${key} must be float32 (got ${t.dtype})`);
      }
      return body(k, args.backend as WasmHeapBackend, inputs, args.attrs ?? {});
    };
    tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: kernelFunc as tf.KernelFunc });
  }
}
