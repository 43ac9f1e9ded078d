/**
 * SPIN end to end with a very small model on SFT rows compiled from the sample data: two iterations, each
 * with its generated pairs (chosen = SFT target, rejected = the model's own greedy generation), the
 * generation settings, a checkpoint and the iteration's model; the reference of iteration 2 is the model
 * after iteration 1 (so its first DPO step starts at ln 2 again). A run cancelled inside iteration 1 and
 * resumed from its checkpoint reproduces the uninterrupted run (per-step losses, iteration-2 pairs, weights).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadProject } from '../../src/core/project';
import { compileSft } from '../../src/core/compile';
import { runTraining } from '../../src/train/pipeline/index';
import { spinIterationDir } from '../../src/train/pipeline/spin';
import type { StepEvent, TrainEvent } from '../../src/train/runs/events';
import { cancelThenResume, sampleTasks, stepLosses, tinyModelFixture, writeJsonl } from './train-fixtures';

let dir = '';
let modelDir = '';
let sftFile = '';
/** The uninterrupted two-iteration run of the first test, compared with cancel + resume in the second. */
let fullEvents: TrainEvent[] = [];
let fullRunDir = '';

const spinConfig = (runId: string) => ({ data: sftFile, model: modelDir, method: 'spin' as const, out: dir, runId, backend: 'wasm' as const, lr: 1e-3,
  batchSize: 4, epochs: 1, maxLength: 64, evalFraction: 0.1, spin: { iterations: 2, maxNewTokens: 8, temperature: 0 } });

before(async () => {
  ({ dir, modelDir } = await tinyModelFixture('spin', 2, 64));
  const p = await loadProject(sampleTasks);
  sftFile = writeJsonl(join(dir, 'sft.jsonl'), compileSft(p.items, p.resolution.judgments).slice(0, 20));
});

test('spin: two iterations of generate → DPO, each saved with its data, settings and model', async () => {
  const events: TrainEvent[] = [];
  const out = await runTraining(spinConfig('spin'), { onEvent: (e) => events.push(e) });
  assert.equal(out.status, 'finished', out.error);
  fullEvents = events;
  fullRunDir = out.runDir;
  const stages = events.filter((e) => e.type === 'started').map((e) => (e.type === 'started' ? e.stage : ''));
  assert.deepEqual(stages, ['spin-1', 'spin-2']);
  for (const it of [1, 2]) {
    const d = spinIterationDir(out.runDir, it);
    const settings = JSON.parse(readFileSync(join(d, 'generation.json'), 'utf8'));
    assert.equal(settings.temperature, 0);
    assert.equal(settings.maxNewTokens, 8);
    const pairs = readFileSync(join(d, 'pairs.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(pairs.length >= 10 && pairs.every((p) => p.chosen !== p.rejected && typeof p.rejected === 'string'));
    assert.ok(existsSync(join(d, 'model', 'model.safetensors')));
    const first = events.find((e): e is StepEvent => e.type === 'step' && e.stage === `spin-${it}` && e.step === 1)!;
    assert.ok(Math.abs(first.metrics.loss - Math.LN2) < 1e-6, `iteration ${it} starts at ln 2 (reference = start-of-iteration model)`);
  }
  assert.ok(events.some((e) => e.type === 'checkpoint' && e.stage === 'spin-2'));
});

test('spin: cancelled inside iteration 1 and resumed, it reproduces the uninterrupted run', async () => {
  assert.ok(fullRunDir, 'needs the uninterrupted run of the test above');
  const part = await cancelThenResume(spinConfig('spin-part'), (e) => e.stage === 'spin-1' && e.step >= 2);
  assert.match(part.checkpoint, /spin-1-step-000002$/);
  assert.deepEqual(stepLosses(part.events), stepLosses(fullEvents), 'per-step losses of cancel + resume equal the uninterrupted run');
  for (const it of [1, 2]) {
    const pairs = (runDir: string) => readFileSync(join(spinIterationDir(runDir, it), 'pairs.jsonl'), 'utf8');
    assert.equal(pairs(part.runDir), pairs(fullRunDir), `iteration ${it} pairs`);
  }
  const weights = (runDir: string) => readFileSync(join(runDir, 'model', 'model.safetensors'));
  assert.ok(weights(part.runDir).equals(weights(fullRunDir)), 'final weights are identical');
});
