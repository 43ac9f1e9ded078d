/**
 * End-to-end: a .parquet file (UltraFeedback-binarized layout with nested conversations, written here by
 * hyparquet-writer) opened with "DAP: Annotate Preferences" in a real VS Code (code-server) is read through the
 * same import as `dap import`: its rows show as items (the conversation's user turn as the prompt), a judgment
 * goes to NAME.annotations.jsonl beside the .parquet, and the item ids are those of the imported task file.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
  vscode = await startVsCode({ folder, settings: { 'dapStudio.annotator': 'e2e-parquet' } });
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
