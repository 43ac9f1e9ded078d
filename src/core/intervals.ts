/**
 * Binomial statistics of judgments: the Wilson score interval of a proportion (win rates, position bias)
 * and the exact two-sided binomial test against p = 1/2. Successes may be fractional (a tie counts as
 * half a win); the Wilson formula is then applied to the fractional count, as is usual for win rates
 * with ties. Plain float64 arithmetic; no dependency.
 */

/** z of a two-sided 95% normal interval (Φ⁻¹(0.975)). */
export const Z95 = 1.959963984540054;

/** A proportion with its interval. */
export interface Proportion {
  /** Successes (may be fractional: ties count half). */
  successes: number;
  /** Trials. */
  n: number;
  /** successes / n (NaN when n = 0). */
  rate: number;
  /** Lower and upper end of the 95% Wilson score interval (NaN when n = 0). */
  low: number;
  high: number;
}

/**
 * Wilson score interval: the p with |p̂ − p| ≤ z·√(p(1 − p)/n), i.e.
 * (p̂ + z²/2n ± z·√(p̂(1 − p̂)/n + z²/4n²)) / (1 + z²/n).
 */
export function wilsonInterval(successes: number, n: number, z = Z95): { low: number; high: number } {
  if (!(n > 0)) return { low: NaN, high: NaN };
  if (successes < 0 || successes > n) throw new Error(`wilsonInterval: successes ${successes} outside [0, ${n}]`);
  const p = successes / n;
  const z2 = z * z;
  const centre = p + z2 / (2 * n);
  const half = z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  const denom = 1 + z2 / n;
  return { low: Math.max(0, (centre - half) / denom), high: Math.min(1, (centre + half) / denom) };
}

/** The proportion successes / n with its Wilson interval. */
export function proportion(successes: number, n: number): Proportion {
  const { low, high } = wilsonInterval(successes, n);
  return { successes, n, rate: n > 0 ? successes / n : NaN, low, high };
}

/** ln C(n, k) by summing logs (exact enough for the n of annotation data). */
function logChoose(n: number, k: number): number {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log(n - k + i) - Math.log(i);
  return s;
}

/**
 * Exact two-sided binomial test of k successes in n trials against p = 1/2: the probability of an outcome
 * at least as far from n/2 as k (doubling the smaller tail, capped at 1). NaN when n = 0.
 */
export function binomialTestHalf(k: number, n: number): number {
  if (!(n > 0)) return NaN;
  if (!Number.isInteger(k) || !Number.isInteger(n) || k < 0 || k > n) throw new Error(`binomialTestHalf: expected integers 0 ≤ k ≤ n, got k=${k}, n=${n}`);
  const tail = Math.min(k, n - k);
  let p = 0;
  for (let i = 0; i <= tail; i++) p += Math.exp(logChoose(n, i) - n * Math.LN2);
  return Math.min(1, 2 * p);
}
