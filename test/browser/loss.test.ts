/**
 * Component tests of the loss panel webview (dist/webview/loss.js) in headless Debian Chromium under a
 * VS Code-like CSP. The host double replays a real run's event stream (test/fixtures/run-events.jsonl,
 * recorded from the real training pipeline by scripts/record-run-events.ts) and the tests compare the
 * charts' tables (read through the panel's window.__dapPanel getter) with values computed here from the
 * fixture, including a float64 EMA written independently below. Also: no event dropped in a burst of 500
 * messages, the summary and its buttons, a LoRA run (test/fixtures/lora-run-events.jsonl, recorded by the
 * same script with --lora: LoRA settings and trainable-params line in the header, merged model and adapter
 * folders in the summary), a failed run, comparing runs, and screenshots for the README.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium, openWebview, type WebviewPage } from './harness';
import type { LossHostToWebview, LossWebviewToHost } from '../../webview/protocol/loss';
import type { EvalEvent, FinishedEvent, LogEvent, StartedEvent, StepEvent, TrainEvent } from '../../src/train/runs/events';

const root = join(import.meta.dirname, '..', '..');
/** A recorded event stream with its RUN_DIR placeholder replaced by `runDir`. */
function readFixture(name: string, runDir: string): TrainEvent[] {
  return readFileSync(join(root, 'test/fixtures', name), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l.split('RUN_DIR').join(runDir)) as TrainEvent);
}
const fixture = readFixture('run-events.jsonl', 'RUN_DIR');

type Page = WebviewPage<LossWebviewToHost, LossHostToWebview>;
interface ChartView {
  xs: number[];
  series: { label: string; kind: string; metric: string; runId: string; values: (number | null)[] }[];
}

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

async function open(theme: 'dark' | 'light' = 'dark', viewport = { width: 1100, height: 800 }): Promise<Page> {
  const wv = await openWebview<LossWebviewToHost, LossHostToWebview>('loss', { browser, theme, viewport });
  await wv.waitForMessage((m) => m.type === 'ready');
  return wv;
}

/** Waits until the panel folded every queued event (one animation frame after the last message). */
async function settled(wv: Page): Promise<void> {
  await wv.page.waitForFunction(() => (window as unknown as { __dapPanel: { pending(): number } }).__dapPanel.pending() === 0);
  await wv.page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(null))));
}

function chart(wv: Page, id: string): Promise<ChartView | undefined> {
  return wv.page.evaluate((cid) => (window as unknown as { __dapPanel: { chart(id: string): unknown } }).__dapPanel.chart(cid), id) as Promise<
    ChartView | undefined
  >;
}

/** Independent float64 reference of the de-biased EMA (TensorBoard's smoothing). */
function emaReference(xs: number[], w: number): number[] {
  const out: number[] = [];
  let last = 0;
  let debias = 1;
  for (const x of xs) {
    last = last * w + (1 - w) * x;
    debias *= w;
    out.push(last / (1 - debias));
  }
  return out;
}

const steps = (stage: string) => fixture.filter((e): e is StepEvent => e.type === 'step' && e.stage === stage);
const evals = (stage: string) => fixture.filter((e): e is EvalEvent => e.type === 'eval' && e.stage === stage);
const finished = fixture.find((e): e is FinishedEvent => e.type === 'finished')!;

test('fixture is a real two-stage run (SFT then DPO) with eval points and a summary', () => {
  assert.ok(steps('sft').length > 10 && steps('dpo').length > 10);
  assert.ok(evals('dpo').length >= 2);
  assert.ok(finished && finished.summary.final['eval_rewards/accuracies'] !== undefined);
});

