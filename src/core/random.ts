/**
 * The one seeded pseudo-random number generator of DAP Studio (data core, engine, trainer, annotator):
 * mulberry32, a small 32-bit generator of uniforms in [0, 1) whose whole state is one integer (so a
 * trainer checkpoint can save it and resume exactly), Fisher–Yates shuffles drawn from it, and the two
 * ways to make seeds: mixing a seed with a tag (epochs, folds) and hashing a string (FNV-1a). Plain
 * JavaScript, so sequences are the same on every machine and backend.
 */

/** mulberry32 with a serialisable state. */
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

/** A seeded generator of uniforms in [0, 1) (an Rng's `next` as a function). */
export function mulberry32(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.next();
}

/** A permutation of 0..n-1 drawn from `rng` (Fisher–Yates, from the last position down). */
export function shuffledIndices(n: number, rng: Rng): number[] {
  const out = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** A shuffled copy of `list` with a seeded generator (the order of {@link shuffledIndices}). */
export function shuffled<T>(list: readonly T[], seed: number): T[] {
  return shuffledIndices(list.length, new Rng(seed)).map((i) => list[i]);
}

/** Mixes a seed with a tag (e.g. epoch number) into a new 32-bit seed. */
export function deriveSeed(seed: number, tag: number): number {
  let h = (seed ^ Math.imul(tag + 0x9e3779b9, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  return (h ^ (h >>> 15)) >>> 0;
}

/** FNV-1a 32-bit hash of a string's UTF-16 code units (a seed from a name). */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
