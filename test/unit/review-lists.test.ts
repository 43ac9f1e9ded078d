/**
 * Unit tests of the review lists (src/core/review): never won, disagreements, per-annotator agreement
 * with the majority, confirm handling and model-flagged margins, on small hand-made judgments whose
 * answers are worked out by hand in the comments.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AnnotationEvent, Judgment, TaskItem } from '../../src/core/types';
import { confirmedItems, disagreementList, flaggedList, labelledPairs, neverWonList, scorePairs } from '../../src/core/review/lists';
import { annotatorMajority, kendallTauB, responseRecords } from '../../src/core/review/stats';
import { buildReviewReport } from '../../src/core/review/report';

function item(id: string, line: number, n: number): TaskItem {
  return {
    id,
    line,
    offset: 0,
    format: 'responses',
    prompt: `prompt ${id}`,
    responses: Array.from({ length: n }, (_, i) => ({ text: `${id}-r${i}` })),
  };
}
function judged(itemId: string, annotator: string, ranking: number[][], bothBad = false): Judgment {
  return { item: itemId, annotator, ranking, bothBad, ts: '2026-01-01T00:00:00Z', kind: ranking.flat().length > 2 ? 'rank' : 'pair' };
}

const items = [item('p1', 1, 2), item('p2', 2, 2), item('p3', 3, 2), item('p4', 4, 2), item('r1', 5, 3), item('r2', 6, 4), item('r3', 7, 3)];
const judgments: Judgment[] = [
  judged('p1', 'alice', [[0], [1]]), // A > B
  judged('p1', 'bob', [[1], [0]]), //   B > A: opposite
  judged('p2', 'alice', [[0], [1]]),
  judged('p2', 'bob', [[0], [1]]), //   r1 of p2 lost twice, never won
  judged('p3', 'alice', [[0, 1]], true), // both bad
  judged('p3', 'bob', [[0], [1]]), //   partial disagreement; r1 lost once; r0 only "bad" + 1 win
  judged('p4', 'alice', [[0, 1]]), // tie
  judged('p4', 'bob', [[0, 1]]), //   tie: agreement, nobody lost
  judged('r1', 'alice', [[0], [1], [2]]),
  judged('r1', 'bob', [[2], [1], [0]]), // reversed: τ = −1
  judged('r2', 'alice', [[0], [1], [2], [3]]),
  judged('r2', 'bob', [[0], [2], [1], [3]]), // one adjacent swap of 6 pairs: τ = (5 − 1)/6 = 2/3
  judged('r3', 'alice', [[0, 1], [2]]),
  judged('r3', 'bob', [[0], [1], [2]]), // τ-b = (2 − 0)/sqrt((3 − 1)(3 − 0)) = 0.8165
];

/** Independent float64 τ-b: from the definition with explicit concordance products. */
function tauReference(x: number[], y: number[]): number {
  let num = 0;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < x.length; i++) {
    for (let j = 0; j < x.length; j++) {
      if (i === j) continue;
      const a = Math.sign(x[i] - x[j]);
      const b = Math.sign(y[i] - y[j]);
      num += a * b;
      sx += a * a;
      sy += b * b;
    }
  }
  return num / Math.sqrt(sx * sy);
}

test('kendallTauB matches the definition, with and without ties', () => {
  const cases: [number[], number[]][] = [
    [[0, 1, 2], [2, 1, 0]],
    [[0, 1, 2, 3], [0, 2, 1, 3]],
    [[0, 0, 1], [0, 1, 2]],
    [[0, 1, 1, 2, 3], [1, 0, 2, 2, 3]],
  ];
  for (const [x, y] of cases) assert.ok(Math.abs(kendallTauB(x, y) - tauReference(x, y)) < 1e-12, `${x} vs ${y}`);
  assert.equal(kendallTauB([0, 1, 2], [2, 1, 0]), -1);
  assert.ok(Math.abs(kendallTauB([0, 1, 2, 3], [0, 2, 1, 3]) - 2 / 3) < 1e-12);
  assert.ok(Number.isNaN(kendallTauB([0, 0, 0], [0, 1, 2])), 'all tied: undefined');
});

