/**
 * Tests of the native Add / Slice / Transpose / GatherV2 / UnsortedSegmentSum kernels
 * (src/engine/kernels/native-moves.ts, native/src/moves.c): on the training step's shapes and on the
 * cases they hand back to the stock kernel, each result equals tfjs' stock wasm kernel bit for bit, and
 * is the same for 1 to 4 threads; a gather index out of range is an error naming it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/engine/backend';
import { kernelMode, setKernelMode } from '../../src/engine/kernels/index';
import { nativeKernels, setEngineThreads } from '../../src/engine/kernels/native';
import { rng } from './engine-reference';

const shipped = `${process.platform}-${process.arch}` === 'linux-x64';

function rand(shape: number[], seed: number): tf.Tensor {
  const r = rng(seed);
  return tf.tensor(Float32Array.from({ length: shape.reduce((p, q) => p * q, 1) }, () => r()), shape);
}

/** Every case's output as raw bytes (and dtype/shape), computed with whatever kernels are installed. */
async function outputs(): Promise<Map<string, { shape: number[]; dtype: string; bytes: Uint8Array }>> {
  const out = new Map<string, { shape: number[]; dtype: string; bytes: Uint8Array }>();
  const keep = async (name: string, t: tf.Tensor) => {
    const data = await t.data();
    out.set(name, { shape: t.shape, dtype: t.dtype, bytes: new Uint8Array(data.slice().buffer) });
    t.dispose();
  };
  const x = rand([3, 70, 50], 1), y = rand([3, 70, 50], 2);
  const big = rand([600, 520], 3), bias = rand([520], 4), col = rand([600, 1], 5);
  const ints = tf.tensor([1, 2, 3, 4, 5, 6], [2, 3], 'int32');
  await keep('add same shape', tf.add(x, y));
  await keep('add bias (threaded: 312,000 elements)', tf.add(big, bias));
  await keep('add bias first', tf.add(bias, big));
  await keep('add (1, 520) + (600, 520)', tf.add(tf.reshape(bias, [1, 520]), big));
  await keep('add (1, 1, 520) + (600, 520): more axes, stock', tf.add(tf.reshape(bias, [1, 1, 520]), big));
  await keep('add column broadcast: stock', tf.add(big, col));
  await keep('add int32: stock', tf.add(ints, ints));
  await keep('slice 3-D', tf.slice(x, [1, 5, 7], [2, -1, 20]));
  await keep('slice weight columns', tf.slice(big, [0, 128], [600, 128]));
  await keep('slice 1-D', tf.slice(bias, [10], [100]));
  await keep('slice int32', tf.slice(ints, [0, 1], [2, 2]));
  await keep('slice rank 5: stock', tf.slice(tf.reshape(x, [3, 7, 10, 5, 10]), [1, 0, 2, 1, 3], [2, 7, 3, 2, 5]));
  await keep('transpose heads', tf.transpose(tf.reshape(big, [2, 300, 13, 40]), [0, 2, 1, 3]));
  await keep('transpose 2-D', tf.transpose(big));
  await keep('transpose 3-D', tf.transpose(x, [2, 0, 1]));
  const table = rand([97, 24], 6);
  const ids = tf.tensor2d(Array.from({ length: 120 }, (_, i) => (i * 37) % 97), [3, 40], 'int32');
  await keep('gather rows', tf.gather(table, ids));
  await keep('gather axis 1: stock', tf.gather(table, tf.tensor1d([3, 0, 23], 'int32'), 1));
  const seg = tf.tensor1d(Array.from({ length: 700 }, (_, i) => (i % 11 === 0 ? -1 : i % 13 === 0 ? 40 : (i * 7) % 30)), 'int32');
  await keep('segment sum (repeats, ids out of range dropped)', tf.unsortedSegmentSum(rand([700, 200], 7), seg, 30));
  tf.dispose([x, y, big, bias, col, ints, table, ids, seg]);
  return out;
}

test('native Add / Slice / Transpose / GatherV2 / UnsortedSegmentSum equal the stock kernels bit for bit, for 1 to 4 threads', async () => {
  if (!shipped) return;
  await initBackend('wasm');
  assert.equal(kernelMode(), 'native');
  const native: Map<string, { shape: number[]; dtype: string; bytes: Uint8Array }>[] = [];
  for (const threads of [1, 2, 3, 4]) {
    setEngineThreads(threads);
    native.push(await outputs());
  }
  setEngineThreads(nativeKernels()!.cores());
  setKernelMode('stock');
  const stock = await outputs();
  setKernelMode('native');
  for (const [name, want] of stock) {
    for (const [i, run] of native.entries()) {
      const got = run.get(name)!;
      assert.deepEqual(got.shape, want.shape, `${name}: shape`);
      assert.equal(got.dtype, want.dtype, `${name}: dtype`);
      assert.deepEqual(got.bytes, want.bytes, `${name}: ${i + 1} thread(s) differ from the stock kernel`);
    }
  }
});

test('native GatherV2: an index outside the table is an error naming it, and nothing is left allocated', async () => {
  if (!shipped) return;
  await initBackend('wasm');
  assert.equal(kernelMode(), 'native');
  const table = rand([10, 4], 8);
  const ids = tf.tensor1d([1, 2, 12, 3], 'int32');
  const before = tf.memory().numTensors;
  const bytesBefore = tf.memory().numBytes;
  assert.throws(() => tf.gather(table, ids), /GatherV2: the index value 12 is not in \[0, 9\]/);
  assert.equal(tf.memory().numTensors, before);
  assert.equal(tf.memory().numBytes, bytesBefore);
  tf.dispose([table, ids]);
});
