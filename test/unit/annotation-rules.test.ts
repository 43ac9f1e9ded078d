/**
 * The annotation rules that live in the data core and that every view shares: one definition of a
 * disagreement (core/disagreement.ts), read by the review list and by the annotator's "disagreed" filter
 * (ItemStates, core/judgments.ts) alike; one PRNG (core/random.ts) behind display orders, folds and
 * training orders; one way to write a duration (core/duration.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ItemStates, resolveJudgments } from '../../src/core/judgments';
import { disagreementList } from '../../src/core/review/lists';
import { displayOrder } from '../../src/core/displayOrder';
import { fnv1a32, mulberry32, Rng, shuffled, shuffledIndices } from '../../src/core/random';
import { formatDuration } from '../../src/core/duration';
import type { AnnotationEvent, TaskItem } from '../../src/core/types';

const ts = '2026-01-01T00:00:00.000Z';
const item = (id: string, n: number): TaskItem =>
  ({ id, line: 1, prompt: 'p', responses: Array.from({ length: n }, (_, i) => ({ text: `r${i}` })) }) as TaskItem;
const rank = (id: string, annotator: string, ranking: number[][]): AnnotationEvent => ({ v: 1, item: id, annotator, ts, kind: 'rank', shown: ranking.flat().sort((a, b) => a - b), ranking });
const pair = (id: string, annotator: string, choice: 'a' | 'b' | 'tie' | 'both_bad', shown = [0, 1]): AnnotationEvent => ({ v: 1, item: id, annotator, ts, kind: 'pair', shown, choice });

/** Both views of one log: the annotator's filter and the review list. */
function views(items: TaskItem[], events: AnnotationEvent[]): { filter: string[]; list: string[] } {
  const states = new ItemStates();
  for (const e of events) states.apply(e);
  const { judgments } = resolveJudgments(events, items);
  return { filter: items.filter((i) => states.disagreed(i.id)).map((i) => i.id), list: disagreementList(items, judgments).map((d) => d.item).sort() };
}

test('disagreed means the same in the annotator filter and the review list', () => {
  const items = [item('swap4', 4), item('swap3', 3), item('pairOpp', 2), item('pairTieBad', 2), item('pairSame', 2), item('one', 3)];
  const events = [
    // 4 responses, one adjacent swap: τ-b = 2/3 ≥ 0.5, no disagreement (the filter used to say yes).
    rank('swap4', 'ann', [[0], [1], [2], [3]]),
    rank('swap4', 'bob', [[0], [1], [3], [2]]),
    // 3 responses, one swap: τ-b = 1/3 < 0.5.
    rank('swap3', 'ann', [[0], [1], [2]]),
    rank('swap3', 'bob', [[1], [0], [2]]),
    pair('pairOpp', 'ann', 'a'),
    pair('pairOpp', 'bob', 'b'),
    pair('pairTieBad', 'ann', 'tie'),
    pair('pairTieBad', 'bob', 'both_bad'),
    // The same preference, seen in different display orders.
    pair('pairSame', 'ann', 'a', [0, 1]),
    pair('pairSame', 'bob', 'b', [1, 0]),
    rank('one', 'ann', [[2], [0], [1]]),
  ];
  const v = views(items, events);
  assert.deepEqual(v.list, ['pairOpp', 'pairTieBad', 'swap3']);
  assert.deepEqual([...v.filter].sort(), v.list);
  // The threshold is the same setting in both: at 0.7 the 4-response swap is a disagreement too.
  const states = new ItemStates();
  for (const e of events) states.apply(e);
  assert.equal(states.disagreed('swap4', 0.7), true);
  assert.deepEqual(disagreementList(items, resolveJudgments(events, items).judgments, 0.7).map((d) => d.item).includes('swap4'), true);
});

test('disagreed agrees with the review list on random logs, undo included', () => {
  const rand = mulberry32(7);
  const items = Array.from({ length: 60 }, (_, i) => item(`i${i}`, 2 + (i % 3)));
  const events: AnnotationEvent[] = [];
  for (let e = 0; e < 400; e++) {
    const it = items[Math.floor(rand() * items.length)];
    const annotator = ['ann', 'bob', 'cy'][Math.floor(rand() * 3)];
    const n = it.responses.length;
    if (rand() < 0.1) events.push({ v: 1, item: it.id, annotator, ts, kind: 'undo' });
    else if (n === 2) events.push(pair(it.id, annotator, (['a', 'b', 'tie', 'both_bad'] as const)[Math.floor(rand() * 4)], rand() < 0.5 ? [0, 1] : [1, 0]));
    else events.push(rank(it.id, annotator, shuffled([...Array(n).keys()], Math.floor(rand() * 1e6)).map((r) => [r])));
  }
  const v = views(items, events);
  assert.ok(v.list.length > 5, `some disagreements (${v.list.length})`);
  assert.deepEqual([...v.filter].sort(), v.list);
});

