/**
 * A small seeded PRNG (mulberry32) whose whole state is one 32-bit integer, so it can be saved in a
 * checkpoint and resumed exactly; plus a seeded Fisher–Yates shuffle.
 */

/** Deterministic pseudo-random generator with a serialisable state. */
export class Rng {
  constructor(public state: number) {
    this.state = state >>> 0;
  }
  /** Uniform float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

/** A permutation of 0..n-1 drawn from `rng` (Fisher–Yates). */
export function shuffledIndices(n: number, rng: Rng): number[] {
  const out = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Mixes a seed with a tag (e.g. epoch number) into a new 32-bit seed. */
export function deriveSeed(seed: number, tag: number): number {
  let h = (seed ^ Math.imul(tag + 0x9e3779b9, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  return (h ^ (h >>> 15)) >>> 0;
}
