/**
 * Component test of the review webview (dist/webview/review.js) in headless Debian Chromium: the host
 * double posts a real report (built by src/core/review from hand-made judgments); the test checks the
 * counts, tab switching, filters, sort, that every button posts the right message, and the stale note of
 * reloaded scores (computed by src/core/review/persist from real files).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { openWebview, type WebviewPage } from './harness';
import type { ReviewHostToWebview, ReviewWebviewToHost } from '../../webview/protocol/review';
import type { Judgment, TaskItem } from '../../src/core/types';
import { buildReviewReport } from '../../src/core/review/report';
import type { ReviewReport } from '../../src/core/review/types';
import { scoresFreshness, snapshotFile, type SavedScores } from '../../src/core/review/persist';
import { appendEvent } from '../../src/core/annotationLog';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function item(id: string, line: number, texts: string[]): TaskItem {
  return { id, line, offset: 0, format: 'responses', prompt: `What about ${id}?`, responses: texts.map((text) => ({ text })) };
}
const j = (itemId: string, annotator: string, ranking: number[][], bothBad = false, shown?: number[]): Judgment => ({
  item: itemId,
  annotator,
  ranking,
  bothBad,
  ts: '2026-01-01T00:00:00Z',
  kind: ranking.flat().length > 2 ? 'rank' : 'pair',
  ...(shown ? { shown } : {}),
});

const items = [
  item('alpha', 1, ['4', '5']),
  item('beta', 2, ['<img src=x onerror="window.__pwned=1">', 'ok']),
  item('gamma', 3, ['x', 'y', 'z']),
  item('delta', 4, ['yes', 'no']),
  item('eps', 5, ['p', 'q', 'r']),
];
const judgments = [
  j('alpha', 'alice', [[0], [1]], false, [1, 0]), // alice saw #2 as A and pressed B
  j('alpha', 'carol', [[1], [0]], false, [0, 1]), // carol saw #1 as A and pressed B too: opposite labels
  j('beta', 'alice', [[1], [0]]),
  j('beta', 'bob', [[1], [0]]), // response 0 lost both comparisons, by 2 annotators: never won
  j('gamma', 'alice', [[0], [1], [2]]),
  j('gamma', 'bob', [[2], [1], [0]]), // τ = −1; no response lost every comparison
  j('delta', 'bob', [[0], [1]]),
  j('delta', 'carol', [[0, 1]]), // tie vs choice: partial
  j('eps', 'alice', [[0], [1], [2]], false, [2, 0, 1]),
  j('eps', 'bob', [[1], [0], [2]]), // τ = 1/3; response 2 never won (4 losses); everything lost something
];
function report(withScores: boolean): ReviewReport {
  return buildReviewReport(
    { taskFile: '/tmp/t.jsonl', logFile: '/tmp/t.annotations.jsonl', items, judgments, events: [] },
    withScores
      ? {
          scores: [
            { item: 'alpha', scores: [-2, 1], scorer: 'kfold', fold: 0 }, // 0>1 margin −3, 1>0 +3
            { item: 'delta', scores: [0, 0.5], scorer: 'kfold', fold: 1 }, // 0>1 margin −0.5
          ],
          scoresMethod: 'k-fold DPO (k = 2, β = 0.1)',
        }
      : {},
  );
}

let page: WebviewPage<ReviewWebviewToHost, ReviewHostToWebview>;
before(async () => {
  page = await openWebview<ReviewWebviewToHost, ReviewHostToWebview>('review', { theme: 'dark' });
  await page.waitForMessage((m) => m.type === 'ready', 5000);
});
after(async () => {
  await page?.close();
});

const texts = (p: Page, selector: string): Promise<string[]> => p.locator(selector).allTextContents();

test('posts ready, then shows the lists with counts from the report', async () => {
  assert.deepEqual(await page.messages(), [{ type: 'ready' }]);
  const r = report(false);
  await page.fromHost({ type: 'report', report: r });
  const p = page.page;
  // Tabs by usefulness; the disagreements first and open.
  await p.waitForSelector('[data-testid="list-disagreement"] [data-testid="entry"]');
  assert.deepEqual(
    await p.locator('[role="tab"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-testid'))),
    ['tab-disagreement', 'tab-model_flagged', 'tab-never_won', 'tab-team'],
  );
  assert.equal(await p.getAttribute('[data-testid="tab-disagreement"]', 'aria-selected'), 'true');
  assert.match((await p.textContent('[data-testid="tab-never_won"]')) ?? '', /^\s*Never won \(2\+ annotators\)/);
  assert.equal(await p.textContent('[data-testid="count-never_won"]'), String(r.neverWon.length));
  assert.equal(await p.textContent('[data-testid="count-disagreement"]'), String(r.disagreements.length));
  assert.equal(await p.textContent('[data-testid="count-model_flagged"]'), '–');
  // Never won: only responses that lost every comparison across 2+ annotators, most losses first: eps's #3
  // (4 losses), beta's #1 (2); not alpha's or delta's single-judgment losers.
  await p.click('[data-testid="tab-never_won"]');
  const shown = await p.locator('[data-testid="list-never_won"] [data-testid="entry"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-item')));
  assert.deepEqual(shown, ['eps', 'beta']);
  assert.deepEqual(shown, r.neverWon.map((e) => e.item));
  assert.deepEqual(await texts(p, '[data-item="eps"] tr.lost td:first-child'), ['#3']);
  // Response text is shown as text: the <img onerror> never runs.
  assert.match((await texts(p, '[data-item="beta"] td.text')).join('|'), /<img src=x onerror/);
  assert.equal(await p.evaluate(() => (globalThis as { __pwned?: number }).__pwned), undefined);
  assert.equal(await p.locator('[data-testid="export-flagged"]').isDisabled(), true);
});

test('disagreements show what each annotator saw: responses by number, each judgment with its screen labels', async () => {
  const p = page.page;
  await p.click('[data-testid="tab-disagreement"]');
  const alpha = '[data-testid="list-disagreement"] [data-item="alpha"]';
  await p.waitForSelector(alpha);
  assert.deepEqual(await texts(p, `${alpha} .responses b`), ['#1', '#2']);
  // alice preferred #1, which she saw as B; carol preferred #2, which she also saw as B.
  assert.deepEqual(await texts(p, `${alpha} [data-annotator="alice"] [data-testid="judgment-order"]`), ['#1 > #2']);
  assert.deepEqual(await texts(p, `${alpha} [data-annotator="alice"] [data-testid="judgment-saw"]`), ['saw A = #2, B = #1; chose B']);
  assert.deepEqual(await texts(p, `${alpha} [data-annotator="carol"] [data-testid="judgment-order"]`), ['#2 > #1']);
  assert.deepEqual(await texts(p, `${alpha} [data-annotator="carol"] [data-testid="judgment-saw"]`), ['saw A = #1, B = #2; chose B']);
  // A ranking: the labels alice's cards had, and the order she typed over them.
  const eps = '[data-testid="list-disagreement"] [data-item="eps"]';
  assert.deepEqual(await texts(p, `${eps} [data-annotator="alice"] [data-testid="judgment-saw"]`), ['saw 1 = #3, 2 = #1, 3 = #2; ranked 2 > 3 > 1']);
  // No display order recorded (bob's judgment here): the order alone, no guessed letters.
  assert.equal(await p.locator(`${eps} [data-annotator="bob"] [data-testid="judgment-saw"]`).count(), 0);
  assert.equal(await p.locator('[data-testid="list-disagreement"] .judgments').first().evaluate((e) => /\b[AB] ?>/.test(e.textContent ?? '')), false);
});

test('filters: all-lost only, text, annotator; sort by file order', async () => {
  const p = page.page;
  const entries = (): Promise<(string | null)[]> =>
    p.locator('[data-testid="entry"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-item')));
  await p.click('[data-testid="tab-never_won"]');
  await p.check('[data-testid="filter-all-lost"]');
  assert.deepEqual(await entries(), ['eps']);
  await p.uncheck('[data-testid="filter-all-lost"]');

  await p.click('[data-testid="tab-disagreement"]');
  // Lowest τ first: alpha and gamma (−1, by line), then delta (partial, 0), then eps (τ = 1/3).
  assert.deepEqual(await entries(), ['alpha', 'gamma', 'delta', 'eps']);
  await p.selectOption('[data-testid="filter-annotator"]', 'carol');
  assert.deepEqual(await entries(), ['alpha', 'delta']);
  await p.selectOption('[data-testid="filter-annotator"]', '');
  await p.fill('[data-testid="filter-text"]', 'gam');
  assert.deepEqual(await entries(), ['gamma']);
  await p.fill('[data-testid="filter-text"]', '');
  await p.selectOption('[data-testid="sort"]', 'line');
  assert.deepEqual(await entries(), ['alpha', 'gamma', 'delta', 'eps']);
  await p.fill('[data-testid="filter-text"]', 'yes'); // matches a response text of delta
  assert.deepEqual(await entries(), ['delta']);
  await p.fill('[data-testid="filter-text"]', '');
  await p.selectOption('[data-testid="sort"]', 'severity');
  // Per-annotator agreement table: one row per annotator.
  assert.deepEqual(
    await p.locator('[data-testid="annotator-agreement"] tbody tr td:first-child').allTextContents(),
    ['alice', 'bob', 'carol'],
  );
});

test('buttons post re-annotate, confirm, refresh, score and export; a confirmed entry leaves the list', async () => {
  const p = page.page;
  await page.clearMessages();
  await p.click('[data-testid="tab-disagreement"]');
  await p.click('[data-item="gamma"] [data-testid="reannotate"]');
  await p.click('[data-item="eps"] [data-testid="confirm"]');
  await p.click('[data-testid="refresh"]');
  await p.click('[data-testid="score-model"]');
  assert.deepEqual(await page.messages(), [
    { type: 'reannotate', item: 'gamma' },
    { type: 'confirm', list: 'disagreement', item: 'eps' },
    { type: 'refresh' },
    { type: 'scoreModel' },
  ]);
  await page.fromHost({ type: 'confirmed', list: 'disagreement', item: 'eps' });
  await p.waitForSelector('[data-testid="list-disagreement"] [data-item="eps"]', { state: 'detached' });
  // Confirming in one list leaves the others alone.
  await p.click('[data-testid="tab-never_won"]');
  assert.equal(await p.locator('[data-testid="list-never_won"] [data-item="eps"]').count(), 1);
});

test('model-flagged list: margins, most negative first, export posts exportFlagged; busy and error show', async () => {
  const p = page.page;
  await page.fromHost({ type: 'report', report: report(true) });
  await p.click('[data-testid="tab-model_flagged"]');
  await p.waitForSelector('[data-testid="list-model_flagged"]');
  assert.equal(await p.textContent('[data-testid="count-model_flagged"]'), '2');
  const shown = await p.locator('[data-testid="entry"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-item')));
  assert.deepEqual(shown, ['alpha', 'delta']);
  assert.match((await p.textContent('[data-item="alpha"] .tag')) ?? '', /margin -3\.000/);
  assert.match((await p.textContent('[data-testid="flagged-method"]')) ?? '', /k = 2/);
  await page.clearMessages();
  await p.click('[data-testid="export-flagged"]');
  await p.click('[data-item="delta"] [data-testid="confirm"]');
  assert.deepEqual(await page.messages(), [{ type: 'exportFlagged' }, { type: 'confirm', list: 'model_flagged', item: 'delta' }]);
  await page.fromHost({ type: 'busy', message: 'fold 1/2: training' });
  assert.equal(await p.textContent('[data-testid="busy"]'), 'fold 1/2: training');
  await page.fromHost({ type: 'busy', message: null });
  await page.fromHost({ type: 'error', message: 'no model' });
  assert.equal(await p.textContent('[data-testid="error"]'), 'no model');
});

test('saved scores reloaded after a window reload: the stale note renders with its count and re-score posts scoreModel', async () => {
  const p = page.page;
  const dir = mkdtempSync(join(tmpdir(), 'dap-review-stale-'));
  const tasks = join(dir, 't.jsonl');
  const log = join(dir, 't.annotations.jsonl');
  writeFileSync(tasks, JSON.stringify({ id: 'alpha', prompt: 'What about alpha?', responses: ['4', '5'] }) + '\n');
  const ts = '2026-01-01T00:00:00.000Z';
  await appendEvent(log, { v: 1, kind: 'pair', item: 'alpha', annotator: 'alice', shown: [0, 1], choice: 'a', ts });
  const saved: SavedScores = {
    version: 1, taskFile: tasks, logFile: log, source: { kind: 'kfold', k: 2 }, flaggedMethod: 'k-fold DPO (k = 2, β = 0.1)',
    scoredAt: ts, log: await snapshotFile(log, true), task: await snapshotFile(tasks, false), scores: [],
  };
  const fresh = await scoresFreshness(saved, log);
  await page.fromHost({ type: 'report', report: report(true), scoresStatus: { scoredAt: ts, ...fresh } });
  await p.click('[data-testid="tab-model_flagged"]');
  await p.waitForSelector('[data-testid="scores-saved"]');
  assert.equal(await p.locator('[data-testid="scores-stale"]').count(), 0);

  await appendEvent(log, { v: 1, kind: 'pair', item: 'alpha', annotator: 'bob', shown: [0, 1], choice: 'b', ts });
  await appendEvent(log, { v: 1, kind: 'pair', item: 'alpha', annotator: 'carol', shown: [1, 0], choice: 'a', ts });
  const stale = await scoresFreshness(saved, log);
  await page.fromHost({ type: 'report', report: report(true), scoresStatus: { scoredAt: ts, ...stale } });
  await p.waitForSelector('[data-testid="scores-stale"]');
  assert.match((await p.textContent('[data-testid="scores-stale"]')) ?? '', /scored before 2 newer judgments — re-score/);
  await page.clearMessages();
  await p.click('[data-testid="rescore"]');
  assert.deepEqual(await page.messages(), [{ type: 'scoreModel' }]);
});

test('Models section: win rate of B over A with its interval, overall and per annotator (verifier included), position bias', async () => {
  const cmp = (id: string, line: number): TaskItem => ({ ...item(id, line, ['a', 'b']), responses: [{ text: 'a', model: 'sft' }, { text: 'b', model: 'dpo-round1' }] });
  const cItems = [cmp('c1', 1), cmp('c2', 2), cmp('c3', 3)];
  const withShown = (x: Judgment, shown: number[]): Judgment => ({ ...x, shown });
  const cJudgments = [
    withShown(j('c1', 'alice', [[1], [0]]), [1, 0]), withShown(j('c2', 'alice', [[1], [0]]), [0, 1]), withShown(j('c3', 'alice', [[0, 1]]), [0, 1]),
    withShown(j('c1', 'verifier', [[1], [0]]), [0, 1]), withShown(j('c2', 'verifier', [[0, 1]], true), [0, 1]),
  ];
  const r = buildReviewReport({ taskFile: '/tmp/c.jsonl', logFile: '/tmp/c.annotations.jsonl', items: cItems, judgments: cJudgments, events: [] });
  assert.ok(r.models);
  await page.fromHost({ type: 'report', report: r });
  const p = page.page;
  await p.waitForSelector('[data-testid="models-section"]');
  assert.equal(await p.textContent('[data-testid="model-a"]'), 'sft');
  assert.equal(await p.textContent('[data-testid="model-b"]'), 'dpo-round1');
  const rows = await p.locator('[data-testid="models-row"]').evaluateAll((els) => els.map((e) => [...e.querySelectorAll('td')].map((td) => td.textContent?.trim())));
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const expected = [{ ...r.models.overall, annotator: 'overall (per item)' }, ...r.models.perAnnotator]
    .map((x) => [x.annotator, pct(x.rate), `${pct(x.low)} – ${pct(x.high)}`, String(x.wins), String(x.losses), String(x.ties), String(x.bothBad)]);
  assert.deepEqual(rows, expected);
  // alice: 2 wins + 1 tie of 3 = 83.3%; the verifier: 1 win, 1 both-bad apart.
  assert.deepEqual(rows.slice(1).map((x) => [x[0], x[1], x[6]]), [['alice', '83.3%', '0'], ['verifier', '100.0%', '1']]);
  assert.match((await p.textContent('[data-testid="models-position-bias"]')) ?? '', /alice 1\/2 = 50\.0%/);
  assert.doesNotMatch((await p.textContent('[data-testid="models-position-bias"]')) ?? '', /verifier/);
  await page.fromHost({ type: 'report', report: report(false) });
  assert.equal(await p.locator('[data-testid="models-section"]').count(), 0, 'no Models section without two models');
});
