/**
 * End-to-end test of the review panel in a real VS Code (code-server): opens "DAP: Review Likely
 * Annotation Errors" on a copy of the sample data, checks the lists' counts against the data core, marks
 * one disagreement "label confirmed" (a `confirm` event is appended and the entry leaves the list), then
 * re-annotates another flagged item: the annotator opens at that item, a key press judges it, and the
 * new `pair` event is in the log on disk (the old events untouched). The Review view then lists the task
 * file once (its log beside it maps back to it, not to a NAME.jsonl that does not exist).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, startVsCode, type VsCodeSession } from './harness';
import { loadReview } from '../../src/core/review/load';

const REVIEWER = 'e2e-reviewer';
const folder = mkdtempSync(join(tmpdir(), 'dap-e2e-review-'));
const taskFile = join(folder, 'arith.tasks.jsonl');
// The annotator's log path for this task file (NAME.annotations.jsonl with NAME = file name without
// .jsonl and .tasks: the one rule of src/core/project.ts).
const logFile = join(folder, 'arith.annotations.jsonl');
copyFileSync(join(ROOT, 'media/samples/arith.tasks.jsonl'), taskFile);
copyFileSync(join(ROOT, 'media/samples/arith.annotations.jsonl'), logFile);
const items = new Map(
  readFileSync(taskFile, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { id: string; responses: string[] })
    .map((it) => [it.id, it]),
);

let vscode: VsCodeSession | undefined;
before(async () => {
  vscode = await startVsCode({ folder, settings: { 'dapStudio.annotator': REVIEWER } });
});
after(async () => {
  await vscode?.close();
  rmSync(folder, { recursive: true, force: true });
});

function logLines(): string[] {
  return existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').filter((l) => l.trim()) : [];
}
async function waitForLines(count: number): Promise<Record<string, unknown>[]> {
  const deadline = Date.now() + 30_000;
  while (logLines().length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  return logLines().map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('review panel: counts, label confirmed, re-annotate in the annotator', { timeout: 300_000 }, async () => {
  try {
    await reviewFlow(vscode!);
  } catch (e) {
    const dir = await vscode!.saveArtifacts('review');
    throw new Error(`${(e as Error).message}\n(screenshot and logs in ${dir})`, { cause: e });
  }
});

async function reviewFlow(vs: VsCodeSession): Promise<void> {
  const { report } = await loadReview(taskFile, logFile);
  assert.ok(report.disagreements.length >= 2, 'the sample data has disagreements');
  const before = logLines();

  await vs.runCommand('DAP: Review Likely Annotation Errors');
  await vs.page.locator('.quick-input-widget .monaco-button', { hasText: 'Review annotations' }).waitFor({ state: 'visible', timeout: 30_000 });
  await vs.enterPathInFileDialog(taskFile);

  let frame = await vs.webviewFrame('[data-testid="list-disagreement"]', 60_000); // the first tab
  assert.equal((await frame.textContent('[data-testid="count-never_won"]'))?.trim(), String(report.neverWon.length));
  assert.equal((await frame.textContent('[data-testid="count-disagreement"]'))?.trim(), String(report.disagreements.length));

  // Label confirmed: a confirm event for the first disagreement, which then leaves the list.
  await frame.click('[data-testid="tab-disagreement"]');
  const pairItems = report.disagreements.filter((d) => items.get(d.item)?.responses.length === 2).map((d) => d.item);
  const [confirmed, reannotated] = pairItems;
  await frame.click(`[data-testid="list-disagreement"] [data-item="${confirmed}"] [data-testid="confirm"]`);
  const afterConfirm = await waitForLines(before.length + 1);
  assert.deepEqual(afterConfirm.slice(0, before.length), before.map((l) => JSON.parse(l)), 'earlier events untouched');
  const confirmEvent = afterConfirm[before.length];
  assert.deepEqual([confirmEvent.kind, confirmEvent.item, confirmEvent.reason, confirmEvent.annotator], ['confirm', confirmed, 'disagreement', REVIEWER]);
  await frame.waitForSelector(`[data-testid="list-disagreement"] [data-item="${confirmed}"]`, { state: 'detached', timeout: 15_000 });
  assert.equal((await frame.textContent('[data-testid="count-disagreement"]'))?.trim(), String(report.disagreements.length - 1));

  // Re-annotate: the annotator opens at that item; "1" judges it; the new pair event is appended.
  frame = await vs.webviewFrame('[data-testid="list-disagreement"]', 10_000);
  await frame.click(`[data-testid="list-disagreement"] [data-item="${reannotated}"] [data-testid="reannotate"]`);
  const annotator = await vs.webviewFrame(`[data-testid="annotator-root"][data-item-id="${reannotated}"]`, 60_000);
  await vs.pressInWebview(annotator, ['1'], '[data-testid="prompt"]');
  const afterJudge = await waitForLines(before.length + 2);
  assert.equal(afterJudge.length, before.length + 2, `one new judgment:\n${logLines().slice(before.length).join('\n')}`);
  const judged = afterJudge[before.length + 1];
  assert.deepEqual([judged.kind, judged.item, judged.annotator, judged.choice], ['pair', reannotated, REVIEWER, 'a']);
  assert.deepEqual(afterJudge.slice(0, before.length + 1), afterConfirm, 'the log was only appended to');

  // The Review view lists this task file once: the log beside it names it by the core's log → task rule.
  await vs.runCommand('DAP Studio: Focus on Review View');
  const pane = vs.page.locator('.pane', { has: vs.page.locator('.pane-header h3.title', { hasText: /^Review$/ }) });
  const rows = pane.locator('.monaco-list-row .label-name');
  await rows.first().waitFor({ state: 'visible', timeout: 30_000 });
  await vs.page.waitForTimeout(500); // the workspace's logs are found after the first entry shows
  assert.deepEqual(await rows.allTextContents(), ['arith.tasks.jsonl']);
  assert.deepEqual(
    vs.consoleErrors().filter((e) => !/Failed to load resource/.test(e)),
    [],
    'no console errors in the workbench or the webviews',
  );
}