test('replayed run: every chart holds exactly the fixture values; eval points over the train curve; EMA smoothing', async () => {
  const wv = await open();
  await wv.fromHost({ type: 'runs', runs: [{ runId: 'dpo-fixture', runDir: '/runs/dpo-fixture', live: false }] });
  // Delivered in chunks of 7, as a host would forward them.
  for (let i = 0; i < fixture.length; i += 7) {
    await wv.page.evaluate((m) => window.postMessage(m, '*'), { type: 'events', runId: 'dpo-fixture', events: fixture.slice(i, i + 7), replay: true });
  }
  await settled(wv);

  const dpo = steps('dpo');
  const loss = (await chart(wv, 'loss'))!;
  const evalSteps = evals('dpo').map((e) => e.step);
  const expectedXs = [...new Set([...dpo.map((e) => e.step), ...evalSteps])].sort((a, b) => a - b);
  assert.deepEqual(loss.xs, expectedXs, 'x = union of DPO train and eval steps (latest stage shown)');
  const raw = loss.series.find((s) => s.kind === 'raw' && s.metric === 'loss')!;
  for (const e of dpo) assert.equal(raw.values[loss.xs.indexOf(e.step)], e.metrics.loss, `loss at step ${e.step}`);
  const ev = loss.series.find((s) => s.kind === 'eval')!;
  assert.equal(ev.metric, 'eval_loss');
  for (const e of evals('dpo')) assert.equal(ev.values[loss.xs.indexOf(e.step)], e.metrics.eval_loss);
  assert.equal(ev.values.filter((v) => v !== null).length, evals('dpo').length);

  // Default smoothing 0.6: smoothed series = float64 EMA of the raw per-step values.
  const smoothed = loss.series.find((s) => s.kind === 'smoothed')!;
  const reference = emaReference(dpo.map((e) => e.metrics.loss), 0.6);
  dpo.forEach((e, i) => assert.ok(Math.abs((smoothed.values[loss.xs.indexOf(e.step)] as number) - reference[i]) < 1e-12, `EMA at step ${e.step}`));

  // Chosen and rejected rewards on ONE chart, with the hint.
  const rewards = (await chart(wv, 'rewards'))!;
  assert.deepEqual(
    rewards.series.filter((s) => s.kind === 'raw').map((s) => s.metric),
    ['rewards/chosen', 'rewards/rejected'],
  );
  const hint = await wv.page.getByTestId('hint-rewards').textContent();
  assert.match(hint ?? '', /margin/);
  for (const e of dpo) {
    const i = rewards.xs.indexOf(e.step);
    assert.equal(rewards.series.find((s) => s.kind === 'raw' && s.metric === 'rewards/rejected')!.values[i], e.metrics['rewards/rejected']);
  }
  const ids = await wv.page.evaluate(() => (window as unknown as { __dapPanel: { chartIds(): string[] } }).__dapPanel.chartIds());
  for (const id of ['loss', 'accuracy', 'margins', 'rewards', 'logps', 'lr', 'gradnorm', 'throughput']) assert.ok(ids.includes(id), `chart ${id}`);
  assert.equal(await wv.page.getByTestId('chart-loss').getAttribute('data-points'), String(dpo.length));
  assert.equal(await wv.page.locator('[data-testid=chart-loss] canvas').count(), 1, 'uPlot drew a canvas');
  assert.equal(await wv.page.locator('[data-testid=chart-loss] .u-legend').count(), 1, 'hover legend present');

  // Smoothing control → 0: no smoothed series; 0.9 → EMA with 0.9.
  await wv.page.getByTestId('smoothing').fill('0');
  await settled(wv);
  assert.equal((await chart(wv, 'loss'))!.series.filter((s) => s.kind === 'smoothed').length, 0);
  await wv.page.getByTestId('smoothing').fill('0.9');
  await settled(wv);
  const s9 = (await chart(wv, 'loss'))!.series.find((s) => s.kind === 'smoothed')!;
  const ref9 = emaReference(dpo.map((e) => e.metrics.loss), 0.9);
  assert.ok(Math.abs((s9.values.at(-1) as number) - ref9.at(-1)!) < 1e-12);
  const state = (await wv.state()) as { runDirs: string[]; smoothing: number };
  assert.deepEqual(state.runDirs, ['/runs/dpo-fixture']);
  assert.equal(state.smoothing, 0.9);

  // Stage picker: the SFT stage's loss curve.
  await wv.page.getByTestId('stage').selectOption('sft');
  await settled(wv);
  const sftLoss = (await chart(wv, 'loss'))!;
  const sft = steps('sft');
  assert.equal(sftLoss.series.find((s) => s.kind === 'raw')!.values.filter((v) => v !== null).length, sft.length);
  assert.equal(sftLoss.series.find((s) => s.kind === 'raw')!.values[sftLoss.xs.indexOf(sft[5].step)], sft[5].metrics.loss);

  // Summary: status, held-out accuracy, final metrics, buttons.
  const summary = wv.page.getByTestId('summary');
  assert.equal(await summary.getAttribute('data-status'), 'finished');
  const acc = finished.summary.final['eval_rewards/accuracies'];
  assert.match((await wv.page.getByTestId('heldout-accuracy').textContent()) ?? '', new RegExp(`${(100 * acc).toFixed(1).replace('.', '\\.')}%`));
  assert.match((await wv.page.getByTestId('final-metrics').textContent()) ?? '', /rewards\/margins/);
  assert.equal(await wv.page.getByTestId('cancel').count(), 0, 'no Cancel on a replayed finished run');
  assert.equal(await wv.page.getByTestId('output-model').textContent(), finished.summary.model);
  assert.equal(await wv.page.getByTestId('output-adapter').count(), 0, 'full fine-tuning: no adapter');
  assert.equal(await wv.page.getByTestId('run-lora').count(), 0, 'full fine-tuning: no LoRA in the header');
  await wv.clearMessages();
  await wv.page.getByTestId('review').click();
  await wv.page.getByTestId('export').click();
  await wv.page.getByTestId('reveal').click();
  assert.deepEqual(await wv.messages(), [
    { type: 'review', runId: 'dpo-fixture' },
    { type: 'exportModel', runId: 'dpo-fixture' },
    { type: 'revealCheckpoint', runId: 'dpo-fixture' },
  ]);
  await wv.close();
});

