/**
 * Installs / removes every kernel override the engine uses on the active backends.
 * Today: the fast wasm BatchMatMul and a wasm UnsortedSegmentSum (stock wasm has none, so the gradient
 * of tf.gather would throw).
 */
import * as tf from '@tensorflow/tfjs-core';
import { installFastWasmMatMul, restoreStockWasmMatMul, fastWasmMatMulInstalled } from './wasm-matmul';
import { ensureWasmSegmentSum } from './wasm-segment-sum';

export { installFastWasmMatMul, restoreStockWasmMatMul, fastWasmMatMulInstalled };

/** Installs the fast kernels for every registered backend that has overrides (idempotent). */
export function installFastKernels(): void {
  if (tf.findBackendFactory('wasm')) {
    installFastWasmMatMul();
    ensureWasmSegmentSum();
  }
}

/** Restores the stock matmul (the segment-sum kernel stays: it adds a missing kernel, it replaces nothing). */
export function restoreStockKernels(): void {
  if (tf.findBackendFactory('wasm')) {
    restoreStockWasmMatMul();
    ensureWasmSegmentSum();
  }
}
