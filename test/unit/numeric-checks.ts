/**
 * Shared numeric checks of the engine tests: the kernel sets ops are checked on, elementwise closeness
 * with a relative tolerance, central finite differences of a float64 function, and deterministic random
 * float64 arrays.
 */
import assert from 'node:assert/strict';
import { initBackend } from '../../src/engine/backend';
import { rng } from './engine-reference';

/** The kernel sets the ops are checked on: wasm with the native kernels (where they load), wasm's own, cpu. */
export const VARIANTS: { name: string; start: () => Promise<unknown> }[] = [
  { name: 'wasm, native kernels', start: () => initBackend('wasm') },
  { name: 'wasm, XNNPACK kernels', start: () => initBackend('wasm', { native: false }) },
  { name: 'cpu', start: () => initBackend('cpu') },
];

/** Fails naming the first element where |actual − expected| > tol·(1 + |expected|). */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    if (!(err <= tol * (1 + Math.abs(expected[i])))) {
      assert.fail(`${what}: element ${i}: got ${actual[i]}, expected ${expected[i]} (tol ${tol})`);
    }
  }
}

/** Central finite differences of a float64 function at x. */
export function numericGrad(f: (x: Float64Array) => number, x: Float64Array, h = 1e-6): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const xp = Float64Array.from(x), xm = Float64Array.from(x);
    xp[i] += h;
    xm[i] -= h;
    g[i] = (f(xp) - f(xm)) / (2 * h);
  }
  return g;
}

/** n deterministic numbers in [−scale, scale). */
export function randArray(n: number, seed: number, scale = 1): Float64Array {
  const r = rng(seed);
  return Float64Array.from({ length: n }, () => scale * r());
}