test('responseRecords counts wins, losses, ties and both-bad per response', () => {
  // r3: alice [0,1] > [2] → r0 and r1 tie (1 each), both beat r2; bob 0 > 1 > 2.
  const r3 = responseRecords(items[6], judgments.filter((j) => j.item === 'r3'));
  assert.deepEqual(
    r3.map((r) => [r.wins, r.losses, r.ties, r.comparisons]),
    [[3, 0, 1, 4], [2, 1, 1, 4], [0, 4, 0, 4]],
  );
  const p3 = responseRecords(items[2], judgments.filter((j) => j.item === 'p3'));
  assert.deepEqual(p3.map((r) => [r.wins, r.losses, r.bothBad]), [[1, 0, 1], [0, 1, 1]]);
});

test('never won: responses that lost every comparison across 2+ annotators, grouped by item, most losses first', () => {
  const list = neverWonList(items, judgments);
  // r2: r3 lost 3 comparisons per annotator = 6; r3: response 2 lost 4; p2: response 1 lost to both annotators.
  // Not listed: p3's response 1 lost once, to bob only (alice said both bad: no comparison) — the loser of a
  // single pair judgment; p1 and r1 (every response won somewhere); p4 (ties only).
  assert.deepEqual(list.map((e) => [e.item, e.lostComparisons, e.neverWon.map((r) => r.index), e.allLost]), [
    ['r2', 6, [3], false],
    ['r3', 4, [2], false],
    ['p2', 2, [1], false],
  ]);
  assert.deepEqual(list[0].responses.map((r) => r.annotators), [2, 2, 2, 2]);
  // A ranking by one annotator: its last response lost 2 comparisons, but to one person: not listed.
  assert.deepEqual(neverWonList(items, judgments.filter((j) => j.annotator === 'alice')), []);
  // Everything lost something, one response every time across 2 annotators: listed with allLost.
  const mixed = [judged('r1', 'alice', [[0], [1], [2]]), judged('r1', 'bob', [[1], [0], [2]])];
  assert.deepEqual(neverWonList(items, mixed).map((e) => [e.item, e.neverWon.map((r) => r.index), e.allLost]), [['r1', [2], true]]);
});

test('disagreements: opposite pairs, partial pairs and rankings with low Kendall τ', () => {
  const list = disagreementList(items, judgments);
  assert.deepEqual(list.map((e) => [e.item, e.kind, e.minTau]), [
    ['p1', 'opposite', -1],
    ['r1', 'low_tau', -1],
    ['p3', 'partial', 0],
  ]);
  // r2 (τ = 2/3) and r3 (τ = 0.816) stay out at the default threshold 0.5; at 0.9 both come in.
  const strict = disagreementList(items, judgments, 0.9).map((e) => e.item);
  assert.ok(strict.includes('r2') && strict.includes('r3'));
  assert.ok(Math.abs(disagreementList(items, judgments, 0.9).find((e) => e.item === 'r3')!.minTau - 2 / Math.sqrt(6)) < 1e-12);
  assert.deepEqual(list[0].judgments.map((j) => j.annotator), ['alice', 'bob']);
});

test('agreement with the majority of the other annotators spots the annotator who is off', () => {
  // Three items, three annotators: alice and bob agree on all, carol disagrees on all.
  const js = ['x', 'y', 'z'].flatMap((id) => [
    judged(id, 'alice', [[0], [1]]),
    judged(id, 'bob', [[0], [1]]),
    judged(id, 'carol', [[1], [0]]),
  ]);
  const stats = annotatorMajority(js);
  // alice: others {bob: A, carol: B} → no strict majority of 2 → nothing compared. Same for bob.
  // carol: others {alice: A, bob: A} → majority A ≠ B on all 3 items → 0/3.
  assert.deepEqual(stats.map((s) => [s.annotator, s.judged, s.compared, s.agreed]), [
    ['alice', 3, 0, 0],
    ['bob', 3, 0, 0],
    ['carol', 3, 3, 0],
  ]);
  assert.equal(stats[2].rate, 0);
  assert.ok(Number.isNaN(stats[0].rate));
});

