/**
 * What the native kernels need from tfjs-backend-wasm: the heap (an ArrayBuffer, replaced whenever the
 * wasm memory grows, so it is read after every allocation) and the byte offset of a tensor in it.
 */
import * as tf from '@tensorflow/tfjs-core';

/** The parts of tfjs-backend-wasm's BackendWasm the native kernels touch. */
export interface WasmHeapBackend {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: object): { id: number; memoryOffset: number; refCount: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
}

/** The current heap buffer (read it after the last makeOutput of a kernel: growth replaces it). */
export function heapOf(backend: WasmHeapBackend): ArrayBuffer {
  return backend.wasm.HEAPU8.buffer as ArrayBuffer;
}

/** Byte offset of a tensor's data in the heap. */
export function offsetOf(backend: WasmHeapBackend, t: tf.TensorInfo): number {
  const info = backend.dataIdMap.get(t.dataId);
  if (!info) throw new Error('native kernel: a tensor is not on the wasm backend');
  return info.memoryOffset;
}

/** The active backend as a WasmHeapBackend, or null when the active backend is not wasm. */
export function activeWasmBackend(): WasmHeapBackend | null {
  return tf.getBackend() === 'wasm' ? (tf.backend() as unknown as WasmHeapBackend) : null;
}