test('LoRA run: the header shows the LoRA settings and the trainable-params line; the summary shows the merged model and the adapter', async () => {
  const runDir = '/runs/lora-fixture';
  const events = readFixture('lora-run-events.jsonl', runDir);
  const started = events.filter((e): e is StartedEvent => e.type === 'started');
  const lora = started.at(-1)!.config.lora;
  assert.ok(lora && lora.r === 4 && lora.targetModules.length > 0, 'the fixture is a LoRA run');
  const trainableLogs = events.filter((e): e is LogEvent => e.type === 'log' && e.message.includes('trainable params:'));
  assert.equal(trainableLogs.length, 2, 'one trainable-params line per stage (SFT full, DPO LoRA)');
  const done = events.find((e): e is FinishedEvent => e.type === 'finished')!;
  assert.equal(done.summary.adapter, `${runDir}/adapter`);

  const wv = await open();
  await wv.fromHost({ type: 'runs', runs: [{ runId: 'lora-fixture', runDir, live: false }] });
  await wv.fromHost({ type: 'events', runId: 'lora-fixture', events, replay: true });
  await settled(wv);
  assert.equal(await wv.page.getByTestId('run-lora').textContent(), `LoRA r=${lora.r}, α=${lora.alpha}, targets ${lora.targetModules.join(', ')}`);
  // The latest stage's line (the DPO stage's adapters), as the worker logged it.
  assert.equal(await wv.page.getByTestId('run-trainable').textContent(), trainableLogs[1].message);
  assert.match(trainableLogs[1].message, /^dpo: trainable params: [\d,]+ \|\| all params: [\d,]+ \|\| trainable%: /);
  const summary = wv.page.getByTestId('summary');
  assert.equal(await summary.getAttribute('data-status'), 'finished');
  assert.equal(await wv.page.getByTestId('output-model').textContent(), done.summary.model);
  assert.equal(await wv.page.getByTestId('output-adapter').textContent(), done.summary.adapter);
  assert.match((await wv.page.getByTestId('outputs').textContent()) ?? '', /Merged model \(LoRA adapters merged in\).*LoRA adapter \(PEFT\)/s);
  // The DPO curve is the fixture's, point for point.
  const dpo = events.filter((e): e is StepEvent => e.type === 'step' && e.stage === 'dpo');
  await wv.page.getByTestId('smoothing').fill('0');
  await settled(wv);
  const loss = (await chart(wv, 'loss'))!;
  const raw = loss.series.find((x) => x.kind === 'raw')!;
  for (const e of dpo) assert.equal(raw.values[loss.xs.indexOf(e.step)], e.metrics.loss, `loss at step ${e.step}`);
  await wv.clearMessages();
  await wv.page.getByTestId('export').click();
  assert.deepEqual(await wv.messages(), [{ type: 'exportModel', runId: 'lora-fixture' }]);
  await wv.close();
});

test('500 step events posted at once as separate messages: none dropped, one redraw per frame', async () => {
  const wv = await open();
  await wv.fromHost({ type: 'runs', runs: [{ runId: 'burst', runDir: '/runs/burst', live: true }] });
  const n = 500;
  await wv.page.evaluate((count) => {
    const ts = new Date(0).toISOString();
    window.postMessage({ type: 'events', runId: 'burst', replay: false, events: [{ type: 'started', ts, runId: 'burst', runDir: '/runs/burst', backend: 'wasm', config: { method: 'dpo' }, totalSteps: count, stage: 'dpo', startStep: 0 }] }, '*');
    for (let i = 1; i <= count; i++) {
      const metrics = { loss: Math.log(2) / i, 'rewards/accuracies': (i % 4) / 4, tokens_per_second: 1000 + i, eta_seconds: count - i };
      window.postMessage({ type: 'events', runId: 'burst', replay: false, events: [{ type: 'step', ts, stage: 'dpo', step: i, totalSteps: count, metrics }] }, '*');
    }
  }, n);
  await settled(wv);
  const loss = (await chart(wv, 'loss'))!;
  assert.equal(loss.xs.length, n);
  const raw = loss.series.find((s) => s.kind === 'raw')!;
  for (let i = 1; i <= n; i++) assert.equal(raw.values[i - 1], Math.log(2) / i, `step ${i}`);
  const runs = await wv.page.evaluate(() => (window as unknown as { __dapPanel: { runs(): { eventCount: number }[] } }).__dapPanel.runs());
  assert.equal(runs[0].eventCount, n + 1);
  // Far fewer redraws than messages: updates are batched per animation frame.
  const version = Number(await wv.page.getByTestId('panel').getAttribute('data-version'));
  assert.ok(version < n / 2, `redraws ${version}`);
  assert.match((await wv.page.getByTestId('run-progress').textContent()) ?? '', /step 500\/500/);
  await wv.clearMessages();
  await wv.page.getByTestId('cancel').click();
  assert.deepEqual(await wv.messages(), [{ type: 'cancel', runId: 'burst' }]);
  await wv.fromHost({ type: 'ended', runId: 'burst' });
  await settled(wv);
  assert.equal(await wv.page.getByTestId('cancel').count(), 0);
  await wv.close();
});

