/**
 * Win rates of a blind model comparison and position bias: Wilson intervals and the binomial test against
 * independent float64 references (bisection on the score-test inequality; exact BigInt binomial sums),
 * B-over-A outcomes per annotator and per item on hand-made logs with known answers, and the verifier judge.
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import { binomialTestHalf, wilsonInterval, Z95 } from '../../src/core/intervals';
import { resolveJudgments } from '../../src/core/judgments';
import { compareModels, comparisonModels } from '../../src/core/modelComparison';
import { positionBias } from '../../src/core/positionBias';
import { verifierEvent, VERIFIER_ANNOTATOR, AUTOMATIC_JUDGES } from '../../src/core/verifierJudge';
import type { AnnotationEvent, PairChoice, TaskItem } from '../../src/core/types';

/** The Wilson bounds as the roots of (p̂ − p)² = z²·p(1 − p)/n, found by bisection on each side of p̂. */
function wilsonByBisection(k: number, n: number, z: number): { low: number; high: number } {
  const ph = k / n;
  const f = (p: number) => (ph - p) ** 2 - (z * z * p * (1 - p)) / n; // ≤ 0 inside the interval
  const root = (inside: number, outside: number) => {
    let a = inside, b = outside;
    for (let i = 0; i < 200; i++) {
      const m = (a + b) / 2;
      if (f(m) <= 0) a = m;
      else b = m;
    }
    return (a + b) / 2;
  };
  return { low: f(0) <= 0 ? 0 : root(ph, 0), high: f(1) <= 0 ? 1 : root(ph, 1) };
}

/** Exact two-sided binomial p-value against 1/2 with BigInt counts. */
function binomialExact(k: number, n: number): number {
  const choose = (a: number, b: number) => {
    let r = 1n;
    for (let i = 1; i <= b; i++) r = (r * BigInt(a - b + i)) / BigInt(i);
    return r;
  };
  let tail = 0n;
  for (let i = 0; i <= Math.min(k, n - k); i++) tail += choose(n, i);
  const p = (2 * Number((tail * 10n ** 30n) / 2n ** BigInt(n))) / 1e30;
  return Math.min(1, p);
}

test('Wilson interval equals the bisection roots of the score test (float64), also for fractional successes', () => {
  for (const [k, n] of [[0, 5], [5, 5], [3, 10], [8, 10], [50, 100], [61.5, 100], [17, 47], [1, 1000], [999.5, 1000]]) {
    const got = wilsonInterval(k, n, Z95);
    const ref = wilsonByBisection(k, n, Z95);
    assert.ok(Math.abs(got.low - ref.low) < 1e-12 && Math.abs(got.high - ref.high) < 1e-12, `${k}/${n}: ${JSON.stringify(got)} vs ${JSON.stringify(ref)}`);
    assert.ok(got.low <= k / n && k / n <= got.high);
  }
  assert.ok(Number.isNaN(wilsonInterval(0, 0).low));
  assert.throws(() => wilsonInterval(11, 10), /outside/);
});

test('binomial test against 1/2 matches exact BigInt sums', () => {
  for (const [k, n] of [[0, 1], [5, 10], [9, 10], [10, 10], [30, 47], [70, 100], [520, 1000], [3, 200]]) {
    const got = binomialTestHalf(k, n);
    const ref = binomialExact(k, n);
    assert.ok(Math.abs(got - ref) <= 1e-12 * Math.max(1, ref) + 1e-300, `${k}/${n}: ${got} vs ${ref}`);
  }
  assert.equal(binomialTestHalf(5, 10), 1);
});

const item = (id: string, models: [string, string], meta?: Record<string, unknown>, prompt = 'What is 2 + 2?', texts = ['4', '5']): TaskItem => ({
  id, prompt, responses: [{ text: texts[0], model: models[0] }, { text: texts[1], model: models[1] }], line: 1, offset: 0, format: 'responses', ...(meta ? { meta } : {}),
});
let clock = 0;
const pair = (it: string, annotator: string, shown: number[], choice: PairChoice): AnnotationEvent =>
  ({ v: 1, item: it, annotator, ts: new Date(Date.UTC(2026, 0, 1) + clock++ * 1000).toISOString(), kind: 'pair', shown, choice });

