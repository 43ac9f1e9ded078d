/**
 * A replacement for tfjs-backend-wasm's BatchMatMul kernel that sends every product down XNNPACK's fast
 * path. The stock kernel uses XNNPACK only for a plain 2-D product with no transpose; every transposed
 * or batched product (all gradients, attention) falls to a naive loop at 1–2.5 GFLOP/s
 * (measured on 2-core x86: `npm run bench -- engine` reports both). This kernel:
 *   1. materialises transposes with the wasm Transpose kernel,
 *   2. folds a batch that shares one right-hand matrix ((B,T,K)x(K,N)) into one (B·T,K)x(K,N) product,
 *   3. runs the remaining batched products (attention) as 2-D products on zero-copy views of the
 *      operands, written straight into the right slice of the output.
 * The kernel is synchronous, as tfjs requires. `installFastWasmMatMul` / `restoreStockWasmMatMul`
 * switch between it and the stock kernel (the benchmark compares both in one run).
 */
import * as tf from '@tensorflow/tfjs-core';

/** The parts of tfjs-backend-wasm's BackendWasm this kernel touches (it is not exported as a type we can rely on). */
interface WasmBackendLike {
  wasm: {
    cwrap(name: string, ret: null, args: string[]): (...args: unknown[]) => void;
    tfjs: { registerTensor(id: number, size: number, memoryOffset: number): void; disposeData(id: number): void };
  };
  dataIdMap: { get(dataId: object): { id: number; memoryOffset: number } };
  dataIdNextNumber: number;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
}

/** The raw C entry point: (aId, aShape bytes, rank, bId, bShape bytes, rank, transposeA, transposeB, outId). */
type RawBatchMatMul = (
  aId: number, aShape: Uint8Array, aRank: number, bId: number, bShape: Uint8Array, bRank: number,
  transposeA: number, transposeB: number, outId: number,
) => void;

const rawByBackend = new WeakMap<object, RawBatchMatMul>();
let stockConfig: tf.KernelConfig | null = null;

function rawMatMul(backend: WasmBackendLike): RawBatchMatMul {
  let fn = rawByBackend.get(backend);
  if (!fn) {
    fn = backend.wasm.cwrap('BatchMatMul', null, [
      'number', 'array', 'number', 'number', 'array', 'number', 'number', 'number', 'number',
    ]) as unknown as RawBatchMatMul;
    rawByBackend.set(backend, fn);
  }
  return fn;
}

function shapeBytes(shape: number[]): Uint8Array {
  return new Uint8Array(new Int32Array(shape).buffer);
}

/** Swaps the last two axes with the wasm Transpose kernel: a new, contiguous tensor the caller disposes. */
function transposeLastTwo(x: tf.TensorInfo, backend: WasmBackendLike): tf.TensorInfo {
  const rank = x.shape.length;
  const perm = [...Array(rank).keys()];
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  const transpose = tf.getKernel('Transpose', 'wasm').kernelFunc;
  return transpose({ inputs: { x }, backend, attrs: { perm } }) as tf.TensorInfo;
}

/** Flat index into a batch of shape `shape` for the output batch multi-index `outIndex` (broadcasting size-1 axes). */
function broadcastSourceIndex(outIndex: number[], shape: number[]): number {
  const offset = outIndex.length - shape.length;
  let flat = 0;
  for (let i = 0; i < shape.length; i++) {
    const idx = shape[i] === 1 ? 0 : outIndex[i + offset];
    flat = flat * shape[i] + idx;
  }
  return flat;
}

/** Registers a zero-copy view of `size` floats at byte offset `offset`; returns its id (free with tfjs.disposeData). */
function registerView(backend: WasmBackendLike, offset: number, size: number): number {
  const id = backend.dataIdNextNumber++;
  backend.wasm.tfjs.registerTensor(id, size, offset);
  return id;
}

/** A TensorInfo over the same data with another shape (no copy; never disposed on its own). */
function withShape(t: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  return { dataId: t.dataId, shape, dtype: t.dtype };
}

