/**
 * End-to-end: a .parquet file (UltraFeedback-binarized layout with nested conversations, written here by
 * hyparquet-writer) opened with "DAP: Annotate Preferences" in a real VS Code (code-server) is read through the
 * same import as `dap import`: its rows show as items (the conversation's user turn as the prompt), a judgment
 * goes to NAME.annotations.jsonl beside the .parquet, and the item ids are those of the imported task file.
 * The toolbar's "Train DPO…" then trains on those judgments (the imported rows with the log beside the .parquet):
 * the run finishes with DPO steps. "DAP: Train DPO on This Data" from the palette with the .parquet's annotator tab
 * active trains on that file too, with no file dialog.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetWriteFile } from 'hyparquet-writer';
import { conversationColumn as conversation, textColumn as text } from '../parquet-fixtures';
import { readTasks } from '../../src/core/tasks';
import { importParquet } from '../../src/core/importRows';
import { startVsCode, type VsCodeSession } from './harness';

const folder = mkdtempSync(join(tmpdir(), 'dap-e2e-parquet-'));
const parquet = join(folder, 'ultra.parquet');
const logFile = join(folder, 'ultra.annotations.jsonl');
const qs = ['What is 2+2?', 'Name a colour.', 'Capital of Spain?'];
parquetWriteFile({
  filename: parquet,
  columnData: [
    { name: 'prompt', data: qs },
    { name: 'chosen', data: qs.map((q, i) => [{ role: 'user', content: q }, { role: 'assistant', content: `good answer ${i}` }]) },
    { name: 'rejected', data: qs.map((q, i) => [{ role: 'user', content: q }, { role: 'assistant', content: `bad answer ${i}` }]) },
  ],
  schema: [{ name: 'root', num_children: 3 }, text('prompt'), ...conversation('chosen'), ...conversation('rejected')],
  rowGroupSize: 2,
});

let vscode: VsCodeSession | undefined;
before(async () => {
  vscode = await startVsCode({
    folder,
    settings: {
      'dapStudio.annotator': 'e2e-parquet',
      // Tiny training for the toolbar's Train DPO… (as training.e2e): a 1-layer built-in model, a few steps.
      'dapStudio.train.maxSteps': 3,
      'dapStudio.train.backend': 'wasm',
      'dapStudio.train.overrides': { builtin: { numLayers: 1, hiddenSize: 32, numHeads: 2, maxPositions: 64 }, sftEpochs: 1, batchSize: 2 },
    },
  });
});
after(async () => {
  await vscode?.close();
  rmSync(folder, { recursive: true, force: true });
});

test('a .parquet file opens in the annotator; a judgment lands beside it with the imported item id', { timeout: 300_000 }, async () => {
  const vs = vscode!;
  const imported = join(tmpdir(), `dap-e2e-parquet-${process.pid}.tasks.jsonl`);
  await importParquet([parquet], imported);
  const { items } = await readTasks(imported);
  rmSync(imported);
  try {
    await vs.runCommand('DAP: Annotate Preferences');
    await vs.page.locator('.quick-input-widget .monaco-button', { hasText: 'Annotate' }).waitFor({ state: 'visible', timeout: 30_000 });
    await vs.enterPathInFileDialog(parquet);
    const root = '[data-testid="annotator-root"]';
    const frame = await vs.webviewFrame(root, 60_000);
    await frame.waitForSelector(`${root}[data-item-id="${items[0].id}"]`, { timeout: 30_000 });
    assert.match((await frame.textContent('[data-testid="prompt"]')) ?? '', /What is 2\+2\?/);
    await vs.pressInWebview(frame, ['1'], '[data-testid="prompt"]');
    await frame.waitForSelector(`${root}[data-item-id="${items[1].id}"]`, { timeout: 30_000 });
    const deadline = Date.now() + 30_000;
    while (!existsSync(logFile) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const events = readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(events.length, 1);
    assert.equal(events[0].item, items[0].id);
    assert.equal(events[0].kind, 'pair');
    assert.equal(events[0].annotator, 'e2e-parquet');
  } catch (e) {
    const dir = await vs.saveArtifacts('parquet');
    throw new Error(`${(e as Error).message}\n(screenshot and logs in ${dir})`, { cause: e });
  }
});

test('the toolbar\'s Train DPO… on a .parquet file trains on its judgments (the imported rows, the log beside the .parquet)', { timeout: 300_000 }, async () => {
  const vs = vscode!;
  const runsDir = join(folder, '.dap', 'runs');
  try {
    const root = '[data-testid="annotator-root"]';
    const frame = await vs.webviewFrame(root, 60_000);
    // Judge the two items the first test left (it judged the first and moved to the second).
    for (let judged = 1; judged < qs.length; judged++) {
      await vs.pressInWebview(frame, ['2'], '[data-testid="prompt"]');
      const deadline = Date.now() + 30_000;
      while (readFileSync(logFile, 'utf8').trim().split('\n').length < judged + 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(readFileSync(logFile, 'utf8').trim().split('\n').length, qs.length);
    await frame.click('[data-testid="train-dpo"]');
    const panel = await vs.webviewFrame('[data-testid="summary"][data-status="finished"]', 180_000);
    assert.ok(panel, 'the loss panel shows the finished run');
    const runs = readdirSync(runsDir);
    assert.equal(runs.length, 1, `one run folder in ${runsDir}`);
    const runDir = join(runsDir, runs[0]);
    const config = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')) as { data: string; log?: string };
    assert.match(config.data, /\.tasks\.jsonl$/, 'trained on the imported JSONL, not the .parquet bytes');
    assert.equal(config.log, logFile);
    const events = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; stage?: string });
    assert.ok(events.some((e) => e.type === 'step' && e.stage === 'dpo'), 'DPO steps');
    assert.equal(events.at(-1)?.type, 'finished');
  } catch (e) {
    const dir = await vs.saveArtifacts('parquet-train');
    throw new Error(`${(e as Error).message}\n(screenshot and logs in ${dir})`, { cause: e });
  }
});

test('DAP: Train DPO on This Data from the palette, with the .parquet annotator tab active, trains on it (no file dialog)', { timeout: 300_000 }, async () => {
  const vs = vscode!;
  const runsDir = join(folder, '.dap', 'runs');
  const before = new Set(readdirSync(runsDir));
  try {
    // The loss panel of the previous test is in front: bring the annotator's tab back.
    await vs.page.locator('.tabs-container .tab', { hasText: 'ultra.parquet' }).first().click();
    await vs.webviewFrame('[data-testid="annotator-root"]', 60_000);
    await vs.runCommand('DAP: Train DPO on This Data');
    // Without a file dialog the run starts by itself: wait for its folder and its last event.
    const fresh = () => readdirSync(runsDir).filter((r) => !before.has(r));
    const last = (run: string) => {
      const metrics = join(runsDir, run, 'metrics.jsonl');
      return existsSync(metrics) ? readFileSync(metrics, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string }).at(-1)?.type : undefined;
    };
    const deadline = Date.now() + 180_000;
    while (!(fresh().length === 1 && last(fresh()[0]) === 'finished') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    assert.equal(fresh().length, 1, `one new run folder in ${runsDir}`);
    assert.equal(last(fresh()[0]), 'finished');
    const config = JSON.parse(readFileSync(join(runsDir, fresh()[0], 'config.json'), 'utf8')) as { data: string; log?: string };
    assert.match(config.data, /\.tasks\.jsonl$/, 'trained on the imported JSONL');
    assert.equal(config.log, logFile);
  } catch (e) {
    const dir = await vs.saveArtifacts('parquet-palette-train');
    throw new Error(`${(e as Error).message}\n(screenshot and logs in ${dir})`, { cause: e });
  }
});
