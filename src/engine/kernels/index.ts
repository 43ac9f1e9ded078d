/**
 * Installs / removes the kernel overrides the engine uses on the wasm backend, in one of three modes:
 *   native: the native addon (./native): threaded GEMM for BatchMatMul (transposes as strides), Sum over
 *           leading axes as column sums, Add / Slice / Transpose / GatherV2 / UnsortedSegmentSum
 *           (./native-moves), and the fused kernels ops.ts uses (./native-fused);
 *   wasm:   the XNNPACK BatchMatMul (./wasm-matmul), single-threaded; the fallback where the addon
 *           does not load;
 *   stock:  tfjs' own kernels (DAP_STOCK_KERNELS=1; the benchmark's baseline).
 * Every mode adds a wasm UnsortedSegmentSum (stock wasm has none, so the gradient of tf.gather would throw).
 * Native and wasm modes also make Identity share its input's data (as Reshape and the cpu backend do)
 * instead of copying it: tfjs clones every tensor it saves for the backward pass, and tensors are
 * immutable, so the copy only costs time and memory.
 */
import * as tf from '@tensorflow/tfjs-core';
import { installFastWasmMatMul as installXnnpackMatMul, restoreStockWasmMatMul as restoreXnnpackMatMul } from './wasm-matmul';
import { ensureWasmSegmentSum } from './wasm-segment-sum';
import { nativeKernels, nativeLoadError } from './native';
import { makeNativeBatchMatMul, makeNativeSum } from './native-matmul';
import { registerFusedKernels } from './native-fused';
import { makeNativeAdd, makeNativeGather, makeNativeSegmentSum, makeNativeSlice, makeNativeTranspose } from './native-moves';


/** Kernels replaced in native mode by ./native-moves, each falling back to the stock kernel it wraps. */
const NATIVE_MOVES: Record<string, (k: NonNullable<ReturnType<typeof nativeKernels>>, stock: tf.KernelFunc) => tf.KernelFunc> = {
  Add: makeNativeAdd, Slice: makeNativeSlice, Transpose: makeNativeTranspose, GatherV2: makeNativeGather, UnsortedSegmentSum: makeNativeSegmentSum,
};

/** Which kernels run on wasm. */
export type KernelMode = 'native' | 'wasm' | 'stock';

let mode: KernelMode = 'stock';
const stockConfigs = new Map<string, tf.KernelConfig>();

function overrideWasm(name: string, kernelFunc: tf.KernelFunc): void {
  if (!stockConfigs.has(name)) {
    const stock = tf.getKernel(name, 'wasm');
    if (!stock) throw new Error(`kernels: wasm has no ${name} kernel to replace`);
    stockConfigs.set(name, stock);
  }
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc });
}

function restoreWasm(name: string): void {
  const stock = stockConfigs.get(name);
  if (!stock) return;
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel(stock);
  stockConfigs.delete(name);
}

/** Identity without a copy: the output shares the input's data (reference counted). */
function sharedIdentity(args: { inputs: tf.NamedTensorInfoMap; backend: {} }): tf.TensorInfo {
  const x = args.inputs.x as tf.TensorInfo;
  (args.backend as { incRef(dataId: object): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/**
 * Switches the wasm kernels to `want` and returns the mode in force: 'native' falls back to 'wasm'
 * when the addon does not load (nativeLoadError() says why). Idempotent; needs the wasm backend registered.
 */
export function setKernelMode(want: KernelMode): KernelMode {
  if (!tf.findBackendFactory('wasm')) return mode;
  ensureWasmSegmentSum();
  const k = want === 'native' ? nativeKernels() : null;
  const next: KernelMode = want === 'native' && !k ? 'wasm' : want;
  if (next === mode) return mode;
  for (const name of ['BatchMatMul', 'Sum', 'Identity', ...Object.keys(NATIVE_MOVES)]) restoreWasm(name);
  restoreXnnpackMatMul();
  if (next === 'native' && k) {
    registerFusedKernels(k);
    const stockSum = tf.getKernel('Sum', 'wasm')!.kernelFunc;
    overrideWasm('BatchMatMul', makeNativeBatchMatMul(k));
    overrideWasm('Sum', makeNativeSum(k, stockSum));
    for (const [name, make] of Object.entries(NATIVE_MOVES)) overrideWasm(name, make(k, tf.getKernel(name, 'wasm')!.kernelFunc));
  } else if (next === 'wasm') {
    installXnnpackMatMul();
  }
  if (next !== 'stock') overrideWasm('Identity', sharedIdentity);
  mode = next;
  return mode;
}

/** The mode set last. */
export function kernelMode(): KernelMode {
  return mode;
}

/** True when ops.ts should use the fused native kernels: native mode and wasm the active backend. */
export function fusedKernelsActive(): boolean {
  return mode === 'native' && tf.getBackend() === 'wasm';
}

/** Installs the fastest kernels available (native, else the XNNPACK matmul); returns the mode. */
export function installFastKernels(): KernelMode {
  return setKernelMode('native');
}

/** Restores the stock kernels (the segment-sum kernel stays: it adds a missing kernel, it replaces nothing). */
export function restoreStockKernels(): void {
  setKernelMode('stock');
}

/** The XNNPACK wasm matmul (mode 'wasm'). */
export function installFastWasmMatMul(): void {
  setKernelMode('wasm');
}

/** tfjs' stock kernels (mode 'stock'). */
export function restoreStockWasmMatMul(): void {
  setKernelMode('stock');
}

/** True in mode 'wasm'. */
export function fastWasmMatMulInstalled(): boolean {
  return mode === 'wasm';
}

export { nativeLoadError };