test('10 events/s for 2 s while the chart is live: every point arrives in order', async () => {
  const wv = await open();
  await wv.fromHost({ type: 'runs', runs: [{ runId: 'live', runDir: '/runs/live', live: true }] });
  for (let i = 1; i <= 20; i++) {
    await wv.page.evaluate(
      (step) => window.postMessage({ type: 'events', runId: 'live', replay: false, events: [{ type: 'step', ts: '', stage: 'dpo', step, totalSteps: 20, metrics: { loss: 1 / step } }] }, '*'),
      i,
    );
    await new Promise((r) => setTimeout(r, 100));
  }
  await settled(wv);
  const loss = (await chart(wv, 'loss'))!;
  assert.deepEqual(loss.xs, Array.from({ length: 20 }, (_, i) => i + 1));
  assert.deepEqual(loss.series.find((s) => s.kind === 'raw')!.values, loss.xs.map((x) => 1 / x));
  await wv.close();
});

test('a failed run shows the error, its log and no review button', async () => {
  const wv = await open();
  await wv.fromHost({ type: 'runs', runs: [{ runId: 'bad', runDir: '/runs/bad', live: false }] });
  const ts = new Date(0).toISOString();
  await wv.fromHost({
    type: 'events',
    runId: 'bad',
    replay: true,
    events: [
      { type: 'log', ts, level: 'warn', message: 'data.jsonl:3: prompt: expected a string' },
      { type: 'failed', ts, error: 'model folder /m: config.json missing', stack: 'Error: model folder…\n    at load' },
    ],
  });
  await settled(wv);
  assert.equal(await wv.page.getByTestId('run-status').textContent(), 'failed');
  assert.equal(await wv.page.getByTestId('run-error').textContent(), 'model folder /m: config.json missing');
  assert.match((await wv.page.getByTestId('run-log').textContent()) ?? '', /data\.jsonl:3: prompt/);
  assert.equal(await wv.page.getByTestId('review').count(), 0);
  await wv.close();
});

test('compare: two runs give one series per run on the same charts', async () => {
  const wv = await open();
  await wv.fromHost({
    type: 'runs',
    runs: [
      { runId: 'a', runDir: '/runs/a', live: false },
      { runId: 'b', runDir: '/runs/b', live: false },
    ],
  });
  const mk = (runId: string, k: number) => ({
    type: 'events' as const,
    runId,
    replay: true,
    events: Array.from({ length: 5 }, (_, i): TrainEvent => ({ type: 'step', ts: '', stage: 'dpo', step: (i + 1) * k, totalSteps: 10, metrics: { loss: k + i } })),
  });
  await wv.fromHost(mk('a', 1));
  await wv.fromHost(mk('b', 2));
  await wv.page.getByTestId('smoothing').fill('0');
  await settled(wv);
  const loss = (await chart(wv, 'loss'))!;
  assert.deepEqual(loss.xs, [1, 2, 3, 4, 5, 6, 8, 10]);
  assert.deepEqual(loss.series.map((s) => s.runId), ['a', 'b']);
  assert.deepEqual(loss.series[1].values, [null, 2, null, 3, null, 4, 5, 6]);
  await wv.close();
});

test('screenshots of the live panel (light and dark) for the README', async () => {
  for (const theme of ['dark', 'light'] as const) {
    const wv = await open(theme, { width: 1100, height: 900 });
    await wv.fromHost({ type: 'runs', runs: [{ runId: 'dpo-fixture', runDir: '/runs/dpo-fixture', live: true }] });
    // Everything up to three quarters of the DPO stage: a run in progress.
    const dpo = steps('dpo');
    const cut = fixture.indexOf(dpo[Math.floor(dpo.length * 0.75)]) + 1;
    await wv.fromHost({ type: 'events', runId: 'dpo-fixture', events: fixture.slice(0, cut), replay: false });
    await settled(wv);
    const png = await wv.screenshot(join(root, `media/screenshots/panel-${theme}.png`));
    assert.ok(png.length > 10_000);
    await wv.close();
  }
});