test('a confirm after the latest judgment hides the item; a new judgment brings it back', () => {
  const base = { v: 1 as const, annotator: 'alice', ts: '2026-01-01T00:00:00Z' };
  const events: AnnotationEvent[] = [
    { ...base, item: 'p1', kind: 'pair', shown: [0, 1], choice: 'a' },
    { ...base, item: 'p1', kind: 'confirm', reason: 'disagreement' },
    { ...base, item: 'p2', kind: 'confirm' }, // no reason: every list
    { ...base, item: 'p3', kind: 'confirm', reason: 'never_won' },
    { ...base, item: 'p3', kind: 'pair', shown: [1, 0], choice: 'b' }, // re-annotated after the confirm
  ];
  const c = confirmedItems(events);
  assert.deepEqual([...c.disagreement].sort(), ['p1', 'p2']);
  assert.deepEqual([...c.never_won], ['p2']);
  assert.deepEqual([...c.model_flagged], ['p2']);

  const report = buildReviewReport({ taskFile: 't', logFile: 'l', items, judgments, events });
  assert.deepEqual(report.disagreements.map((e) => e.item), ['r1', 'p3']);
  // never_won hides p2 (confirm without reason); disagreement hides p1 (confirm for that list only).
  assert.deepEqual(report.neverWon.map((e) => e.item), ['r2', 'r3']);
  assert.equal(report.confirmedHidden, 2);
  assert.equal(report.annotatedItems, 7);
  assert.deepEqual(report.allLost.map((e) => e.item), []);
  assert.deepEqual(report.totals, { neverWon: 2, allLost: 0, disagreements: 2 });
  // top cuts every list but not the totals.
  const top = buildReviewReport({ taskFile: 't', logFile: 'l', items, judgments, events }, { top: 1 });
  assert.deepEqual([top.neverWon.length, top.allLost.length, top.disagreements.length], [1, 0, 1]);
  assert.deepEqual(top.totals, report.totals);
});

test('labelled pairs and model-flagged margins: most contradicting pair first', () => {
  const pairs = labelledPairs(judgments.filter((j) => j.item === 'p1' || j.item === 'p3'));
  // p1 gives 0>1 (alice) and 1>0 (bob); p3's both-bad judgment gives no pair, bob's gives 0>1.
  assert.deepEqual(pairs.map((p) => [p.item, p.chosen, p.rejected, p.annotators]), [
    ['p1', 0, 1, ['alice']],
    ['p1', 1, 0, ['bob']],
    ['p3', 0, 1, ['bob']],
  ]);
  const scores = [
    { item: 'p1', scores: [0.5, -0.25], scorer: 'kfold' as const, fold: 1 },
    { item: 'p2', scores: [-1, 2], scorer: 'kfold' as const, fold: 0 },
  ];
  const all = scorePairs(items, judgments, scores);
  // p2 0>1 (alice and bob, merged): −1 − 2 = −3; p1 1>0: −0.75; p1 0>1: +0.75. p3 is not scored.
  assert.deepEqual(all.map((p) => [p.item, p.chosen, p.margin]), [['p2', 0, -3], ['p1', 1, -0.75], ['p1', 0, 0.75]]);
  const flagged = flaggedList(items, judgments, scores);
  assert.deepEqual(flagged.map((p) => [p.item, p.margin, p.annotators, p.fold]), [['p2', -3, ['alice', 'bob'], 0], ['p1', -0.75, ['bob'], 1]]);
  assert.equal(flagged[0].chosenText, 'p2-r0');
  assert.equal(flaggedList(items, judgments, scores, 1).length, 1);
});