test('win rate of B over A: per annotator every judgment, overall every item; ties half, both-bad apart', () => {
  // Response order differs between items: B is index 1 in i1-i3 and index 0 in i4 (models read from `model`).
  const items = [item('i1', ['A', 'B']), item('i2', ['A', 'B']), item('i3', ['A', 'B']), { ...item('i4', ['B', 'A']) }, item('x', ['A', 'C'])];
  assert.deepEqual(comparisonModels(items), { a: 'A', b: 'B' });
  const events = [
    pair('i1', 'ann', [0, 1], 'b'), // B wins (shown second)
    pair('i2', 'ann', [1, 0], 'a'), // B wins (shown first)
    pair('i3', 'ann', [0, 1], 'tie'),
    pair('i4', 'ann', [0, 1], 'b'), // index 1 = A wins: loss for B
    pair('i1', 'bob', [1, 0], 'b'), // A wins
    pair('i2', 'bob', [0, 1], 'both_bad'),
    pair('i3', 'bob', [0, 1], 'both_bad'),
    pair('x', 'bob', [0, 1], 'a'), // not a comparison of A and B
  ];
  const { judgments } = resolveJudgments(events, items);
  const m = compareModels(items, judgments);
  assert.ok(m);
  assert.equal(m.items, 4);
  assert.equal(m.judgedItems, 4);
  const ann = m.perAnnotator.find((r) => r.annotator === 'ann');
  const bob = m.perAnnotator.find((r) => r.annotator === 'bob');
  assert.deepEqual([ann?.wins, ann?.losses, ann?.ties, ann?.bothBad, ann?.n, ann?.successes], [2, 1, 1, 0, 4, 2.5]);
  assert.deepEqual([bob?.wins, bob?.losses, bob?.ties, bob?.bothBad, bob?.n], [0, 1, 0, 2, 1]);
  // Items: i1 = mean(1, 0) = ½ → tie; i2 = 1 (bob's both-bad left out) → win; i3 = ½ → tie; i4 = 0 → loss.
  assert.deepEqual([m.overall.wins, m.overall.losses, m.overall.ties, m.overall.bothBad, m.overall.n, m.overall.successes], [1, 1, 2, 0, 4, 2]);
  assert.equal(m.overall.rate, 0.5);
  const w = wilsonInterval(2, 4);
  assert.deepEqual([m.overall.low, m.overall.high], [w.low, w.high]);
  // Position bias of the comparison's decisive judgments: i1 ann second, i2 ann first, i4 ann second, i1 bob second (shown [1,0], b → shown[1]=0).
  assert.deepEqual([m.positionBias.overall.firstWins, m.positionBias.overall.secondWins], [1, 3]);
});

test('an item all of whose judgments are both-bad is counted apart overall', () => {
  const items = [item('i1', ['A', 'B']), item('i2', ['A', 'B'])];
  const { judgments } = resolveJudgments([pair('i1', 'a1', [0, 1], 'both_bad'), pair('i1', 'a2', [0, 1], 'both_bad'), pair('i2', 'a1', [0, 1], 'b')], items);
  const m = compareModels(items, judgments);
  assert.deepEqual([m?.overall.wins, m?.overall.bothBad, m?.overall.n, m?.overall.rate], [1, 1, 1, 1]);
});

test('position bias per annotator and overall, with the binomial test; automatic judges left out', () => {
  const items = Array.from({ length: 10 }, (_, i) => item(`q${i}`, ['A', 'B']));
  const events: AnnotationEvent[] = [];
  for (let i = 0; i < 10; i++) events.push(pair(`q${i}`, 'left', [i % 2, 1 - (i % 2)], i < 9 ? 'a' : 'b')); // first shown wins 9 of 10
  for (let i = 0; i < 4; i++) events.push(pair(`q${i}`, 'fair', [0, 1], i % 2 ? 'a' : 'b'));
  events.push(pair('q5', 'fair', [0, 1], 'tie'));
  for (let i = 0; i < 10; i++) events.push(pair(`q${i}`, VERIFIER_ANNOTATOR, [0, 1], 'a'));
  const { judgments } = resolveJudgments(events, items);
  const r = positionBias(judgments, AUTOMATIC_JUDGES);
  assert.deepEqual(r.perAnnotator.map((x) => [x.annotator, x.firstWins, x.secondWins]), [['fair', 2, 2], ['left', 9, 1]]);
  const left = r.perAnnotator[1];
  assert.ok(Math.abs(left.pValue - binomialExact(9, 10)) < 1e-15);
  assert.ok(left.pValue < 0.05 && r.perAnnotator[0].pValue === 1);
  assert.deepEqual([r.overall.firstWins, r.overall.secondWins, r.overall.n], [11, 3, 14]);
  assert.equal(positionBias(judgments).overall.n, 24, 'without exclusions the verifier counts too');
});

