/**
 * The loss panel's stage strip (built bundle, headless Chromium): a one-click run of the built-in model
 * shows "1. SFT warm-up → 2. dpo" with the running stage's own progress and ETA from its first step, the
 * DPO stage waiting with its planned steps, and a note on why no reward charts show yet; once DPO starts,
 * SFT is done and DPO runs. Events are the real recorded run's (test/fixtures/run-events.jsonl) with the
 * stage plan a run of today announces.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openWebview, type WebviewPage } from './harness';
import type { LossHostToWebview, LossWebviewToHost } from '../../webview/protocol/loss';
import type { StartedEvent, StepEvent, TrainEvent } from '../../src/train/runs/events';

const root = join(import.meta.dirname, '..', '..');
const fixture = readFileSync(join(root, 'test/fixtures/run-events.jsonl'), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as TrainEvent);
const started = fixture.find((e): e is StartedEvent => e.type === 'started') as StartedEvent;
const ts = '2026-01-01T00:00:00.000Z';
const plan = [{ stage: 'sft', totalSteps: 6 }, { stage: 'dpo', totalSteps: 4 }];
const step = (stage: string, n: number, total: number, eta: number): StepEvent => ({ type: 'step', ts, stage, step: n, totalSteps: total, metrics: { loss: 2 - n / 10, eta_seconds: eta } });

let wv: WebviewPage<LossWebviewToHost, LossHostToWebview> | undefined;
after(async () => {
  await wv?.close();
});

const strip = () => wv!.page.locator('[data-testid="stage-item"]').evaluateAll((els) => els.map((e) => [e.getAttribute('data-stage'), e.getAttribute('data-state'), e.querySelector('[data-testid="stage-progress"]')?.textContent?.trim()]));

test('stage strip: SFT running with its ETA from the first step, DPO waiting with its steps; then DPO running', async () => {
  wv = await openWebview<LossWebviewToHost, LossHostToWebview>('loss', { viewport: { width: 1000, height: 700 } });
  await wv.waitForMessage((m) => m.type === 'ready');
  await wv.fromHost({ type: 'runs', runs: [{ runId: 'one-click', runDir: '/runs/one-click', live: true }] });
  const base = { ...started, runId: 'one-click', stages: plan };
  await wv.fromHost({ type: 'events', runId: 'one-click', events: [{ ...base, stage: 'sft', totalSteps: 6 }, step('sft', 1, 6, 50)], replay: false });
  await wv.page.waitForSelector('[data-testid="stages"]');
  assert.deepEqual(await strip(), [['sft', 'running', '1/6 · ETA 50s'], ['dpo', 'waiting', 'waits · 4 steps']]);
  assert.match(await wv.page.innerText('[data-testid="stage-note"]'), /dpo stage's reward charts start when it begins/);
  assert.match(await wv.page.innerText('[data-testid="stages"]'), /1\. SFT warm-up/);

  await wv.fromHost({ type: 'events', runId: 'one-click', events: [step('sft', 6, 6, 0), { ...base, stage: 'dpo', totalSteps: 4 }, step('dpo', 1, 4, 30)], replay: false });
  await wv.page.waitForFunction(() => document.querySelector('[data-stage="dpo"]')?.getAttribute('data-state') === 'running');
  assert.deepEqual(await strip(), [['sft', 'done', '6/6 · done'], ['dpo', 'running', '1/4 · ETA 30s']]);
  assert.equal(await wv.page.locator('[data-testid="stage-note"]').count(), 0);
});

test('no strip for a one-stage run or a run from before stage plans', async () => {
  wv ??= await openWebview<LossWebviewToHost, LossHostToWebview>('loss', { viewport: { width: 1000, height: 700 } });
  await wv.fromHost({ type: 'runs', runs: [{ runId: 'dpo-fixture', runDir: '/runs/dpo-fixture', live: false }] });
  await wv.fromHost({ type: 'events', runId: 'dpo-fixture', events: fixture.filter((e) => !('stage' in e) || e.stage !== 'sft'), replay: true });
  await wv.page.waitForSelector('[data-testid="run-header"]');
  assert.equal(await wv.page.locator('[data-testid="stages"]').count(), 0);
});
