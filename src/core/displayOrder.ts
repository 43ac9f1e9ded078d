/**
 * Position-bias control: the order an item's responses are displayed in is shuffled with a seed derived
 * from (annotator, item id), so it is stable across reloads and machines, differs between annotators,
 * and is recorded in each event's `shown` (a pair choice 'a' means shown[0] won). Pure: FNV-1a hash →
 * the one PRNG (random.ts) → Fisher–Yates.
 */
import { fnv1a32, Rng, shuffledIndices } from './random';

/** Display order for `count` responses: `shown[p]` = response index displayed at position p. */
export function displayOrder(annotator: string, itemId: string, count: number): number[] {
  return shuffledIndices(count, new Rng(fnv1a32(`${annotator}\u0000${itemId}`)));
}