test('the verifier judge: right above wrong, tie, both_bad, rankings, and no judgment for unverifiable items', () => {
  const ts = '2026-01-01T00:00:00.000Z';
  const mk = (texts: string[], prompt = 'What is 2 + 2?'): TaskItem => ({ id: 'v', prompt, responses: texts.map((text) => ({ text })), line: 1, offset: 0, format: 'responses' });
  assert.deepEqual(verifierEvent(mk(['5', '4']), ts), { v: 1, item: 'v', annotator: 'verifier', ts, kind: 'pair', shown: [0, 1], choice: 'b' });
  assert.equal((verifierEvent(mk(['4', '2 + 2 = 4']), ts) as { choice: string }).choice, 'tie');
  assert.equal((verifierEvent(mk(['3', '5']), ts) as { choice: string }).choice, 'both_bad');
  assert.deepEqual((verifierEvent(mk(['3', '4', '5', 'The answer is 4.']), ts) as { ranking: number[][] }).ranking, [[1, 3], [0, 2]]);
  assert.deepEqual((verifierEvent(mk(['3', '6', '5']), ts) as { ranking: number[][] }).ranking, [[0, 1, 2]]);
  assert.equal(verifierEvent(mk(['a', 'b'], 'Write a poem.'), ts), undefined);
});

test('dap judge appends verifier judgments once; dap stats reports B over A per annotator and overall with position bias', async () => {
  const { mkdtempSync, readFileSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const { runCli } = await import('./engine-fixtures');
  const dir = mkdtempSync(join(tmpdir(), 'dap-winrate-'));
  const tasks = join(dir, 'cmp.tasks.jsonl');
  // B right and A wrong on q1, q2; both right on q3; both wrong on q4; A right on q5; q6 is not verifiable.
  const rows = [['What is 2 + 2?', '5', '4'], ['What is 3 + 3?', '7', '6'], ['What is 1 + 1?', '2', '2'], ['What is 5 + 5?', '9', '11'], ['What is 4 + 4?', '8', '9'], ['Tell a joke.', 'x', 'y']];
  writeFileSync(tasks, rows.map(([prompt, a, b], i) => JSON.stringify({ id: `q${i + 1}`, prompt, responses: [{ text: a, model: 'sft' }, { text: b, model: 'dpo' }] })).join('\n') + '\n');
  const log = join(dir, 'cmp.annotations.jsonl');
  writeFileSync(log, [pair('q1', 'ann', [1, 0], 'a'), pair('q6', 'ann', [0, 1], 'b')].map((e) => JSON.stringify(e)).join('\n') + '\n');
  const j1 = await runCli(['judge', tasks]);
  assert.equal(j1.code, 0, j1.err);
  assert.match(j1.out, /verifier: 5 judgments appended .* \(0 items judged before, 1 not verifiable\)/);
  const j2 = await runCli(['judge', tasks]);
  assert.match(j2.out, /verifier: 0 judgments appended .* \(5 items judged before/);
  assert.equal(readFileSync(log, 'utf8').trim().split('\n').length, 7);
  const s = await runCli(['stats', tasks, '--json']);
  assert.equal(s.code, 0, s.err);
  const m = JSON.parse(s.out).models;
  assert.deepEqual([m.a, m.b, m.items, m.judgedItems], ['sft', 'dpo', 6, 6]);
  const verifier = m.perAnnotator.find((r: { annotator: string }) => r.annotator === 'verifier');
  assert.deepEqual([verifier.wins, verifier.losses, verifier.ties, verifier.bothBad, verifier.n, verifier.successes], [2, 1, 1, 1, 4, 2.5]);
  const w = wilsonInterval(2.5, 4);
  assert.deepEqual([verifier.low, verifier.high], [w.low, w.high]);
  // Items: q1 = mean(ann 1, verifier 1), q6 = ann 1, q2 win, q3 tie, q4 both bad, q5 loss.
  assert.deepEqual([m.overall.wins, m.overall.losses, m.overall.ties, m.overall.bothBad], [3, 1, 1, 1]);
  assert.deepEqual(m.positionBias.perAnnotator.map((r: { annotator: string }) => r.annotator), ['ann'], 'the verifier is left out of position bias');
  const text = await runCli(['stats', tasks]);
  assert.match(text.out, /models: win rate of B "dpo" over A "sft" \(ties count half; 95% Wilson interval\), 6 items, 6 judged:/);
  assert.match(text.out, /  verifier: 62\.5% \[\d+\.\d%, \d+\.\d%\] \(wins 2, losses 1, ties 1; both bad 1, not counted\)/);
  assert.match(text.out, /position bias \(first-shown response wins/);
});
