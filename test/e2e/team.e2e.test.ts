/**
 * End-to-end tests of what a team meets in a real VS Code (code-server), on copies of the sample data:
 * - the Review view lists exactly the task files whose log exists by the one log-name rule
 *   (`arith.tasks.jsonl`, `data.jsonl`; not a log without its task file, not a task file without a log),
 *   and an entry opens its review panel;
 * - Re-annotate in the review panel reveals the file's annotator when it is already open in a background
 *   tab and jumps to the item (it used to stay on its old item);
 * - the annotator's pair columns have equal widths side by side in a wide editor and stack (A above B)
 *   in a narrow one, with long code and unbroken strings in one response;
 * - items that ask for one annotator: the editor serves only items still short of it, counts a judgment
 *   another annotator appends while it is open and skips that item; the review panel's Team tab.
 * - one-click training on a task file nobody judged says so in words and starts no run.
 * - guidelines: the annotator's "Add guidelines…" creates NAME.guidelines.md beside the task file and opens it;
 *   the annotator's pane shows the file and follows edits made to it.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Frame } from 'playwright-core';
import { ROOT, startVsCode, type VsCodeSession } from './harness';
import { loadReview } from '../../src/core/review/load';
import { appendEvent } from '../../src/core/annotationLog';

const LEAD = 'e2e-lead';
const folder = mkdtempSync(join(tmpdir(), 'dap-e2e-team-'));
const arith = join(folder, 'arith.tasks.jsonl');
copyFileSync(join(ROOT, 'media/samples/arith.tasks.jsonl'), arith);
copyFileSync(join(ROOT, 'media/samples/arith.annotations.jsonl'), join(folder, 'arith.annotations.jsonl'));
const longCode = '```js\nconst x = ' + JSON.stringify('y'.repeat(400)) + ';\n```';
const data = join(folder, 'data.jsonl');
writeFileSync(
  data,
  [
    { id: 'wide-1', prompt: 'Which is better?', responses: [longCode, 'short'] },
    { id: 'wide-2', prompt: 'And this?', responses: ['z'.repeat(600), 'also short'] },
  ].map((l) => JSON.stringify(l)).join('\n') + '\n',
);
writeFileSync(join(folder, 'data.annotations.jsonl'), '');
writeFileSync(join(folder, 'orphan.annotations.jsonl'), ''); // a log whose task file does not exist
writeFileSync(join(folder, 'lonely.jsonl'), JSON.stringify({ prompt: 'p', responses: ['a', 'b'] }) + '\n'); // no log
const guided = join(folder, 'guided.jsonl'); // no log, no guidelines yet
writeFileSync(guided, JSON.stringify({ id: 'g-1', prompt: 'Guided question?', responses: ['one', 'two'] }) + '\n');
// Four items that ask for one annotator each; alice already judged pool-1.
const pool = join(folder, 'pool.tasks.jsonl');
const poolLog = join(folder, 'pool.annotations.jsonl');
writeFileSync(pool, [1, 2, 3, 4].map((n) => JSON.stringify({ id: `pool-${n}`, prompt: `Pool question ${n}?`, responses: [`yes ${n}`, `no ${n}`], overlap: 1 })).join('\n') + '\n');
const ts = '2026-01-01T00:00:00.000Z';
writeFileSync(poolLog, JSON.stringify({ v: 1, item: 'pool-1', annotator: 'alice', ts, kind: 'pair', shown: [0, 1], choice: 'a' }) + '\n');

let vscode: VsCodeSession | undefined;
before(async () => {
  vscode = await startVsCode({ folder, settings: { 'dapStudio.annotator': LEAD } });
});
after(async () => {
  await vscode?.close();
  rmSync(folder, { recursive: true, force: true });
});

async function withArtifacts(name: string, body: (vs: VsCodeSession) => Promise<void>): Promise<void> {
  try {
    await body(vscode!);
  } catch (e) {
    const dir = await vscode!.saveArtifacts(name);
    throw new Error(`${(e as Error).message}\n(screenshot and logs in ${dir})`, { cause: e });
  }
}

/** Polls `read` until `done` holds for its value (or the time is up) and returns the last value. */
async function until<T>(read: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (done(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
}

function reviewRows(vs: VsCodeSession) {
  const pane = vs.page.locator('.pane', { has: vs.page.locator('.pane-header h3.title', { hasText: /^Review$/ }) });
  return pane.locator('.monaco-list-row');
}

test('Review view: the task files with a log, by the one log-name rule; an entry opens its panel', { timeout: 300_000 }, () =>
  withArtifacts('team-review-view', async (vs) => {
    await vs.runCommand('DAP Studio: Focus on Review View');
    const rows = reviewRows(vs);
    const names = await until(() => rows.locator('.label-name').allTextContents(), (n) => n.length >= 3);
    assert.deepEqual(names, ['arith.tasks.jsonl', 'data.jsonl', 'pool.tasks.jsonl']);
    await rows.filter({ hasText: 'arith.tasks.jsonl' }).click();
    const frame = await vs.webviewFrame('[data-testid="summary"]', 60_000);
    const summary = await until(async () => (await frame.textContent('[data-testid="summary"]')) ?? '', (t) => /300 items/.test(t));
    assert.match(summary, /\/300 items annotated/);
  }),
);

test('Re-annotate reveals the annotator open in a background tab and jumps to the item', { timeout: 300_000 }, () =>
  withArtifacts('team-reannotate', async (vs) => {
    const { report } = await loadReview(arith, join(folder, 'arith.annotations.jsonl'));
    const [first, second] = report.disagreements.map((d) => d.item);
    await vs.runCommand('View: Close All Editors');
    await vs.runCommand('DAP: Review Likely Annotation Errors');
    await vs.page.locator('.quick-input-widget .monaco-button', { hasText: 'Review annotations' }).waitFor({ state: 'visible', timeout: 30_000 });
    await vs.enterPathInFileDialog(arith);
    let review = await vs.webviewFrame('[data-testid="tab-disagreement"]', 30_000);
    await review.click('[data-testid="tab-disagreement"]');
    await review.click(`[data-testid="list-disagreement"] [data-item="${first}"] [data-testid="reannotate"]`);
    await vs.webviewFrame(`[data-testid="annotator-root"][data-item-id="${first}"]`, 60_000);

    // Back to the review panel: the annotator is now a background tab of the same group.
    await vs.page.locator('.tabs-container .tab', { hasText: 'Review: arith.tasks.jsonl' }).click();
    review = await vs.webviewFrame(`[data-testid="list-disagreement"] [data-item="${second}"]`, 30_000);
    await review.click(`[data-testid="list-disagreement"] [data-item="${second}"] [data-testid="reannotate"]`);
    await vs.webviewFrame(`[data-testid="annotator-root"][data-item-id="${second}"]`, 60_000);
  }),
);

/** The pair columns' boxes inside the annotator frame, and the frame's own width. */
async function columns(frame: Frame): Promise<{ a: DOMRect; b: DOMRect; width: number; scroll: number }> {
  // (No named functions inside evaluate: tsx would wrap them in a helper the page does not have.)
  const [a, b] = await frame.evaluate(() =>
    ['A', 'B'].map((id) => (document.querySelector(`[data-testid="response-${id}"]`) as HTMLElement).getBoundingClientRect().toJSON() as DOMRect),
  );
  const [width, scroll] = await frame.evaluate(() => [document.documentElement.clientWidth, document.documentElement.scrollWidth]);
  return { a, b, width, scroll };
}

test('pair columns: equal and side by side in a wide editor, stacked A above B in a narrow one', { timeout: 300_000 }, () =>
  withArtifacts('team-layout', async (vs) => {
    await vs.page.setViewportSize({ width: 1400, height: 900 });
    await vs.runCommand('View: Close All Editors'); // else the command annotates the active editor's file
    await vs.runCommand('DAP: Annotate Preferences');
    await vs.page.locator('.quick-input-widget .monaco-button', { hasText: 'Annotate' }).waitFor({ state: 'visible', timeout: 30_000 });
    await vs.enterPathInFileDialog(data);
    const frame = await vs.webviewFrame('[data-testid="annotator-root"][data-item-id="wide-1"]', 60_000);
    for (const [viewport, stacked] of [[1400, false], [900, true], [1200, false]] as const) {
      await vs.page.setViewportSize({ width: viewport, height: 900 });
      const c = await until(() => columns(frame), (v) => (stacked ? v.b.y >= v.a.bottom - 0.5 : Math.abs(v.a.y - v.b.y) <= 1));
      const where = `viewport ${viewport}: editor ${c.width}px, A ${JSON.stringify(c.a)}, B ${JSON.stringify(c.b)}`;
      assert.ok(Math.abs(c.a.width - c.b.width) <= 1, `equal widths: ${where}`);
      assert.ok(c.a.right <= c.width + 0.5 && c.b.right <= c.width + 0.5 && c.scroll <= c.width, `both inside the editor: ${where}`);
      if (stacked) assert.ok(c.width < 640 && c.b.y >= c.a.bottom - 0.5, `stacked below 640 px: ${where}`);
      else assert.ok(c.width >= 640 && Math.abs(c.a.y - c.b.y) <= 1 && c.b.x >= c.a.right, `side by side: ${where}`);
    }
  }),
);

test('overlap: next serves items still short of their annotators, judgments others add meanwhile count; the Team tab', { timeout: 300_000 }, () =>
  withArtifacts('team-overlap', async (vs) => {
    await vs.page.setViewportSize({ width: 1400, height: 900 });
    await vs.runCommand('View: Close All Editors');
    await vs.runCommand('DAP: Annotate Preferences');
    await vs.page.locator('.quick-input-widget .monaco-button', { hasText: 'Annotate' }).waitFor({ state: 'visible', timeout: 30_000 });
    await vs.enterPathInFileDialog(pool);
    // pool-1 has its one annotator (alice): the editor opens at pool-2.
    const frame = await vs.webviewFrame('[data-testid="annotator-root"][data-item-id="pool-2"]', 60_000);
    // alice judges pool-3 elsewhere, while this editor is open.
    await appendEvent(poolLog, { v: 1, item: 'pool-3', annotator: 'alice', ts, kind: 'pair', shown: [1, 0], choice: 'b' });
    await frame.waitForSelector('[data-testid="from-others"]:has-text("+1 from others")', { timeout: 30_000 });
    await vs.pressInWebview(frame, ['1'], '[data-testid="prompt"]');
    // Saved, and on to pool-4: pool-3 got its annotator meanwhile.
    await frame.waitForSelector('[data-testid="annotator-root"][data-item-id="pool-4"]', { timeout: 30_000 });
    const lines = await until(async () => readFileSync(poolLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>), (l) => l.length >= 3);
    assert.deepEqual(lines.map((e) => [e.item, e.annotator]), [['pool-1', 'alice'], ['pool-3', 'alice'], ['pool-2', LEAD]]);

    // The Team tab of the review panel.
    await vs.runCommand('DAP: Review Likely Annotation Errors');
    const review = await vs.webviewFrame('[data-testid="tab-team"]', 60_000);
    await review.click('[data-testid="tab-team"]');
    await review.waitForSelector('[data-testid="team-members"]');
    assert.match((await review.textContent('[data-testid="team-summary"]')) ?? '', /4 items: 4 ask for a number of annotators — 3 have them, 1 still short/);
    const rows = await review.locator('[data-testid="team-members"] tbody tr.member').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(0, 3).map((td) => td.textContent?.trim())));
    assert.deepEqual(rows, [['alice', '2', '1'], [LEAD, '1', '1']], 'each has pool-4 left');
  }),
);

