/**
 * Unit tests of model-flagged scoring (src/train/flagging/scores.ts) with small, fully known models:
 * k-fold never scores an item with a model trained on it, margins have the right sign and size
 * (β·Δ against an independent computation), and a flipped label in a learnable set is flagged first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Judgment, TaskItem } from '../../src/core/types';
import { kfoldScores, implicitRewardScores, referenceFreeScores, type CompletionRow, type LogpFn, type TrainPair } from '../../src/train/flagging/scores';
import { flaggedList, scorePairs } from '../../src/core/review/lists';

function item(id: string, line: number, texts: string[]): TaskItem {
  return { id, line, offset: 0, format: 'responses', prompt: `q ${id}`, responses: texts.map((text) => ({ text })) };
}
const pair = (itemId: string, annotator: string, winner: number): Judgment => ({
  item: itemId,
  annotator,
  ranking: [[winner], [1 - winner]],
  bothBad: false,
  ts: '2026-01-01T00:00:00Z',
  kind: 'pair',
});

/**
 * A character-unigram model over [a-z0-9]: log p(text) = Σ log p(char), p(c) ∝ weights[c] (default 1).
 * Exact in float64.
 */
function unigram(weights: Record<string, number>): LogpFn {
  const alphabet = [...'abcdefghijklmnopqrstuvwxyz0123456789'];
  const w = (c: string): number => weights[c] ?? 1;
  const total = alphabet.reduce((a, c) => a + w(c), 0);
  return async (rows: CompletionRow[]) => {
    const sum = rows.map((r) => [...r.completion].reduce((s, c) => s + Math.log(w(c) / total), 0));
    return { sum, mean: sum.map((s, i) => s / [...rows[i].completion].length) };
  };
}

test('reference-free and implicit-reward scores equal hand computations', async () => {
  const items = [item('a', 1, ['xx', 'y'])];
  const model = unigram(Object.fromEntries([...'abcdefghijklmnopqrstuvwz0123456789'].map((c) => [c, 0]).concat([['x', 3], ['y', 1]]))); // p(x) = 3/4, p(y) = 1/4
  const free = await referenceFreeScores(items, model);
  assert.ok(Math.abs(free[0].scores[0] - Math.log(0.75)) < 1e-12);
  assert.ok(Math.abs(free[0].scores[1] - Math.log(0.25)) < 1e-12);
  const ref = unigram(Object.fromEntries([...'abcdefghijklmnopqrstuvwz0123456789'].map((c) => [c, 0]).concat([['x', 1], ['y', 1]])));
  const r = await implicitRewardScores(items, model, ref, 0.5, () => ({ scorer: 'run_heldout' }));
  // β·(Σ log π − Σ log π_ref): xx → 0.5·2·(log 0.75 − log 0.5); y → 0.5·(log 0.25 − log 0.5).
  assert.ok(Math.abs(r[0].scores[0] - 0.5 * 2 * Math.log(0.75 / 0.5)) < 1e-12);
  assert.ok(Math.abs(r[0].scores[1] - 0.5 * Math.log(0.25 / 0.5)) < 1e-12);
  // Label "y over xx" contradicts the model: margin = r(y) − r(xx) < 0 and it is flagged.
  const flagged = flaggedList(items, [pair('a', 'alice', 1)], r);
  assert.equal(flagged.length, 1);
  assert.ok(Math.abs(flagged[0].margin - (r[0].scores[1] - r[0].scores[0])) < 1e-15);
});

test('k-fold: no item is scored by a model trained on it, and the flipped labels come first', async () => {
  // 20 items: response "good…" vs "bad…"; annotators prefer "good" except on 2 flipped items.
  const flipped = new Set(['i3', 'i11']);
  const items: TaskItem[] = [];
  const judgments: Judgment[] = [];
  for (let n = 0; n < 20; n++) {
    const goodFirst = n % 2 === 0;
    items.push(item(`i${n}`, n + 1, goodFirst ? [`good${n}`, `bad${n}`] : [`bad${n}`, `good${n}`]));
    const good = goodFirst ? 0 : 1;
    judgments.push(pair(`i${n}`, 'alice', flipped.has(`i${n}`) ? 1 - good : good));
  }
  const seenByFold: Set<string>[] = [];
  // "Training" learns character counts of chosen minus rejected texts: a real (tiny) learner.
  const train = async (fold: number, pairs: TrainPair[]) => {
    seenByFold[fold] = new Set(pairs.map((p) => p.item));
    const weights: Record<string, number> = {};
    for (const p of pairs) {
      for (const c of p.chosen) weights[c] = (weights[c] ?? 1) + 1;
      for (const c of p.rejected) weights[c] = Math.max(0.01, (weights[c] ?? 1) - 0.5);
    }
    return { logps: unigram(weights), dispose: () => {} };
  };
  const progress: string[] = [];
  const scores = await kfoldScores(items, judgments, unigram({}), train, { k: 3, seed: 1, onProgress: (m) => progress.push(m) });
  assert.equal(scores.length, 20);
  for (const s of scores) {
    assert.equal(s.scorer, 'kfold');
    assert.ok(!seenByFold[s.fold!].has(s.item), `${s.item} scored by fold ${s.fold} that trained on it`);
  }
  assert.deepEqual(new Set(scores.map((s) => s.fold)), new Set([0, 1, 2]));
  assert.ok(progress.some((m) => /fold 3\/3: training DPO/.test(m)));
  const ranked = scorePairs(items, judgments, scores);
  assert.deepEqual(new Set(ranked.slice(0, 2).map((p) => p.item)), flipped);
  assert.ok(ranked[1].margin < 0 && ranked[2].margin > 0, 'only the flipped pairs contradict the model');
});