test('ItemStates and resolveJudgments apply the same stack rule', () => {
  const items = [item('x', 2), item('y', 3)];
  const events: AnnotationEvent[] = [pair('x', 'ann', 'a'), pair('x', 'ann', 'b'), { v: 1, item: 'x', annotator: 'ann', ts, kind: 'undo' }, { v: 1, item: 'y', annotator: 'ann', ts, kind: 'undo' }, { v: 1, item: 'y', annotator: 'bob', ts, kind: 'flag', flagged: true }];
  const states = new ItemStates();
  const applied = events.map((e) => states.apply(e));
  assert.deepEqual(applied, [true, true, true, false, true], 'an undo with nothing to retract is refused');
  const r = resolveJudgments(events, items);
  assert.deepEqual(r.judgments, [states.current('x', 'ann')]);
  assert.deepEqual(r.judgments[0].ranking, [[0], [1]], 'the undo retracted the later "b"');
  assert.deepEqual(r.issues.map((i) => i.field), ['kind']);
  assert.deepEqual(r.flags.map((f) => [f.item, f.annotator, f.flagged]), [['y', 'bob', true]]);
  assert.equal(states.flagged('y', 'bob'), true);
  assert.equal(states.doneBy('ann'), 1);
});

test('ItemStates keeps every annotator of an item, in first-seen order, past the short list (16) it starts with', () => {
  const annotators = Array.from({ length: 40 }, (_, k) => `a${String(39 - k).padStart(2, '0')}`); // first seen: a39 … a00
  const states = new ItemStates();
  for (const a of annotators) states.apply(pair('x', a, a.endsWith('1') ? 'b' : 'a'));
  for (const a of annotators.slice(0, 20)) states.apply(pair('x', a, 'tie')); // a second judgment: the top of each stack
  states.apply({ v: 1, item: 'x', annotator: 'a05', ts, kind: 'flag', flagged: true });
  assert.equal(states.apply({ v: 1, item: 'x', annotator: 'a39', ts, kind: 'undo' }), true);
  assert.equal(states.apply({ v: 1, item: 'x', annotator: 'zz', ts, kind: 'undo' }), false, 'a new annotator after the switch to a Map');
  assert.deepEqual(states.judgmentsOf('x').map((j) => j.annotator), annotators, 'first-seen order across the switch');
  assert.deepEqual(annotators.map((a) => states.current('x', a)?.ranking), annotators.map((a, k) => (k > 0 && k < 20 ? [[0, 1]] : a.endsWith('1') ? [[1], [0]] : [[0], [1]])));
  assert.equal(states.others('x', 'a00'), 39);
  assert.equal(states.others('x', 'zz'), 40);
  assert.equal(states.flagged('x', 'a05'), true);
  assert.equal(states.flagged('x', 'a06'), false);
  assert.equal(states.doneBy('a39'), 1);
  const items = [item('x', 2)];
  const events = [...annotators.map((a) => pair('x', a, 'a')), { v: 1, item: 'x', annotator: 'a20', ts, kind: 'undo' } as AnnotationEvent];
  assert.deepEqual(resolveJudgments(events, items).judgments.map((j) => j.annotator), [...annotators].sort().filter((a) => a !== 'a20'), 'sorted by annotator');
});

test('one PRNG: mulberry32, Rng, shuffles and display orders are the same sequence', () => {
  // mulberry32 by its published definition, written out independently.
  const reference = (seed: number) => {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  };
  for (const seed of [0, 1, 20260105, 0xffffffff]) {
    const want = reference(seed);
    const f = mulberry32(seed);
    const rng = new Rng(seed);
    for (let i = 0; i < 50; i++) {
      const x = want();
      assert.equal(f(), x);
      assert.equal(rng.next(), x);
    }
  }
  // Fisher–Yates from the last position down, with j = floor(u · (i + 1)).
  const fisherYates = (n: number, u: () => number) => {
    const out = [...Array(n).keys()];
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(u() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  };
  assert.deepEqual(shuffledIndices(10, new Rng(5)), fisherYates(10, reference(5)));
  assert.deepEqual(shuffled(['a', 'b', 'c', 'd', 'e'], 9), fisherYates(5, reference(9)).map((i) => 'abcde'[i]));
  assert.deepEqual(displayOrder('alice', 'q1', 4), fisherYates(4, reference(fnv1a32('alice\u0000q1'))));
  assert.equal(fnv1a32(''), 0x811c9dc5);
  assert.equal(fnv1a32('a'), 0xe40c292c);
});

test('one duration format', () => {
  assert.equal(formatDuration(12.4), '12s');
  assert.equal(formatDuration(185), '3m05s');
  assert.equal(formatDuration(3725), '1h02m');
  assert.equal(formatDuration(-3), '0s');
  assert.equal(formatDuration(NaN), '?');
});