/** out (M, N) = A·B for physical row-major A (M, K) and B (K, N), written into `out` (b packed from a view). */
function product2d(backend: WasmBackendLike, a: tf.TensorInfo, b: tf.TensorInfo, out: tf.TensorInfo, M: number, K: number, N: number): void {
  const raw = rawMatMul(backend);
  const bInfo = backend.dataIdMap.get(b.dataId);
  // b goes in as a view so that the copy XNNPACK packs from it (cached per tensor id) is freed right
  // after the call instead of living as long as b (a weight would otherwise be held twice).
  const bView = registerView(backend, bInfo.memoryOffset, K * N);
  try {
    raw(backend.dataIdMap.get(a.dataId).id, shapeBytes([1, M, K]), 3, bView, shapeBytes([1, K, N]), 3, 0, 0, backend.dataIdMap.get(out.dataId).id);
  } finally {
    backend.wasm.tfjs.disposeData(bView);
  }
}

/**
 * One 2-D product op(A)·op(B) → (M, N). Picks the cheaper of
 *   direct:  transpose what is transposed, pack B (K·N)            cost ta·MK + tb·KN + KN
 *   swapped: C = (op(B)ᵀ·op(A)ᵀ)ᵀ, pack op(A)ᵀ (K·M), transpose C   cost !tb·KN + !ta·MK + KM + MN
 * (the swapped form turns the tied LM head h·Eᵀ, with E (V, D) large, into E·hᵀ: no copy of E).
 */
