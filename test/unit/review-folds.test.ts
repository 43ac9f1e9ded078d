/**
 * Unit tests of the model-free helpers of model-flagged review: seeded k-fold assignment (balanced,
 * deterministic, every item in exactly one fold) and precision/recall@k against known errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assignFolds, precisionRecallAtK } from '../../src/core/review/folds';
import { shuffled } from '../../src/core/random';

test('assignFolds: balanced, deterministic per seed, each item in one fold', () => {
  const ids = Array.from({ length: 11 }, (_, i) => `item${i}`);
  const a = assignFolds(ids, 3, 7);
  const b = assignFolds([...ids].reverse(), 3, 7);
  assert.equal(a.size, 11);
  const sizes = [0, 1, 2].map((f) => [...a.values()].filter((x) => x === f).length).sort();
  assert.deepEqual(sizes, [3, 4, 4]);
  // Same ids, same seed → same folds only if the input order is the same; order is part of the input.
  assert.deepEqual([...assignFolds(ids, 3, 7)], [...a]);
  assert.equal(b.size, 11);
  const c = assignFolds(ids, 3, 8);
  assert.notDeepEqual(ids.map((id) => c.get(id)), ids.map((id) => a.get(id)), 'another seed gives another split');
  assert.throws(() => assignFolds(ids, 1, 0), /k ≥ 2/);
  assert.throws(() => assignFolds(['x'], 2, 0), /at least k = 2/);
});

test('shuffled is a permutation', () => {
  const list = Array.from({ length: 50 }, (_, i) => i);
  const s = shuffled(list, 3);
  assert.deepEqual([...s].sort((x, y) => x - y), list);
  assert.notDeepEqual(s, list);
});

test('precision and recall at k', () => {
  const ranked = ['a', 'b', 'c', 'd', 'e', 'f'];
  const errors = new Set(['a', 'c', 'z']);
  // top 2: a (hit), b → precision 1/2, recall 1/3; top 4: a, c → 2/4, 2/3.
  assert.deepEqual(precisionRecallAtK(ranked, errors, 2), { k: 2, precision: 0.5, recall: 1 / 3, hits: 1 });
  assert.deepEqual(precisionRecallAtK(ranked, errors, 4), { k: 4, precision: 0.5, recall: 2 / 3, hits: 2 });
});
