/**
 * End-to-end test of the annotator in a real VS Code (code-server): opens a copy of the sample task file
 * with "DAP: Annotate Preferences", judges three pairs (A better, B better, tie) and one 3-response
 * ranking (typed order `312` + Enter) with the keyboard only, undoes the ranking with `z`, then checks the
 * annotation log on disk event by event: kinds, choices and rankings, the display order recorded in
 * `shown` (read back from what the webview actually showed), the annotator id from the settings, and
 * item ids in order.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Frame } from 'playwright-core';
import { ROOT, startVsCode, type VsCodeSession } from './harness';

const ANNOTATOR = 'e2e-annotator-7';
const folder = mkdtempSync(join(tmpdir(), 'dap-e2e-annotate-'));
const taskFile = join(folder, 'arith.tasks.jsonl');
const logFile = join(folder, 'arith.annotations.jsonl');
copyFileSync(join(ROOT, 'media/samples/arith.tasks.jsonl'), taskFile);
const items = readFileSync(taskFile, 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l) as { id: string; responses: string[] });

let vscode: VsCodeSession | undefined;
before(async () => {
  vscode = await startVsCode({ folder, settings: { 'dapStudio.annotator': ANNOTATOR } });
});
after(async () => {
  await vscode?.close();
  rmSync(folder, { recursive: true, force: true });
});

const root = '[data-testid="annotator-root"]';

async function currentItem(frame: Frame): Promise<string> {
  return (await frame.getAttribute(root, 'data-item-id')) ?? '';
}

async function waitForItem(frame: Frame, id: string): Promise<void> {
  await frame.waitForSelector(`${root}[data-item-id="${id}"]`, { timeout: 30_000 });
}

/** Log lines on disk, parsed; waits until there are `count` of them. */
async function logEvents(count: number): Promise<Record<string, unknown>[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const lines = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').filter((l) => l.trim()) : [];
    if (lines.length >= count || Date.now() > deadline) return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Which response index each pair column shows, from the text the webview displays. */
async function shownPair(frame: Frame, item: { id: string; responses: string[] }): Promise<number[]> {
  const shown: number[] = [];
  for (const col of ['A', 'B']) {
    const text = (await frame.textContent(`[data-testid="response-${col}"] [data-testid="markdown-body"], [data-testid="response-${col}"] [data-testid="raw-body"]`))?.trim() ?? '';
    const index = item.responses.findIndex((r) => r.trim() === text);
    assert.ok(index >= 0, `${item.id}: column ${col} shows "${text}", which is none of ${JSON.stringify(item.responses)}`);
    shown.push(index);
  }
  return shown;
}

test('judges three pairs and one ranking by keyboard, undoes one, and the log holds exactly those events', { timeout: 300_000 }, async () => {
  try {
    await annotateByKeyboard(vscode!);
  } catch (e) {
    const dir = await vscode!.saveArtifacts('annotator');
    throw new Error(`${(e as Error).message}\n(screenshot and logs in ${dir})`, { cause: e });
  }
});

async function annotateByKeyboard(vs: VsCodeSession): Promise<void> {
  // No editor is open: the command asks for the task file in its open dialog; type the path there.
  await vs.runCommand('DAP: Annotate Preferences');
  await vs.page.locator('.quick-input-widget .monaco-button', { hasText: 'Annotate' }).waitFor({ state: 'visible', timeout: 30_000 });
  await vs.enterPathInFileDialog(taskFile);

  const frame = await vs.webviewFrame(root, 60_000);
  await waitForItem(frame, items[0].id); // a fresh log: starts at the first item
  const expected: Record<string, unknown>[] = [];

  // Three pairs: A better (1), B better (2), tie (3). Each moves on to the next item once saved.
  const keys: [string, string][] = [['1', 'a'], ['2', 'b'], ['3', 'tie']];
  for (const [n, [key, choice]] of keys.entries()) {
    const item = items[n];
    assert.equal(item.responses.length, 2);
    assert.equal(await frame.getAttribute(root, 'data-mode'), 'pair');
    const shown = await shownPair(frame, item);
    await vs.pressInWebview(frame, [key], '[data-testid="prompt"]');
    await waitForItem(frame, items[n + 1].id);
    expected.push({ v: 1, kind: 'pair', item: item.id, annotator: ANNOTATOR, shown, choice });
    assert.equal((await logEvents(expected.length)).length, expected.length, `event for ${item.id} on disk`);
  }

  // One ranking: the 4th item has three responses, shown as rank cards numbered 1..3.
  const rankItem = items[3];
  assert.equal(rankItem.responses.length, 3);
  assert.equal(await frame.getAttribute(root, 'data-mode'), 'rank');
  const cardIndex: number[] = [];
  for (const card of [1, 2, 3]) {
    cardIndex.push(Number(await frame.getAttribute(`[data-testid="rank-card-${card}"]`, 'data-response-index')));
  }
  assert.deepEqual([...cardIndex].sort(), [0, 1, 2]);
  await vs.pressInWebview(frame, ['3', '1', '2', 'Enter'], '[data-testid="prompt"]');
  await waitForItem(frame, items[4].id);
  expected.push({
    v: 1,
    kind: 'rank',
    item: rankItem.id,
    annotator: ANNOTATOR,
    shown: cardIndex,
    ranking: [[cardIndex[2]], [cardIndex[0]], [cardIndex[1]]],
  });
  assert.equal((await logEvents(expected.length)).length, expected.length, 'rank event on disk');

  // Undo the most recent judgment (the ranking): an undo event, and the editor goes back to that item.
  await vs.pressInWebview(frame, ['z'], '[data-testid="prompt"]');
  await waitForItem(frame, rankItem.id);
  expected.push({ v: 1, kind: 'undo', item: rankItem.id, annotator: ANNOTATOR });

  const events = await logEvents(expected.length);
  await new Promise((r) => setTimeout(r, 500)); // nothing else may follow
  const final = await logEvents(expected.length);
  assert.equal(final.length, expected.length, `log has exactly ${expected.length} events:\n${readFileSync(logFile, 'utf8')}`);
  for (const e of events) {
    assert.match(String(e.ts), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, 'ts is ISO-8601 UTC');
  }
  const comparable = events.map(({ ts: _ts, ms: _ms, note: _note, ...rest }) => rest);
  assert.deepEqual(comparable, expected);
  assert.equal(await currentItem(frame), rankItem.id);
  assert.deepEqual(
    vs.consoleErrors().filter((e) => !/Failed to load resource/.test(e)),
    [],
    'no console errors in the workbench or the webview',
  );
}
