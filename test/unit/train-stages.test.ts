/**
 * A run's stage plan: the built-in model's one-click run (SFT warm-up, then DPO) announces both stages and
 * their step counts in every `started` event, and each stage then takes exactly the steps announced; the
 * pure stage view (src/train/runs/stagePlan.ts) that the loss panel and the status bar read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/engine/backend';
import { runTraining } from '../../src/train/pipeline/index';
import type { StartedEvent, TrainEvent } from '../../src/train/runs/events';
import { laterStagesText, stagesStatus } from '../../src/train/runs/stagePlan';
import { tinyShape } from './train-fixtures';

test('the built-in model run announces sft then dpo with their step counts, and takes exactly those steps', { timeout: 300_000 }, async () => {
  await initBackend('wasm');
  const dir = mkdtempSync(join(tmpdir(), 'dap-stages-'));
  const data = join(dir, 'pairs.jsonl');
  const rows = Array.from({ length: 12 }, (_, i) => ({ prompt: `q${i}?`, chosen: `yes ${i}`, rejected: `no ${i}` }));
  writeFileSync(data, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const events: TrainEvent[] = [];
  const out = await runTraining(
    { data, method: 'dpo', out: dir, runId: 'stages', backend: 'wasm', builtin: tinyShape(32), sftEpochs: 2, epochs: 1, batchSize: 4, evalFraction: 0.25, maxLength: 32 },
    { onEvent: (e) => events.push(e) },
  );
  assert.equal(out.status, 'finished', JSON.stringify(events.filter((e) => e.type === 'failed')));
  const started = events.filter((e): e is StartedEvent => e.type === 'started');
  assert.deepEqual(started.map((e) => e.stage), ['sft', 'dpo']);
  const plan = started[0].stages;
  assert.ok(plan, 'the first started event carries the plan');
  assert.deepEqual(plan.map((p) => p.stage), ['sft', 'dpo']);
  assert.deepEqual(started[1].stages, plan, 'every started event carries the same plan');
  for (const p of plan) {
    const steps = events.filter((e) => e.type === 'step' && e.stage === p.stage);
    assert.equal(steps.length, p.totalSteps, `${p.stage}: planned ${p.totalSteps} steps`);
    assert.equal(started.find((e) => e.stage === p.stage)?.totalSteps, p.totalSteps);
  }
  // 9 training prompts × 2 responses = 18 SFT rows / batch 4 = 5 steps × 2 epochs; 9 pairs / 4 = 3 DPO steps.
  assert.deepEqual(plan, [{ stage: 'sft', totalSteps: 10 }, { stage: 'dpo', totalSteps: 3 }]);
});

test('stage view: done, running with its own ETA, waiting; later stages in words', () => {
  const plan = [{ stage: 'sft', totalSteps: 300 }, { stage: 'dpo', totalSteps: 80 }];
  const during = stagesStatus(plan, new Map([['sft', { step: 1, totalSteps: 300, etaSeconds: 299 }]]), 'sft', false);
  assert.deepEqual(during, [
    { stage: 'sft', state: 'running', step: 1, totalSteps: 300, etaSeconds: 299 }, // an ETA from the first step
    { stage: 'dpo', state: 'waiting', step: 0, totalSteps: 80 },
  ]);
  assert.equal(laterStagesText(during), 'then dpo (80 steps)');
  const next = stagesStatus(plan, new Map([['sft', { step: 300, totalSteps: 300 }], ['dpo', { step: 5, totalSteps: 80, etaSeconds: 60 }]]), 'dpo', false);
  assert.deepEqual(next.map((s) => [s.stage, s.state, s.etaSeconds]), [['sft', 'done', undefined], ['dpo', 'running', 60]]);
  assert.equal(laterStagesText(next), '');
  const cancelled = stagesStatus(plan, new Map([['sft', { step: 40, totalSteps: 300 }]]), 'sft', true);
  assert.deepEqual(cancelled.map((s) => s.state), ['stopped', 'waiting']);
  // A run from before plans: the stages it started, in order.
  assert.deepEqual(stagesStatus([], new Map([['dpo', { step: 2, totalSteps: 4 }]]), 'dpo', false).map((s) => s.state), ['running']);
  // SPIN iterations are sized once they start.
  assert.equal(laterStagesText(stagesStatus([{ stage: 'spin-1' }, { stage: 'spin-2' }], new Map(), 'spin-1', false)), 'then spin-2');
});
