/**
 * End-to-end test of one-click training in a real VS Code (code-server): on a copy of the sample task file
 * and its annotation log, "DAP: Train DPO on This Data" starts the real worker process (tiny built-in model
 * via the `dapStudio.train.*` settings), the loss panel opens and its loss chart fills with live points, its
 * stage strip and the status bar show the two stages (SFT warm-up, then DPO) with the running one's progress,
 * the panel's Cancel button stops the run, and the run folder holds config.json, metrics.jsonl with step
 * events ending in a cancelled `finished` event, and the cancel checkpoint on disk. Reopened from the Runs
 * view, the panel replays the run from metrics.jsonl with every point. The folder is a git repository that
 * does not ignore `.dap/`: the run's start offers to add it to .gitignore, and accepting makes git ignore it.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
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
execFileSync('git', ['init', '-q', folder]);
/** Whether git ignores `path` in the test folder (`git check-ignore` exits 0 for an ignored path, 1 otherwise). */
function gitIgnores(path: string): boolean {
  try {
    execFileSync('git', ['check-ignore', '-q', '--', path], { cwd: folder });
    return true;
  } catch (e) {
    if ((e as { status?: number }).status === 1) return false;
    throw e;
  }
}

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
    // The runs land in the workspace, which git does not ignore yet: the offer, accepted.
    assert.equal(gitIgnores('.dap/runs'), false);
    const offer = await vs.waitForNotification(/git does not ignore here/, 60_000);
    assert.match(offer, /DAP Studio keeps training runs in \.dap\/ .*Add \.dap\/ to \.gitignore\?/);
    await vs.page.locator('.notifications-toasts .notification-list-item', { hasText: /git does not ignore here/ })
      .locator('.monaco-button', { hasText: 'Add .dap/ to .gitignore' }).click();
    const ignoreFile = join(folder, '.gitignore');
    const readIgnore = () => (existsSync(ignoreFile) ? readFileSync(ignoreFile, 'utf8') : '');
    for (const deadline = Date.now() + 30_000; !readIgnore().endsWith('\n') && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 200));
    assert.equal(readIgnore(), '.dap/\n');
    assert.equal(gitIgnores('.dap/runs'), true, 'git ignores the runs now');
    await frame.waitForSelector('[data-testid="chart-loss"]', { timeout: 120_000 });
    await frame.waitForFunction(() => Number(document.querySelector('[data-testid="chart-loss"]')?.getAttribute('data-points')) >= 5, undefined, { timeout: 120_000 });
    assert.equal(await frame.getAttribute('[data-testid="run-header"]', 'data-status'), 'running');
    // The stages of the built-in model's run, each with its own progress: the panel's strip (SFT warm-up, then
    // DPO) with the running stage's steps and ETA, the stage to come with its planned steps; the status bar too.
    const strip = await frame.locator('[data-testid="stage-item"]').evaluateAll((els) =>
      els.map((e) => [e.getAttribute('data-stage'), e.getAttribute('data-state'), e.querySelector('[data-testid="stage-progress"]')?.textContent?.trim() ?? '']));
    assert.deepEqual(strip.map(([stage]) => stage), ['sft', 'dpo'], JSON.stringify(strip));
    const running = strip.find(([, state]) => state === 'running');
    assert.match(running?.[2] ?? '', /^\d+\/\d+ · ETA \S+$/, JSON.stringify(strip));
    if (running?.[0] === 'sft') assert.match(strip[1][2] ?? '', /^waits · \d+ steps$/, JSON.stringify(strip));
    else assert.equal(strip[0][1], 'done', JSON.stringify(strip));
    const statusText = await vs.page.locator('.statusbar-item', { hasText: /loss \d/ }).first().textContent({ timeout: 10_000 });
    assert.match((statusText ?? '').trim(), /(sft|dpo) \d+\/\d+ · loss \d.* · stage (1 of 2, then dpo \(\d+ steps\)|2 of 2)$/);

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
