/**
 * End-to-end test of one-click training in a real VS Code (code-server): on a copy of the sample task file
 * and its annotation log, "DAP: Train DPO on This Data" starts the real worker process (tiny built-in model
 * via the `dapStudio.train.*` settings), the loss panel opens and its loss chart fills with live points,
 * the panel's Cancel button stops the run, and the run folder holds config.json, metrics.jsonl with step
 * events ending in a cancelled `finished` event, and the cancel checkpoint on disk. Reopened from the Runs
 * view, the panel replays the run from metrics.jsonl with every point.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, startVsCode, type VsCodeSession } from './harness';
import type { TrainEvent } from '../../src/train/runs/events';

const folder = mkdtempSync(join(tmpdir(), 'dap-e2e-train-'));
const taskFile = join(folder, 'arith.tasks.jsonl');
copyFileSync(join(ROOT, 'media/samples/arith.tasks.jsonl'), taskFile);
copyFileSync(join(ROOT, 'media/samples/arith.annotations.jsonl'), join(folder, 'arith.annotations.jsonl'));
const runsDir = join(folder, '.dap', 'runs');

let vscode: VsCodeSession | undefined;
before(async () => {
  vscode = await startVsCode({
    folder,
    settings: {
      'dapStudio.train.maxSteps': 500,
      'dapStudio.train.backend': 'wasm',
      // Tiny: a 1-layer built-in model and one SFT epoch, so points arrive within seconds on 2 cores.
      'dapStudio.train.overrides': { builtin: { numLayers: 1, hiddenSize: 32, numHeads: 2, maxPositions: 64 }, sftEpochs: 3, batchSize: 4 },
    },
  });
});
after(async () => {
  await vscode?.close();
  rmSync(folder, { recursive: true, force: true });
});

function runEvents(runDir: string): TrainEvent[] {
  const file = join(runDir, 'metrics.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as TrainEvent);
}

test('one-click DPO: live loss chart, cancel from the panel, run files and checkpoint on disk', { timeout: 300_000 }, async () => {
  const vs = vscode!;
  try {
    await vs.runCommand('DAP: Train DPO on This Data');
    // Nothing is open: the command asks for the data file in its open dialog.
    await vs.page.locator('.quick-input-widget .monaco-button', { hasText: 'Train on this data' }).waitFor({ state: 'visible', timeout: 30_000 });
    await vs.enterPathInFileDialog(taskFile);

    // The loss panel opens beside and fills with live points.
    const frame = await vs.webviewFrame('[data-testid="panel"]', 60_000);
    await frame.waitForSelector('[data-testid="chart-loss"]', { timeout: 120_000 });
    await frame.waitForFunction(() => Number(document.querySelector('[data-testid="chart-loss"]')?.getAttribute('data-points')) >= 5, undefined, { timeout: 120_000 });
    assert.equal(await frame.getAttribute('[data-testid="run-header"]', 'data-status'), 'running');
    // The status bar shows the step and loss.
    const statusText = await vs.page.locator('.statusbar-item', { hasText: /loss \d/ }).first().textContent({ timeout: 10_000 });
    assert.match(statusText ?? '', /\d+\/\d+ · loss \d/);

    await frame.click('[data-testid="cancel"]');
    await frame.waitForSelector('[data-testid="summary"][data-status="cancelled"]', { timeout: 90_000 });

    const runs = readdirSync(runsDir);
    assert.equal(runs.length, 1, `one run folder in ${runsDir}`);
    const runDir = join(runsDir, runs[0]);
    const config = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')) as { method: string; data: string; maxSteps: number };
    assert.equal(config.method, 'dpo');
    assert.equal(config.data, taskFile);
    assert.equal(config.maxSteps, 500);
    const events = runEvents(runDir);
    assert.ok(events.filter((e) => e.type === 'step').length >= 5, 'step events on disk');
    const last = events.at(-1)!;
    assert.equal(last.type, 'finished');
    assert.equal(last.type === 'finished' && last.summary.cancelled, true);
    const ckpt = events.find((e) => e.type === 'checkpoint' && e.reason === 'cancel');
    assert.ok(ckpt && ckpt.type === 'checkpoint' && existsSync(ckpt.path), 'cancel checkpoint folder exists');
    // The chart has every step event that reached the disk for the stage it shows.
    const shown = Number(await frame.getAttribute('[data-testid="chart-loss"]', 'data-points'));
    const lastStage = events.filter((e) => e.type === 'step').at(-1);
    const stageSteps = events.filter((e) => e.type === 'step' && lastStage?.type === 'step' && e.stage === lastStage.stage).length;
    assert.equal(shown, stageSteps);

    // Reopen from the Runs view: the closed panel replays the run from metrics.jsonl.
    await vs.runCommand('View: Close All Editors');
    await vs.runCommand('View: Show DAP Studio');
    const row = vs.page.locator('.monaco-list-row', { hasText: runs[0] });
    await row.waitFor({ state: 'visible', timeout: 30_000 });
    assert.match((await row.textContent()) ?? '', /cancelled/);
    await row.click();
    const again = await vs.webviewFrame('[data-testid="summary"][data-status="cancelled"]', 60_000);
    assert.equal(Number(await again.getAttribute('[data-testid="chart-loss"]', 'data-points')), stageSteps, 'replayed every point');
    // uPlot's stylesheet and the panel script loaded under the webview's CSP.
    const cspErrors = vs.consoleErrors().filter((m) => /Content Security Policy|Refused to/i.test(m));
    assert.deepEqual(cspErrors, []);
    assert.equal(await again.locator('.u-legend').count() > 0, true, 'uPlot legend rendered');
  } catch (e) {
    const dir = await vs.saveArtifacts('training');
    throw new Error(`${(e as Error).message}\n(screenshot and logs in ${dir})`, { cause: e });
  }
});
