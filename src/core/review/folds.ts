/**
 * Helpers of model-flagged review that need no model: seeded k-fold assignment of items (all pairs of
 * an item stay in one fold, so no model scores an item it trained on) and precision/recall@k of a ranked
 * list against known label errors (used by the benchmark and tests).
 */

import { shuffled } from '../random';

/**
 * Assigns each item id to one of k folds: a seeded shuffle, then round-robin, so fold sizes differ by
 * at most one. Returns item id → fold index in [0, k).
 */
export function assignFolds(itemIds: string[], k: number, seed: number): Map<string, number> {
  if (!Number.isInteger(k) || k < 2) throw new Error(`k-fold needs k ≥ 2 (got ${k})`);
  const unique = [...new Set(itemIds)];
  if (unique.length < k) throw new Error(`k-fold needs at least k = ${k} annotated items (got ${unique.length})`);
  const folds = new Map<string, number>();
  shuffled(unique, seed).forEach((id, i) => folds.set(id, i % k));
  return folds;
}

/** Precision and recall of the first k entries of a ranked list against a set of known errors. */
export interface AtK {
  k: number;
  /** Known errors among the first k / k. */
  precision: number;
  /** Known errors among the first k / all known errors. */
  recall: number;
  hits: number;
}

export function precisionRecallAtK(ranked: string[], errors: Set<string>, k: number): AtK {
  const top = ranked.slice(0, k);
  const hits = top.filter((key) => errors.has(key)).length;
  return { k, precision: top.length ? hits / top.length : NaN, recall: errors.size ? hits / errors.size : NaN, hits };
}
