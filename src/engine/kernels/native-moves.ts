/**
 * Add, Slice, Transpose, GatherV2 and UnsortedSegmentSum for tfjs-backend-wasm on the native kernels
 * (native/src/moves.c): the stock wasm kernels run these as generic scalar loops, ~1 ms for one
 * residual add of the built-in model's step. Each handles the float32 cases of the training step and
 * hands anything else to the stock kernel: Add with equal shapes or one operand broadcast over the
 * other's leading axes (biases), Slice and Transpose up to rank 4 (one strided copy), GatherV2 of rows
 * (axis 0, no batch dims), the row scatter-add of an embedding gradient. Every result equals the stock
 * kernel's bit for bit (the same single float add, or a copy).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NativeKernels } from './native';
import { heapOf, offsetOf, type WasmHeapBackend } from './wasm-heap';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: {}; attrs?: tf.NamedAttrMap };
type Stock = tf.KernelFunc;
const size = (t: tf.TensorInfo) => tf.util.sizeFromShape(t.shape);

/** True when `small` broadcasts over the leading axes of `big` (output shape = big's): no more axes, and its shape less leading 1s ends big's. */
function trailingOf(small: number[], big: number[]): boolean {
  if (small.length > big.length) return false;
  let s = 0;
  while (s < small.length && small[s] === 1) s++;
  const rest = small.slice(s), tail = big.slice(big.length - rest.length);
  return rest.every((d, i) => d === tail[i]);
}

export function makeNativeAdd(k: NativeKernels, stock: Stock): tf.KernelFunc {
  return (args: KernelArgs) => {
    const a = args.inputs.a as tf.TensorInfo, b = args.inputs.b as tf.TensorInfo;
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return stock(args as Parameters<Stock>[0]);
    const na = size(a), nb = size(b);
    const same = tf.util.arraysEqual(a.shape, b.shape);
    // The bigger operand keeps its shape; the other repeats over its leading axes. a + b = b + a exactly.
    const [big, small] = na >= nb ? [a, b] : [b, a];
    if (!same && !trailingOf(small.shape, big.shape)) return stock(args as Parameters<Stock>[0]);
    const backend = args.backend as WasmHeapBackend;
    const out = backend.makeOutput(big.shape, 'float32');
    if (size(big) === 0) return out;
    k.addBcast(heapOf(backend), offsetOf(backend, big), offsetOf(backend, small), offsetOf(backend, out), size(big), Math.max(1, size(small)));
    return out;
  };
}

/** Copies x's elements at the 4-D strided view (shape, strides from `offset`) into a new tensor of `outShape`. */
function stridedCopy(k: NativeKernels, backend: WasmHeapBackend, x: tf.TensorInfo, outShape: number[], shape: number[], strides: number[], offset: number): tf.TensorInfo {
  const out = backend.makeOutput(outShape, x.dtype);
  if (tf.util.sizeFromShape(outShape) === 0) return out;
  const pad = 4 - shape.length;
  const s4 = [...Array(pad).fill(1), ...shape], t4 = [...Array(pad).fill(0), ...strides];
  k.stridedCopy(heapOf(backend), offsetOf(backend, x) + 4 * offset, offsetOf(backend, out), s4[0], s4[1], s4[2], s4[3], t4[0], t4[1], t4[2], t4[3]);
  return out;
}

const copyable = (x: tf.TensorInfo) => (x.dtype === 'float32' || x.dtype === 'int32') && x.shape.length >= 1 && x.shape.length <= 4;

export function makeNativeSlice(k: NativeKernels, stock: Stock): tf.KernelFunc {
  return (args: KernelArgs) => {
    const x = args.inputs.x as tf.TensorInfo;
    if (!copyable(x)) return stock(args as Parameters<Stock>[0]);
    const [begin, sz] = tf.slice_util.parseSliceParams(x as unknown as tf.Tensor, args.attrs!.begin as number[], args.attrs!.size as number[]);
    tf.slice_util.assertParamsValid(x as unknown as tf.Tensor, begin, sz);
    const strides = tf.util.computeStrides(x.shape).concat(1);
    const offset = begin.reduce((acc, b0, i) => acc + b0 * strides[i], 0);
    return stridedCopy(k, args.backend as WasmHeapBackend, x, sz, sz, strides, offset);
  };
}

export function makeNativeTranspose(k: NativeKernels, stock: Stock): tf.KernelFunc {
  return (args: KernelArgs) => {
    const x = args.inputs.x as tf.TensorInfo;
    if (!copyable(x)) return stock(args as Parameters<Stock>[0]);
    const perm = args.attrs!.perm as number[];
    const strides = tf.util.computeStrides(x.shape).concat(1);
    const outShape = perm.map((p) => x.shape[p]);
    return stridedCopy(k, args.backend as WasmHeapBackend, x, outShape, outShape, perm.map((p) => strides[p]), 0);
  };
}

export function makeNativeGather(k: NativeKernels, stock: Stock): tf.KernelFunc {
  return (args: KernelArgs) => {
    const x = args.inputs.x as tf.TensorInfo, indices = args.inputs.indices as tf.TensorInfo;
    const axis = tf.util.parseAxisParam(args.attrs!.axis as number, x.shape)[0];
    if (x.dtype !== 'float32' || indices.dtype !== 'int32' || axis !== 0 || Number(args.attrs!.batchDims ?? 0) !== 0 || x.shape.length < 1) {
      return stock(args as Parameters<Stock>[0]);
    }
    const backend = args.backend as WasmHeapBackend;
    const V = x.shape[0], D = tf.util.sizeFromShape(x.shape.slice(1)), n = size(indices);
    const out = backend.makeOutput([...indices.shape, ...x.shape.slice(1)], 'float32');
    if (n * D === 0) return out;
    const bad = k.gatherRows(heapOf(backend), offsetOf(backend, x), offsetOf(backend, indices), offsetOf(backend, out), n, D, V);
    if (bad >= 0) {
      const id = new Int32Array(heapOf(backend), offsetOf(backend, indices), n)[bad];
      backend.disposeData(out.dataId, true);
      throw new Error(`GatherV2: the index value ${id} is not in [0, ${V - 1}]`);
    }
    return out;
  };
}

export function makeNativeSegmentSum(k: NativeKernels, stock: Stock): tf.KernelFunc {
  return (args: KernelArgs) => {
    const x = args.inputs.x as tf.TensorInfo, ids = args.inputs.segmentIds as tf.TensorInfo;
    if (x.dtype !== 'float32' || ids.dtype !== 'int32' || ids.shape.length !== 1 || ids.shape[0] !== x.shape[0]) return stock(args as Parameters<Stock>[0]);
    const backend = args.backend as WasmHeapBackend;
    const S = Number(args.attrs!.numSegments), D = tf.util.sizeFromShape(x.shape.slice(1));
    const out = backend.makeOutput([S, ...x.shape.slice(1)], 'float32');
    if (S * D === 0) return out;
    k.segmentSum(heapOf(backend), offsetOf(backend, x), offsetOf(backend, ids), offsetOf(backend, out), x.shape[0], D, S);
    return out;
  };
}
