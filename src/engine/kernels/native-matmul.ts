/**
 * BatchMatMul and Sum for tfjs-backend-wasm on the native kernels. BatchMatMul hands transposed
 * operands to the native GEMM as swapped strides (nothing is transposed or copied), folds a batch that
 * shares one right-hand matrix ((B,T,K)x(K,N)) into one (B·T,K)x(K,N) product, and runs batched products
 * (attention) as one strided batched GEMM. Sum over leading axes (the gradient of a bias, a broadcast add)
 * becomes a column sum, where the stock kernel transposes the tensor first; other reductions go to the
 * stock kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NativeKernels } from './native';
import { heapOf, offsetOf, type WasmHeapBackend } from './wasm-heap';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: {}; attrs?: tf.NamedAttrMap };

/** Batch offsets of a (possibly broadcast) batch shape inside the output batch, or null when not a plain stride. */
function batchStride(batchShape: number[], outBatchShape: number[], matrixSize: number): number | null {
  const size = tf.util.sizeFromShape(batchShape);
  if (size === 1) return 0;
  const outSize = tf.util.sizeFromShape(outBatchShape);
  if (size === outSize) return matrixSize;
  return null;
}

/** Flat index into batch shape `shape` of output batch entry `o` (broadcasting size-1 axes). */
function sourceIndex(o: number, outBatchShape: number[], shape: number[]): number {
  const idx: number[] = [];
  let rem = o;
  for (let d = outBatchShape.length - 1; d >= 0; d--) {
    idx[d] = rem % outBatchShape[d];
    rem = Math.floor(rem / outBatchShape[d]);
  }
  const offset = outBatchShape.length - shape.length;
  let flat = 0;
  for (let i = 0; i < shape.length; i++) flat = flat * shape[i] + (shape[i] === 1 ? 0 : idx[i + offset]);
  return flat;
}

export function makeNativeBatchMatMul(k: NativeKernels): tf.KernelFunc {
  return (args: KernelArgs): tf.TensorInfo => {
    const backend = args.backend as WasmHeapBackend;
    const a = args.inputs.a as tf.TensorInfo;
    const b = args.inputs.b as tf.TensorInfo;
    const ta = Boolean(args.attrs?.transposeA);
    const tb = Boolean(args.attrs?.transposeB);
    if (a.dtype !== 'float32' || b.dtype !== 'float32') throw new Error('BatchMatMul: only float32 tensors are supported on wasm.');
    const ra = a.shape.length, rb = b.shape.length;
    const M = ta ? a.shape[ra - 1] : a.shape[ra - 2];
    const K = ta ? a.shape[ra - 2] : a.shape[ra - 1];
    const kB = tb ? b.shape[rb - 1] : b.shape[rb - 2];
    const N = tb ? b.shape[rb - 2] : b.shape[rb - 1];
    if (kB !== K) {
      throw new Error(`Error in matMul: inner shapes (${K}) and (${kB}) of Tensors with shapes ${a.shape} and ${b.shape} and transposeA=${ta} and transposeB=${tb} must match.`);
    }
    const batchA = a.shape.slice(0, -2), batchB = b.shape.slice(0, -2);
    const outBatchShape = tf.broadcast_util.assertAndGetBroadcastShape(batchA, batchB);
    const out = backend.makeOutput([...outBatchShape, M, N], 'float32');
    const outBatch = tf.util.sizeFromShape(outBatchShape);
    if (outBatch * M * N === 0) return out;
    const heap = heapOf(backend);
    const aOff = offsetOf(backend, a), bOff = offsetOf(backend, b), cOff = offsetOf(backend, out);
    // A(m, k) = a[m·rsa + k·csa]: row-major (M, K), or (K, M) read transposed.
    const [rsa, csa] = ta ? [1, M] : [K, 1];
    const [rsb, csb] = tb ? [1, K] : [N, 1];
    const nA = tf.util.sizeFromShape(batchA), nB = tf.util.sizeFromShape(batchB);
    if (nB === 1 && !ta) {
      k.gemm(heap, 1, nA * M, N, K, aOff, rsa, csa, 0, bOff, rsb, csb, 0, cOff, N, 0, 0); // (B·M, K)x(K, N)
      return out;
    }
    const sa = batchStride(batchA, outBatchShape, M * K), sb = batchStride(batchB, outBatchShape, K * N);
    if (sa !== null && sb !== null) {
      k.gemm(heap, outBatch, M, N, K, aOff, rsa, csa, sa, bOff, rsb, csb, sb, cOff, N, M * N, 0);
      return out;
    }
    for (let o = 0; o < outBatch; o++) { // general broadcasting: one product per output entry
      const ia = sourceIndex(o, outBatchShape, batchA), ib = sourceIndex(o, outBatchShape, batchB);
      k.gemm(heap, 1, M, N, K, aOff + 4 * ia * M * K, rsa, csa, 0, bOff + 4 * ib * K * N, rsb, csb, 0, cOff + 4 * o * M * N, N, 0, 0);
    }
    return out;
  };
}

/** Sum kernel: leading-axes float32 reductions as native column sums, everything else to `stock`. */
export function makeNativeSum(k: NativeKernels, stock: tf.KernelFunc): tf.KernelFunc {
  return (args: KernelArgs) => {
    const x = args.inputs.x as tf.TensorInfo;
    const rank = x.shape.length;
    const axes = tf.util.parseAxisParam(args.attrs?.axis as number | number[], x.shape).sort((p, q) => p - q);
    const leading = axes.length > 0 && axes.length < rank && axes.every((ax, i) => ax === i);
    if (x.dtype !== 'float32' || !leading || x.shape[0] === 0) return stock(args as Parameters<tf.KernelFunc>[0]);
    const backend = args.backend as WasmHeapBackend;
    const R = tf.util.sizeFromShape(x.shape.slice(0, axes.length));
    const rest = x.shape.slice(axes.length);
    const keep = Boolean(args.attrs?.keepDims);
    const out = backend.makeOutput(keep ? [...axes.map(() => 1), ...rest] : rest, 'float32');
    k.colSum(heapOf(backend), offsetOf(backend, x), offsetOf(backend, out), R, tf.util.sizeFromShape(rest));
    return out;
  };
}
