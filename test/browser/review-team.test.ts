/**
 * The review panel's Team tab (built bundle, headless Chromium): a report built by src/core/review from
 * items that ask for 2 annotators and real judgments shows the completeness line, annotators per item, and
 * per annotator what they judged, what their next still serves, their agreement and median time, and κ of
 * each two annotators; it is the last tab and has no list filters.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { openWebview, type WebviewPage } from './harness';
import type { ReviewHostToWebview, ReviewWebviewToHost } from '../../webview/protocol/review';
import type { AnnotationEvent, TaskItem } from '../../src/core/types';
import { resolveJudgments } from '../../src/core/judgments';
import { buildReviewReport } from '../../src/core/review/report';

const ts = '2026-01-01T00:00:00.000Z';
const items: TaskItem[] = ['t1', 't2', 't3', 't4'].map((id, i) => ({ id, line: i + 1, offset: 0, format: 'responses', prompt: `p ${id}`, responses: [{ text: 'a' }, { text: 'b' }], meta: { overlap: 2 } }));
const pair = (item: string, annotator: string, choice: 'a' | 'b', ms: number): AnnotationEvent => ({ v: 1, kind: 'pair', item, annotator, ts, shown: [0, 1], choice, ms });
const events = [pair('t1', 'ann', 'a', 3000), pair('t1', 'ben', 'a', 5000), pair('t2', 'ann', 'a', 1000), pair('t2', 'ben', 'b', 9000), pair('t3', 'ann', 'b', 2000)];

let wv: WebviewPage<ReviewWebviewToHost, ReviewHostToWebview> | undefined;
after(async () => {
  await wv?.close();
});

test('Team tab: completeness, coverage, per-annotator progress, agreement, time and κ', async () => {
  wv = await openWebview<ReviewWebviewToHost, ReviewHostToWebview>('review', { viewport: { width: 1000, height: 700 } });
  await wv.waitForMessage((m) => m.type === 'ready');
  const { judgments } = resolveJudgments(events, items);
  const report = buildReviewReport({ taskFile: '/t.jsonl', logFile: '/t.annotations.jsonl', items, judgments, events });
  await wv.fromHost({ type: 'report', report });
  const p = wv.page;
  assert.deepEqual(await p.locator('[role="tab"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-testid'))), ['tab-disagreement', 'tab-model_flagged', 'tab-never_won', 'tab-team']);
  await p.click('[data-testid="tab-team"]');
  await p.waitForSelector('[data-testid="team"]');
  assert.equal(await p.locator('[data-testid="filter-text"]').count(), 0, 'no list filters on the team view');
  assert.match(await p.innerText('[data-testid="team-summary"]'), /4 items: 4 ask for a number of annotators — 2 have them, 2 still short/);
  // t4 by nobody, t3 by one, t1 and t2 by two.
  assert.deepEqual(await p.locator('[data-testid="coverage"]').allTextContents(), ['0: 1', '1: 1', '2: 2', '3+: 0']);
  const rows = await p.locator('[data-testid="team-members"] tbody tr.member').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent?.trim())));
  // ann judged t1–t3 and still owes t4; ben judged t1, t2 and owes t3 (short of its 2) and t4. They agree on t1, not t2.
  // Position bias: ann's A won t1, t2 (choice a), lost t3: 2 of 3; ben: 1 of 2; everyone 3 of 5.
  assert.deepEqual(rows, [
    ['ann', '3', '1', '50.0%', '2', '2.0 s', '66.7% of 3 (21–94%), p = 1.000'],
    ['ben', '2', '2', '50.0%', '2', '7.0 s', '50.0% of 2 (9–91%), p = 1.000'],
  ]);
  assert.equal(await p.innerText('[data-testid="position-bias-overall"]'), '60.0% of 5 (23–88%), p = 1.000');
  assert.deepEqual(await p.locator('[data-testid="team-pairs"] tbody td').allTextContents(), ['ann · ben', '2', '50.0%', '0.000']);
});
