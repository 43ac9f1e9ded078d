/**
 * UnsortedSegmentSum for tfjs-backend-wasm, which has none (so the stock gradient of tf.gather throws
 * there). x (N, ...inner) float32, segmentIds (N) int32 → (numSegments, ...inner): row i of x is added
 * to row segmentIds[i] of the output; ids outside [0, numSegments) are dropped, as in TensorFlow.
 * Written in JavaScript over the wasm heap: an embedding gradient is a few hundred thousand adds.
 */
import * as tf from '@tensorflow/tfjs-core';

interface WasmHeapBackend {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

function heapView(backend: WasmHeapBackend, t: tf.TensorInfo): Float32Array | Int32Array {
  const { memoryOffset } = backend.dataIdMap.get(t.dataId);
  const size = tf.util.sizeFromShape(t.shape);
  const buf = backend.wasm.HEAPU8.buffer;
  return t.dtype === 'int32' ? new Int32Array(buf, memoryOffset, size) : new Float32Array(buf, memoryOffset, size);
}

function unsortedSegmentSum(args: { inputs: tf.NamedTensorInfoMap; backend: {}; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const backend = args.backend as WasmHeapBackend;
  const x = args.inputs.x as tf.TensorInfo;
  const ids = args.inputs.segmentIds as tf.TensorInfo;
  const numSegments = Number(args.attrs?.numSegments);
  if (x.dtype !== 'float32') throw new Error('UnsortedSegmentSum (wasm): x must be float32.');
  if (ids.shape.length !== 1 || ids.shape[0] !== x.shape[0]) {
    throw new Error(`UnsortedSegmentSum (wasm): segmentIds must be 1-D of length x.shape[0]; got ${ids.shape} for x ${x.shape}.`);
  }
  const inner = tf.util.sizeFromShape(x.shape.slice(1));
  const out = backend.makeOutput([numSegments, ...x.shape.slice(1)], 'float32');
  // Views are taken after makeOutput: a malloc may grow (and so replace) the heap buffer.
  const outView = heapView(backend, out) as Float32Array;
  outView.fill(0);
  const xView = heapView(backend, x) as Float32Array;
  const idsView = ids.dtype === 'int32' ? (heapView(backend, ids) as Int32Array) : Float32Array.from(heapView(backend, ids));
  for (let i = 0; i < idsView.length; i++) {
    const s = idsView[i];
    if (s < 0 || s >= numSegments) continue;
    const src = i * inner;
    const dst = s * inner;
    for (let j = 0; j < inner; j++) outView[dst + j] += xView[src + j];
  }
  return out;
}

/** Registers the kernel for wasm unless a UnsortedSegmentSum kernel already exists there (idempotent). */
export function ensureWasmSegmentSum(): void {
  if (!tf.findBackendFactory('wasm')) return;
  if (tf.getKernel('UnsortedSegmentSum', 'wasm')) return;
  tf.registerKernel({ kernelName: 'UnsortedSegmentSum', backendName: 'wasm', kernelFunc: unsortedSegmentSum });
}
