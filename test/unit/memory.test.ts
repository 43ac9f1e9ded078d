/**
 * Memory of a training step (src/engine/memory.ts, the AdamW update, the native kernels): over a
 * model-size sweep the measured peak of a full step (forward, backward, gradient norm, AdamW) stays
 * within weights + gradients + optimizer state + activations as planned, and the plan is not loose;
 * AdamW's own temporaries stay below a few copies of the largest variable (not of all of them);
 * a plan beyond the wasm heap or the machine is refused with the numbers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/engine/backend';
import { gpt2ConfigJson, parseConfig, type ModelConfig } from '../../src/engine/config';
import { checkTrainingFits, trainingMemoryPlan, WASM_HEAP_LIMIT } from '../../src/engine/memory';
import { createRandomModel } from '../../src/engine/models';
import * as ops from '../../src/engine/ops';
import { AdamW, clipScale, globalGradNorm } from '../../src/train/stage/optimizer';
import { runTraining } from '../../src/train/pipeline/index';
import type { TrainEvent } from '../../src/train/runs/events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function gpt2(D: number, L: number, V: number, T: number): ModelConfig {
  return parseConfig(gpt2ConfigJson({ vocabSize: V, maxPositions: T, hiddenSize: D, numLayers: L, numHeads: 4 }), `test d${D}`);
}

/**
 * Counts the bytes of tensor data on the wasm heap, live and peak, from the backend's own allocations
 * (move) and releases (disposeData that frees). tf.memory().numBytes counts every tensor handle, so data
 * shared by a reshape or a clone would count twice there. Buffers that existed before tracking count
 * from 0 and are subtracted when freed, so `live` is relative to the start.
 */
function trackWasmHeap(): { live: () => number; peakSince: (reset: boolean) => number; stop: () => void } {
  type Entry = { shape: number[]; dtype: tf.DataType };
  const backend = tf.backend() as unknown as {
    move(dataId: object, values: unknown, shape: number[], dtype: tf.DataType, refCount: number): void;
    disposeData(dataId: object, force?: boolean): boolean;
    dataIdMap: { get(d: object): Entry | undefined; has(d: object): boolean };
  };
  const { move, disposeData } = backend;
  const bytes = (e: Entry) => tf.util.sizeFromShape(e.shape) * (e.dtype === 'float32' || e.dtype === 'int32' ? 4 : 1);
  let live = 0, peak = 0;
  backend.move = function (dataId, values, shape, dtype, refCount) {
    move.call(backend, dataId, values, shape, dtype, refCount);
    live += bytes({ shape, dtype });
    peak = Math.max(peak, live);
  };
  backend.disposeData = function (dataId, force) {
    const e = backend.dataIdMap.get(dataId);
    const freed = disposeData.call(backend, dataId, force);
    if (e && !backend.dataIdMap.has(dataId)) live -= bytes(e);
    return freed;
  };
  return {
    live: () => live,
    peakSince: (reset: boolean) => {
      const v = peak;
      if (reset) peak = live;
      return v;
    },
    stop: () => {
      backend.move = move;
      backend.disposeData = disposeData;
    },
  };
}

/** Peak wasm heap bytes of one full AdamW training step (after a first step created every state tensor). */
async function stepPeak(c: ModelConfig, rows: number, T: number): Promise<{ peak: number; leaked: number; params: number }> {
  const model = createRandomModel(c, 1);
  const ids = tf.tensor2d(Int32Array.from({ length: rows * T }, (_, i) => (i * 31) % c.vocabSize), [rows, T], 'int32');
  const mask = tf.ones([rows, T]) as tf.Tensor2D;
  const vars = model.trainableVariables();
  const opt = new AdamW(vars, { weightDecay: 0.01 });
  const step = async () => {
    const { value, grads } = tf.variableGrads(() => {
      const logits = model.forward(ids, mask); // (B, T, V)
      return tf.neg(tf.mean(ops.pickLogProbs(logits, ids))) as tf.Scalar;
    }, vars);
    const list = vars.map((v) => grads[v.name]);
    opt.apply(list, 1e-3, clipScale(await globalGradNorm(list), 1));
    tf.dispose([value, ...list]);
  };
  await step();
  const heap = trackWasmHeap(); // counts from 0: weights, optimizer state and the batch already exist
  await step();
  const fixedBytes = 4 * (model.parameterCount() + 2 * model.parameterCount()) + 4 * (rows * T) * 2; // weights, m, v, ids, mask
  const out = { peak: heap.peakSince(false) + fixedBytes, leaked: heap.live(), params: model.parameterCount() };
  heap.stop();
  opt.dispose();
  model.dispose();
  tf.dispose([ids, mask]);
  return out;
}

for (const native of [true, false]) {
  test(`a step's peak memory is weights + gradients + AdamW state + activations over a size sweep (${native ? 'native' : 'XNNPACK'} kernels)`, async () => {
    await initBackend('wasm', { native });
    const rows = 4, T = 64;
    for (const D of [64, 128, 192]) {
      const c = gpt2(D, 2, 300, T);
      const m = await stepPeak(c, rows, T);
      const plan = trainingMemoryPlan(c, { rows, seqLen: T, parameters: m.params, trainable: m.params, fusedKernels: native });
      const fixed = plan.weights + plan.optimizer;
      assert.equal(m.leaked, 0, `d${D}: the step left ${m.leaked} bytes behind`);
      assert.ok(m.peak <= plan.total, `d${D}: peak ${m.peak} B exceeds the plan ${JSON.stringify(plan)}`);
      assert.ok(m.peak >= fixed, `d${D}: peak ${m.peak} below weights + optimizer state ${fixed}`);
      // The plan is an honest bound, not a loose one: its step-dependent part is at most 2.5× the measured one.
      assert.ok(plan.total - fixed <= 2.5 * (m.peak - fixed), `d${D}: plan ${plan.total - fixed} B vs measured ${m.peak - fixed} B beyond weights + state`);
    }
  });
}

