/**
 * Every method of the registry trains end to end on the shipped sample data (task file + annotation log,
 * compiled by the data core into pairs / rankings / KTO rows) for a few steps with a very small model,
 * plus the built-in model's SFT-then-DPO path on a compiled TRL pairs file. Checks finite losses, the
 * method's data kind, TRL metric names and the saved final model.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadProject } from '../../src/core/project';
import { compilePairs } from '../../src/core/compile';
import { LOSSES } from '../../src/train/losses/index';
import { runTraining } from '../../src/train/pipeline/index';
import type { StepEvent, TrainEvent } from '../../src/train/runs/events';
import { sampleTasks as tasks, tinyModelFixture, tinyShape, writeJsonl } from './train-fixtures';

let dir = '';
let modelDir = '';

before(async () => {
  ({ dir, modelDir } = await tinyModelFixture('methods', 11, 64));
});

for (const name of Object.keys(LOSSES)) {
  test(`${name} trains on the sample data`, async () => {
    const events: TrainEvent[] = [];
    const out = await runTraining({ data: tasks, model: modelDir, method: name as keyof typeof LOSSES, out: dir, runId: `m-${name}`, backend: 'wasm',
      lr: 1e-3, batchSize: 4, maxSteps: 2, maxLength: 64, evalFraction: 0.03, evalEvery: 2 }, { onEvent: (e) => events.push(e) });
    assert.equal(out.status, 'finished', out.error);
    const steps = events.filter((e): e is StepEvent => e.type === 'step');
    assert.equal(steps.length, 2);
    for (const s of steps) assert.ok(Number.isFinite(s.metrics.loss) && Number.isFinite(s.metrics.grad_norm), `${name} step ${s.step}`);
    const kind = LOSSES[name as keyof typeof LOSSES].dataKind;
    if (kind !== 'sft') {
      for (const k of ['rewards/chosen', 'rewards/rejected', 'rewards/accuracies', 'rewards/margins', 'logps/rejected', 'logits/rejected']) assert.ok(k in steps[0].metrics, `${name}: ${k}`);
    }
    // TRL's token metrics for every method (README "Metrics"), finite and in range
    for (const k of ['logps/chosen', 'logits/chosen', 'entropy', 'mean_token_accuracy']) assert.ok(Number.isFinite(steps[0].metrics[k]), `${name}: ${k}`);
    assert.ok(steps[0].metrics.entropy > 0 && steps[0].metrics.mean_token_accuracy >= 0 && steps[0].metrics.mean_token_accuracy <= 1, `${name}: entropy/accuracy range`);
    const ev = events.find((e) => e.type === 'eval');
    assert.ok(ev && ev.type === 'eval' && Number.isFinite(ev.metrics.eval_loss));
    assert.ok(existsSync(join(out.runDir, 'model', 'model.safetensors')));
  });
}

test('built-in model: SFT stage on the responses, then DPO, from a compiled TRL pairs file', async () => {
  const p = await loadProject(tasks);
  const pairs = compilePairs(p.items, p.resolution.judgments).slice(0, 24);
  const file = writeJsonl(join(dir, 'pairs.jsonl'), pairs);
  const events: TrainEvent[] = [];
  const out = await runTraining({ data: file, method: 'dpo', out: dir, runId: 'builtin', backend: 'wasm', builtin: tinyShape(64),
    sftEpochs: 1, batchSize: 8, maxSteps: 2, evalFraction: 0.1 }, { onEvent: (e) => events.push(e) });
  assert.equal(out.status, 'finished', out.error);
  const stages = events.filter((e) => e.type === 'started').map((e) => (e.type === 'started' ? e.stage : ''));
  assert.deepEqual(stages, ['sft', 'dpo']);
  const dpoSteps = events.filter((e): e is StepEvent => e.type === 'step' && e.stage === 'dpo');
  assert.ok(Math.abs(dpoSteps[0].metrics.loss - Math.LN2) < 1e-6, 'DPO starts at ln 2 after SFT (reference = SFT model)');
  assert.ok(existsSync(join(out.runDir, 'sft-model', 'config.json')));
  // The summary carries greedy before/after generations on held-out prompts, checked by verify.ts.
  const fin = events.find((e) => e.type === 'finished');
  const samples = (fin && fin.type === 'finished' ? fin.summary.samples : undefined) as { prompt: string; before?: string; after: string; correctBefore?: boolean; correctAfter?: boolean }[] | undefined;
  const split = JSON.parse(readFileSync(join(out.runDir, 'split.json'), 'utf8')) as { evalPrompts: string[] };
  assert.ok(samples && samples.length === Math.min(4, split.evalPrompts.length) && samples.length > 0, 'samples on held-out prompts');
  for (const s of samples) {
    assert.ok(split.evalPrompts.includes(s.prompt), `sample prompt ${s.prompt} is held out`);
    assert.equal(typeof s.before, 'string');
    assert.equal(typeof s.after, 'string');
    assert.equal(typeof s.correctAfter, 'boolean', 'sample data prompts are verifiable');
  }
});