test('one-click training on a file nobody judged says "annotate some items first" and starts no run', { timeout: 300_000 }, () =>
  withArtifacts('team-nothing-to-train', async (vs) => {
    await vs.runCommand('View: Close All Editors');
    await vs.runCommand('DAP: Train DPO on This Data');
    await vs.page.locator('.quick-input-widget .monaco-button', { hasText: 'Train on this data' }).waitFor({ state: 'visible', timeout: 30_000 });
    await vs.enterPathInFileDialog(join(folder, 'lonely.jsonl'));
    const text = await vs.waitForNotification(/no judgments yet/, 60_000);
    assert.match(text, /lonely\.jsonl has no judgments yet: annotate some items first, then train\./);
    assert.doesNotMatch(text, /--/);
    assert.equal(existsSync(join(folder, '.dap', 'runs')), false, 'no run folder');
  }),
);

test('guidelines: "Add guidelines…" creates NAME.guidelines.md and opens it; the pane shows it and follows its edits', { timeout: 300_000 }, () =>
  withArtifacts('team-guidelines', async (vs) => {
    const file = join(folder, 'guided.guidelines.md');
    await vs.page.setViewportSize({ width: 1400, height: 900 });
    await vs.runCommand('View: Close All Editors');
    await vs.runCommand('DAP: Annotate Preferences');
    await vs.page.locator('.quick-input-widget .monaco-button', { hasText: 'Annotate' }).waitFor({ state: 'visible', timeout: 30_000 });
    await vs.enterPathInFileDialog(guided);
    const frame = await vs.webviewFrame('[data-testid="annotator-root"][data-item-id="g-1"]', 60_000);
    await frame.waitForSelector('[data-testid="guidelines-toggle"]:has-text("Add guidelines…")', { timeout: 30_000 });
    assert.equal(await frame.locator('[data-testid="guidelines"]').count(), 0, 'no pane without a guidelines file');
    await frame.click('[data-testid="guidelines-toggle"]');
    // The file is created from the template and opened in a text editor beside the annotator.
    await vs.page.locator('.tabs-container .tab', { hasText: 'guided.guidelines.md' }).waitFor({ state: 'visible', timeout: 30_000 });
    assert.match(readFileSync(file, 'utf8'), /^# Annotation guidelines: guided\n/);
    await frame.waitForSelector('[data-testid="guidelines-body"]:has-text("Annotation guidelines: guided")', { timeout: 30_000 });
    // Edited outside the annotator: the pane follows, rendered as Markdown.
    writeFileSync(file, '# Our rules\n\nPrefer **short** answers.\n');
    await frame.waitForSelector('[data-testid="guidelines-body"] strong:has-text("short")', { timeout: 30_000 });
    assert.doesNotMatch((await frame.textContent('[data-testid="guidelines-body"]')) ?? '', /Annotation guidelines: guided/);
    // Collapsed from the pane: the toolbar button shows it again.
    await frame.click('[data-testid="guidelines-close"]');
    await frame.waitForSelector('[data-testid="guidelines"]', { state: 'detached', timeout: 10_000 });
    await frame.click('[data-testid="guidelines-toggle"]:has-text("Guidelines")');
    await frame.waitForSelector('[data-testid="guidelines-body"] strong:has-text("short")', { timeout: 10_000 });
  }),
);