test('attention memory grows with the tokens, not with T²: a step at T512 needs about what one at T64 needs for as many tokens', async () => {
  await initBackend('wasm');
  const peaks: number[] = [];
  for (const [rows, T] of [[16, 64], [2, 512]]) {
    const c = gpt2(64, 2, 300, T);
    const m = await stepPeak(c, rows, T);
    assert.equal(m.leaked, 0);
    const plan = trainingMemoryPlan(c, { rows, seqLen: T, parameters: m.params, trainable: m.params });
    assert.ok(m.peak <= plan.total, `T${T}: peak ${m.peak} B exceeds the plan ${plan.total} B`);
    peaks.push(m.peak - plan.weights - plan.optimizer);
  }
  // (with (B, H, T, T) scores and probabilities kept per layer, the T512 step needed ~7× the T64 one)
  assert.ok(peaks[1] <= 1.5 * peaks[0], `beyond weights and optimizer state: T64 ${peaks[0]} B, T512 ${peaks[1]} B`);
});

test('AdamW.apply holds at most a few copies of the largest variable, never one per variable (fallback path)', async () => {
  await initBackend('wasm', { native: false });
  const vars = tf.tidy(() => Array.from({ length: 40 }, (_, i) => tf.variable(tf.fill([64, 64], 0.01 * (i + 1)))));
  const grads = vars.map((v) => tf.onesLike(v));
  const opt = new AdamW(vars, { weightDecay: 0.1 });
  opt.apply(grads, 1e-3);
  const heap = trackWasmHeap();
  opt.apply(grads, 1e-3, 0.5);
  const temporaries = heap.peakSince(false);
  heap.stop();
  const largest = 64 * 64 * 4;
  // (one tidy around every variable held ~16 temporaries of each: 40 variables → 16 × 40 copies)
  assert.ok(temporaries <= 20 * largest, `apply's temporaries peaked at ${temporaries} B (largest variable ${largest} B, all ${40 * largest} B)`);
  opt.dispose();
  tf.dispose([...vars, ...grads]);
});

test('a step that cannot fit is refused before it starts, with the numbers', () => {
  const c = gpt2(768, 12, 50257, 1024); // GPT-2 small
  const params = 124_439_808;
  const fits = trainingMemoryPlan(c, { rows: 2, seqLen: 128, parameters: params, trainable: params });
  checkTrainingFits(fits, 'wasm', 'gpt2 T128 B2', 24 * 2 ** 30); // GPT-2 small full AdamW at T128 B2 fits the heap
  assert.ok(fits.total < WASM_HEAP_LIMIT);
  const big = trainingMemoryPlan(c, { rows: 16, seqLen: 1024, parameters: params, trainable: params });
  assert.throws(() => checkTrainingFits(big, 'wasm', 'stage dpo (batchSize 8, maxLength 1024)', 24 * 2 ** 30),
    /stage dpo \(batchSize 8, maxLength 1024\) needs about \d+\.\d\d GiB = weights 0\.46 \+ gradients 0\.46 \+ optimizer state 0\.93 \+ activations \d+\.\d\d per step, more than the 4 GiB wasm heap \(less ~12% allocator overhead\): lower batchSize or maxLength/);
  assert.throws(() => checkTrainingFits(big, 'webgpu', 'x', 8 * 2 ** 30), /more than this machine's 8\.00 GiB of memory/);
  checkTrainingFits(big, 'webgpu', 'x', 1024 * 2 ** 30);
});

test('a run whose batch cannot fit fails before the step runs, with the numbers (never a wasm abort)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dap-memory-'));
  const data = join(dir, 'long.pairs.jsonl');
  const long = (c: string) => ' ' + c.repeat(3000);
  writeFileSync(data, Array.from({ length: 16 }, (_, i) => JSON.stringify({ prompt: `Q${i}:`, chosen: long('y'), rejected: long('n') })).join('\n') + '\n');
  const events: TrainEvent[] = [];
  const out = await runTraining({ data, method: 'dpo', out: dir, runId: 'too-big', backend: 'wasm', batchSize: 16, maxLength: 4096,
    builtin: { numLayers: 4, hiddenSize: 128, numHeads: 4, maxPositions: 4096 }, epochs: 1, evalFraction: 0, seed: 1 }, { onEvent: (e) => events.push(e) });
  assert.equal(out.status, 'failed');
  assert.match(out.error ?? '', /stage sft: a batch of 16 sequences × \d+ tokens \(batchSize 16\) needs about \d+\.\d\d GiB = weights 0\.01 \+ gradients 0\.01 \+ optimizer state 0\.01 \+ activations \d+\.\d\d per step, more than the 4 GiB wasm heap/);
  assert.equal(events.filter((e) => e.type === 'step').length, 0, 'no step ran');
});
