/**
 * The trainer on real tfjs with a tiny GPT-2 model: step-1 DPO loss = ln 2 (policy = reference), a few
 * steps on a learnable toy set lower the loss and raise reward accuracy, the precomputed reference
 * log-probs equal an independent recomputation with the initial model before and after training, cancel +
 * resume reproduces an uninterrupted run (same per-step losses, same weights), no tensor leak over steps,
 * and the NaN guard stops with a clear message.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtinTokenizer } from '../../src/engine/builtin';
import { loadPretrained } from '../../src/engine/checkpoint';
import { buildBatch, disposeBatch, sequenceLogps } from '../../src/engine/logps';
import { runTraining } from '../../src/train/pipeline/index';
import type { TrainConfig } from '../../src/train/config';
import type { StepEvent, TrainEvent } from '../../src/train/runs/events';
import { runPaths } from '../../src/train/runs/folder';
import { cancelThenResume, stepLosses, tinyModelFixture, toyPairs, writeJsonl } from './train-fixtures';

let dir = '';
let modelDir = '';
let toyData = '';
const toy = toyPairs(12);

before(async () => {
  ({ dir, modelDir } = await tinyModelFixture('trainer', 5, 32));
  toyData = writeJsonl(join(dir, 'toy.pairs.jsonl'), toy);
});

function base(runId: string, extra: Partial<TrainConfig> = {}): TrainConfig {
  return { data: toyData, model: modelDir, method: 'dpo', out: dir, runId, backend: 'wasm', lr: 5e-3, batchSize: 4, epochs: 3,
    maxLength: 32, evalFraction: 0.25, evalEvery: 3, warmupRatio: 0, seed: 7, ...extra };
}
const stepsOf = (ev: TrainEvent[]) => ev.filter((e): e is StepEvent => e.type === 'step');

test('DPO: ln 2 at step 1, loss falls and reward accuracy rises; reference log-probs never change', async () => {
  const events: TrainEvent[] = [];
  const tensorsAtStep: number[] = [];
  const out = await runTraining(base('learn'), { onEvent: (e) => { events.push(e); if (e.type === 'step') tensorsAtStep.push(tf.memory().numTensors); } });
  assert.equal(out.status, 'finished', out.error);
  const steps = stepsOf(events);
  assert.equal(steps.length, 9); // 9 train prompts / 4 per step → 3 steps per epoch × 3
  assert.ok(Math.abs(steps[0].metrics.loss - Math.LN2) < 1e-6, `step-1 loss ${steps[0].metrics.loss}`);
  assert.equal(steps[0].metrics['rewards/margins'], 0);
  const last = steps.at(-1)!.metrics;
  assert.ok(last.loss < 0.5, `loss fell to ${last.loss}`);
  assert.equal(last['rewards/accuracies'], 1);
  const evals = events.filter((e) => e.type === 'eval');
  assert.ok(evals.length >= 3 && evals.every((e) => e.type === 'eval' && 'eval_loss' in e.metrics));
  for (const k of ['grad_norm', 'learning_rate', 'epoch', 'num_tokens', 'tokens_per_second', 'eta_seconds']) assert.ok(k in last, k);
  // No leak: the live tensor count is the same after every step.
  assert.ok(tensorsAtStep.every((n) => n === tensorsAtStep[1]), `tensors per step: ${tensorsAtStep.join(',')}`);

  // The saved reference log-probs equal a recomputation with the untouched initial model.
  const saved = JSON.parse(readFileSync(runPaths(out.runDir).reference('dpo'), 'utf8')) as { train: { sums: number[][] } };
  const split = JSON.parse(readFileSync(runPaths(out.runDir).split, 'utf8')) as { evalPrompts: string[] };
  const train = toy.filter((p) => !split.evalPrompts.includes(p.prompt));
  const { model, tokenizer } = loadPretrained(modelDir);
  const batch = buildBatch(tokenizer, train.flatMap((p) => [{ prompt: p.prompt, completion: p.chosen }, { prompt: p.prompt, completion: p.rejected }]), { maxLength: 32 });
  const l = sequenceLogps(model, batch);
  const fresh = await l.sum.data();
  tf.dispose([l.sum, l.mean, l.count]);
  disposeBatch(batch);
  model.dispose();
  assert.equal(saved.train.sums.length, train.length);
  saved.train.sums.forEach((pair, i) => {
    assert.ok(Math.abs(pair[0] - fresh[2 * i]) < 1e-4 && Math.abs(pair[1] - fresh[2 * i + 1]) < 1e-4, `reference of pair ${i}`);
  });
  // The trained policy moved away from them (so the comparison above is not vacuous).
  assert.ok(last['rewards/chosen'] !== 0);
  void builtinTokenizer;
});

test('cancel + resume reproduces an uninterrupted run (per-step losses and final weights)', async () => {
  const fullEvents: TrainEvent[] = [];
  const full = await runTraining(base('full', { checkpointEvery: 0 }), { onEvent: (e) => fullEvents.push(e) });
  assert.equal(full.status, 'finished', full.error);

  const part = await cancelThenResume(base('part'), (e) => e.step >= 4);
  assert.match(part.checkpoint, /dpo-step-000004$/);
  assert.deepEqual(stepLosses(part.events), stepLosses(fullEvents), 'per-step losses of cancel + resume equal the uninterrupted run');
  const wa = readFileSync(join(full.runDir, 'model', 'model.safetensors'));
  const wb = readFileSync(join(part.runDir, 'model', 'model.safetensors'));
  assert.ok(wa.equals(wb), 'final weights are identical');
});

test('NaN guard: a non-finite loss stops the run with a clear message and keeps the last good checkpoint', async () => {
  const events: TrainEvent[] = [];
  // A NaN hyper-parameter is refused by the config validation now (train-config.test.ts), so the NaN comes
  // from the model: a copy of the tiny model whose final layer-norm weight is NaN (every logit is NaN).
  const nanModel = join(dir, 'nan-model');
  cpSync(modelDir, nanModel, { recursive: true });
  const file = join(nanModel, 'model.safetensors');
  const bytes = readFileSync(file);
  const headerLen = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLen).toString('utf8')) as Record<string, { data_offsets: [number, number] }>;
  const key = Object.keys(header).find((k) => k.endsWith('ln_f.weight'));
  assert.ok(key, 'the tiny model has ln_f.weight');
  bytes.writeFloatLE(Number.NaN, 8 + headerLen + header[key].data_offsets[0]);
  writeFileSync(file, bytes);
  const out = await runTraining(base('nan', { model: nanModel }), { onEvent: (e) => events.push(e) });
  assert.equal(out.status, 'failed');
  assert.match(out.error ?? '', /step 1: loss is NaN.*stopped before applying the update/);
  const failed = events.at(-1);
  assert.ok(failed && failed.type === 'failed');
});

test('live reference (frozen copy scored every batch) gives the same run as precomputed reference log-probs', async () => {
  const pre: TrainEvent[] = [], live: TrainEvent[] = [];
  const a = await runTraining(base('ref-pre', { maxSteps: 4 }), { onEvent: (e) => pre.push(e) });
  const b = await runTraining(base('ref-live', { maxSteps: 4, reference: 'live' }), { onEvent: (e) => live.push(e) });
  assert.equal(a.status, 'finished', a.error);
  assert.equal(b.status, 'finished', b.error);
  const la = stepsOf(pre).map((e) => e.metrics.loss), lb = stepsOf(live).map((e) => e.metrics.loss);
  assert.equal(lb.length, 4);
  la.forEach((v, i) => assert.ok(Math.abs(v - lb[i]) < 1e-5, `step ${i + 1}: ${v} vs ${lb[i]}`));
  assert.ok(la[3] < la[0], 'the loss moved, so the comparison is not vacuous');
});