function matMul2d(backend: WasmBackendLike, a: tf.TensorInfo, b: tf.TensorInfo, ta: boolean, tb: boolean, M: number, K: number, N: number): tf.TensorInfo {
  const direct = (ta ? M * K : 0) + (tb ? K * N : 0) + K * N;
  const swapped = (tb ? 0 : K * N) + (ta ? 0 : M * K) + K * M + M * N;
  const temps: tf.TensorInfo[] = [];
  try {
    if (direct <= swapped) {
      const a2 = ta ? transposeLastTwo(withShape(a, [K, M]), backend) : a; // (M, K)
      if (ta) temps.push(a2);
      const b2 = tb ? transposeLastTwo(withShape(b, [N, K]), backend) : b; // (K, N)
      if (tb) temps.push(b2);
      const out = backend.makeOutput([M, N], 'float32');
      product2d(backend, a2, b2, out, M, K, N);
      return out;
    }
    const left = tb ? b : transposeLastTwo(withShape(b, [K, N]), backend); // (N, K) = op(B)ᵀ
    if (!tb) temps.push(left);
    const right = ta ? a : transposeLastTwo(withShape(a, [M, K]), backend); // (K, M) = op(A)ᵀ
    if (!ta) temps.push(right);
    const outT = backend.makeOutput([N, M], 'float32'); // Cᵀ
    temps.push(outT);
    product2d(backend, left, right, outT, N, K, M);
    return transposeLastTwo(outT, backend); // (M, N)
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

/** The kernel function: same contract as the stock wasm BatchMatMul. */
function fastBatchMatMul(args: { inputs: tf.NamedTensorInfoMap; backend: {}; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const a0 = args.inputs.a as tf.TensorInfo;
  const b0 = args.inputs.b as tf.TensorInfo;
  const transposeA = Boolean(args.attrs?.transposeA);
  const transposeB = Boolean(args.attrs?.transposeB);
  if (a0.dtype !== 'float32' || b0.dtype !== 'float32') {
    throw new Error('BatchMatMul: only float32 tensors are supported on wasm.');
  }
  const rankA = a0.shape.length;
  const rankB = b0.shape.length;
  const M = transposeA ? a0.shape[rankA - 1] : a0.shape[rankA - 2];
  const K = transposeA ? a0.shape[rankA - 2] : a0.shape[rankA - 1];
  const kB = transposeB ? b0.shape[rankB - 1] : b0.shape[rankB - 2];
  const N = transposeB ? b0.shape[rankB - 2] : b0.shape[rankB - 1];
  if (kB !== K) {
    throw new Error(
      `Error in matMul: inner shapes (${K}) and (${kB}) of Tensors with shapes ` +
        `${a0.shape} and ${b0.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`,
    );
  }
  const batchShapeA = a0.shape.slice(0, -2);
  const batchShapeB = b0.shape.slice(0, -2);
  const outBatchShape = tf.broadcast_util.assertAndGetBroadcastShape(batchShapeA, batchShapeB);
  const outShape = [...outBatchShape, M, N];
  const batchA = tf.util.sizeFromShape(batchShapeA);
  const batchB = tf.util.sizeFromShape(batchShapeB);
  const outBatch = tf.util.sizeFromShape(outBatchShape);
  if (outBatch * M * N === 0 || K === 0) {
    const out = backend.makeOutput(outShape, 'float32');
    if (K === 0 && outBatch * M * N > 0) throw new Error('BatchMatMul: inner dimension 0 is not supported on wasm.');
    return out;
  }
  if (batchB === 1 && (batchA === 1 || !transposeA)) {
    // One 2-D product; a batch sharing the right-hand matrix ((B,T,K)x(K,N)) folds into (B·T, K)x(K, N).
    const res = matMul2d(backend, a0, b0, transposeA, transposeB, batchA * M, K, N);
    return withShape(res, outShape);
  }
  // Batched products (attention): transpose explicitly, then one 2-D product per output batch entry,
  // on zero-copy views of the operands, written straight into the output.
  const temps: tf.TensorInfo[] = [];
  const a = transposeA ? transposeLastTwo(a0, backend) : a0; // (...batchA, M, K)
  if (transposeA) temps.push(a);
  const b = transposeB ? transposeLastTwo(b0, backend) : b0; // (...batchB, K, N)
  if (transposeB) temps.push(b);
  try {
    const out = backend.makeOutput(outShape, 'float32');
    const raw = rawMatMul(backend);
    const aInfo = backend.dataIdMap.get(a.dataId);
    const bInfo = backend.dataIdMap.get(b.dataId);
    const outInfo = backend.dataIdMap.get(out.dataId);
    const outIndex = new Array<number>(outBatchShape.length).fill(0);
    const mkShape = shapeBytes([1, M, K]);
    const knShape = shapeBytes([1, K, N]);
    for (let o = 0; o < outBatch; o++) {
      let rem = o;
      for (let d = outBatchShape.length - 1; d >= 0; d--) {
        outIndex[d] = rem % outBatchShape[d];
        rem = Math.floor(rem / outBatchShape[d]);
      }
      const ia = broadcastSourceIndex(outIndex, batchShapeA);
      const ib = broadcastSourceIndex(outIndex, batchShapeB);
      const aView = registerView(backend, aInfo.memoryOffset + ia * M * K * 4, M * K);
      const bView = registerView(backend, bInfo.memoryOffset + ib * K * N * 4, K * N);
      const outView = registerView(backend, outInfo.memoryOffset + o * M * N * 4, M * N);
      try {
        raw(aView, mkShape, 3, bView, knShape, 3, 0, 0, outView);
      } finally {
        backend.wasm.tfjs.disposeData(aView);
        backend.wasm.tfjs.disposeData(bView);
        backend.wasm.tfjs.disposeData(outView);
      }
    }
    return out;
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

/** True when the fast kernel is the one registered for wasm. */
export function fastWasmMatMulInstalled(): boolean {
  return stockConfig !== null;
}

/** Replaces wasm's BatchMatMul with the fast kernel (idempotent). Requires the wasm backend to be registered. */
export function installFastWasmMatMul(): void {
  if (stockConfig) return;
  const stock = tf.getKernel('BatchMatMul', 'wasm');
  if (!stock) throw new Error('installFastWasmMatMul: the wasm backend is not registered.');
  stockConfig = stock;
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({ kernelName: 'BatchMatMul', backendName: 'wasm', kernelFunc: fastBatchMatMul });
}

/** Puts the stock wasm BatchMatMul back (idempotent). */
export function restoreStockWasmMatMul(): void {
  if (!stockConfig) return;
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel(stockConfig);
  stockConfig = null;
}
