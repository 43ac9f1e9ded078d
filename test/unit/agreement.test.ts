/**
 * Agreement statistics on small hand-made logs with answers worked out by hand in the comments:
 * Cohen's κ and percent agreement over response indices, Kendall τ-b with ties, agreement with the
 * majority of the others, and per-response never-won records. Also the sample-task checker.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agreementReport, cohenKappa, kendallTauB, responseStats } from '../../src/core/agreement';
import { resolveJudgments } from '../../src/core/judgments';
import { isCorrect, solvePrompt, taskSpecOf, verifyResponse } from '../../src/core/verify';
import type { AnnotationEvent, PairChoice, TaskItem } from '../../src/core/types';

const close = (a: number | null, b: number, eps = 1e-12) => assert.ok(a !== null && Math.abs(a - b) < eps, `${a} vs ${b}`);
const item = (id: string, n = 2): TaskItem => ({ id, prompt: id, responses: Array.from({ length: n }, (_, i) => ({ text: `${id}${i}` })), line: 0, offset: 0, format: 'responses' });
const pair = (it: string, annotator: string, shown: number[], choice: PairChoice): AnnotationEvent => ({ v: 1, item: it, annotator, kind: 'pair', shown, choice, ts: 't' });

test("Cohen's kappa and percent agreement by hand, labels over response indices", () => {
  const items = ['i1', 'i2', 'i3', 'i4', 'i5'].map((id) => item(id));
  const events = [
    pair('i1', 'alice', [0, 1], 'a'), pair('i1', 'bob', [1, 0], 'b'), //  first / first   (bob saw them swapped)
    pair('i2', 'alice', [0, 1], 'a'), pair('i2', 'bob', [1, 0], 'a'), //  first / second
    pair('i3', 'alice', [1, 0], 'a'), pair('i3', 'bob', [0, 1], 'b'), //  second / second
    pair('i4', 'alice', [0, 1], 'tie'), pair('i4', 'bob', [0, 1], 'a'), // tie / first
    pair('i5', 'alice', [0, 1], 'a'), pair('i5', 'bob', [0, 1], 'a'), //  first / first
    pair('i1', 'carol', [0, 1], 'b'), //                                   carol: second on i1 only
  ];
  const { judgments } = resolveJudgments(events, items);
  const report = agreementReport(judgments);
  // alice vs bob: labels A = F F S T F, B = F S S F F. po = 3/5 = 0.6.
  // pA: F 3/5, S 1/5, T 1/5; pB: F 3/5, S 2/5. pe = 9/25 + 2/25 = 11/25 = 0.44.
  // kappa = (0.6 - 0.44) / (1 - 0.44) = 0.16 / 0.56 = 2/7.
  const [ab, ac, bc] = report.pairs.perAnnotatorPair;
  assert.deepEqual(ab.annotators, ['alice', 'bob']);
  assert.equal(ab.n, 5);
  close(ab.percent, 0.6);
  close(ab.kappa, 2 / 7);
  // alice vs carol and bob vs carol: one unit each, F vs S: po = 0, pe = 1*0 + 0*1 = 0, kappa = 0.
  assert.deepEqual([ac.annotators, ac.n, ac.percent, ac.kappa], [['alice', 'carol'], 1, 0, 0]);
  assert.deepEqual([bc.annotators, bc.n, bc.percent, bc.kappa], [['bob', 'carol'], 1, 0, 0]);
  close(report.pairs.overall.kappa, (2 / 7 + 0 + 0) / 3);
  close(report.pairs.overall.percent, (0.6 + 0 + 0) / 3);
  // With the majority of the others: i1 alice → others F,S tie: not counted; bob likewise; carol → F,F: disagrees.
  // i2: alice F vs bob S (disagree), bob S vs alice F (disagree). i3, i5: both agree. i4: both disagree.
  assert.deepEqual(report.withMajority, [
    { annotator: 'alice', n: 4, agree: 2, rate: 0.5 },
    { annotator: 'bob', n: 4, agree: 2, rate: 0.5 },
    { annotator: 'carol', n: 1, agree: 0, rate: 0 },
  ]);
});

test('cohenKappa edge cases', () => {
  assert.equal(cohenKappa(['a', 'a'], ['a', 'a']).kappa, null, 'pe = 1: undefined');
  close(cohenKappa(['x', 'y', 'x', 'y'], ['x', 'y', 'x', 'y']).kappa, 1);
  // po = 0, pA = pB = (1/2, 1/2) → pe = 1/2, kappa = -1.
  close(cohenKappa(['x', 'y'], ['y', 'x']).kappa, -1);
});

test('Kendall tau-b with ties, by hand', () => {
  // Positions A = [0,1,2,2], B = [1,0,2,3]. Pairs: (0,1) discordant; (0,2) (0,3) (1,2) (1,3) concordant;
  // (2,3) tied in A only. nc = 4, nd = 1, n0 = 6, n1 = 1, n2 = 0 → tau-b = 3 / sqrt(5 * 6).
  close(kendallTauB([0, 1, 2, 2], [1, 0, 2, 3]), 3 / Math.sqrt(30));
  close(kendallTauB([0, 1, 2], [0, 1, 2]), 1);
  close(kendallTauB([0, 1, 2], [2, 1, 0]), -1);
  assert.equal(kendallTauB([0, 0], [0, 1]), null, 'all tied in one ranking: undefined');
  const items = [item('r', 4), item('s', 3)];
  const rank = (it: string, annotator: string, ranking: number[][]): AnnotationEvent => ({ v: 1, item: it, annotator, kind: 'rank', shown: ranking.flat(), ranking, ts: 't' });
  const { judgments } = resolveJudgments([
    rank('r', 'alice', [[0], [1], [2, 3]]),
    rank('r', 'bob', [[1], [0], [2], [3]]),
    rank('s', 'alice', [[0], [1], [2]]),
    rank('s', 'bob', [[0], [1], [2]]),
  ], items);
  const r = agreementReport(judgments).rankings;
  assert.equal(r.perAnnotatorPair[0].n, 2);
  close(r.overall.tau, (3 / Math.sqrt(30) + 1) / 2);
});

test('response records: wins, losses, ties, both_bad, annotators; never won = lost every comparison across 2+ annotators', () => {
  const items = [item('a'), item('b'), item('c'), item('d'), item('e')];
  const { judgments } = resolveJudgments([
    pair('a', 'alice', [0, 1], 'a'), pair('a', 'bob', [0, 1], 'a'), pair('a', 'carol', [0, 1], 'b'),
    pair('b', 'alice', [0, 1], 'tie'), pair('b', 'bob', [0, 1], 'a'),
    pair('c', 'alice', [0, 1], 'both_bad'), pair('c', 'bob', [0, 1], 'both_bad'),
    pair('d', 'alice', [0, 1], 'a'), pair('d', 'bob', [1, 0], 'b'), // response 1 lost to both, whatever the order shown
    pair('e', 'alice', [0, 1], 'b'), // one judgment: its loser is not "never won"
  ], items);
  const stats = responseStats(items, judgments).map((s) => [s.item, s.response, s.comparisons, s.wins, s.losses, s.ties, s.bothBad, s.annotators, s.neverWon]);
  assert.deepEqual(stats, [
    ['a', 0, 3, 2, 1, 0, 0, 3, false],
    ['a', 1, 3, 1, 2, 0, 0, 3, false], // won once
    ['b', 0, 2, 1, 0, 1, 0, 2, false],
    ['b', 1, 2, 0, 1, 1, 0, 2, false], // a tie is not a loss
    ['c', 0, 2, 0, 0, 0, 2, 0, false], // both bad: no comparison
    ['c', 1, 2, 0, 0, 0, 2, 0, false],
    ['d', 0, 2, 2, 0, 0, 0, 2, false],
    ['d', 1, 2, 0, 2, 0, 0, 2, true],
    ['e', 0, 1, 0, 1, 0, 0, 1, false],
    ['e', 1, 1, 1, 0, 0, 0, 1, false],
  ]);
});

test('verify: sample tasks are solved from the prompt and answers are checked', () => {
  assert.deepEqual(solvePrompt('What is 37 + 45?'), { task: 'add', answer: '82' });
  assert.deepEqual(solvePrompt('What is 82 - 37?'), { task: 'sub', answer: '45' });
  assert.deepEqual(solvePrompt('What is 7 * 8?'), { task: 'mul', answer: '56' });
  assert.deepEqual(solvePrompt('How many cm in 3 m?'), { task: 'convert', answer: '300' });
  assert.deepEqual(solvePrompt("Reverse 'cat'."), { task: 'reverse', answer: 'tac' });
  assert.deepEqual(solvePrompt("Uppercase 'dog'."), { task: 'upper', answer: 'DOG' });
  assert.equal(solvePrompt('Tell me a joke'), undefined);
  const spec = { task: 'add' as const, answer: '82' };
  for (const ok of ['82', '37 + 45 = 82', 'The answer is 82.', ' 82\nWhat is 1 + 1? 2']) assert.equal(isCorrect(spec, ok), true, ok);
  for (const bad of ['81', '37 + 45 = 72', '', 'eighty-two', '82 or 83']) assert.equal(isCorrect(spec, bad), false, bad);
  assert.equal(isCorrect({ task: 'upper', answer: 'DOG' }, 'In capitals: DOG'), true);
  assert.equal(isCorrect({ task: 'upper', answer: 'DOG' }, 'DOg'), false);
  assert.deepEqual(taskSpecOf({ prompt: 'x', meta: { task: 'mul', answer: '12' } }), { task: 'mul', answer: '12' });
  assert.equal(verifyResponse({ prompt: [{ role: 'user', content: "Reverse 'ab'." }] }, 'ba'), true);
});
