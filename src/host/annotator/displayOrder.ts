/**
 * Position-bias control: the order responses are displayed in is shuffled with a seed derived from
 * (annotator, item id), so it is stable across reloads and machines, differs between annotators,
 * and is recorded in each event's `shown`. Pure (no vscode): FNV-1a 32-bit hash → mulberry32 PRNG →
 * Fisher–Yates shuffle.
 */

/** FNV-1a 32-bit hash of a string's UTF-16 code units. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

import { mulberry32 } from '../../core/random';

export { mulberry32 };

/** Display order for `count` responses: `shown[p]` = response index displayed at position p. */
export function displayOrder(annotator: string, itemId: string, count: number): number[] {
  const order = Array.from({ length: count }, (_, i) => i);
  const random = mulberry32(fnv1a32(`${annotator}\u0000${itemId}`));
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}
