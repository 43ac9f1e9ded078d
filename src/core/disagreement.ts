/**
 * What counts as annotators disagreeing on an item: the ONE definition behind the review panel's
 * "disagreements" list, `dap review` and the annotator's "disagreed" filter (pure, no I/O). Over the
 * current judgments of 2+ annotators:
 * - pairs (2 responses): 'opposite' when two annotators preferred different responses (minTau −1);
 *   'partial' when one preferred a response and another said tie or both bad, or one said tie and another
 *   both bad (minTau 0); equal labels are no disagreement;
 * - rankings (3+ responses): Kendall τ-b of every two annotators' rankings; 'low_tau' when the lowest is
 *   below `tauThreshold` (default 0.5: with 3 responses any swap counts, τ = 1/3; with 4, one adjacent swap
 *   does not, τ = 2/3); else 'partial' when one said "all bad" and another ranked them (minTau 0).
 */
import { kendallTauB } from './agreement';
import type { Judgment } from './types';

/** Default Kendall τ-b below which two rankings of one item count as a disagreement. */
export const DEFAULT_TAU_THRESHOLD = 0.5;

/** Why an item counts as disagreed on. */
export type DisagreementKind =
  /** Two annotators chose opposite responses of the same pair. */
  | 'opposite'
  /** Rankings whose Kendall τ-b is below the threshold for some pair of annotators. */
  | 'low_tau'
  /** One annotator preferred a response, another called it a tie or both bad. */
  | 'partial';

/** An item's disagreement: its kind and the lowest τ-b over annotator pairs (pairs: −1 opposite, 0 partial). */
export interface Disagreement {
  kind: DisagreementKind;
  minTau: number;
}

/** Rank position of every response (0 = best; responses a judgment left out share the last rank). */
export function rankOf(j: Judgment, n: number): number[] {
  const rank = new Array<number>(n).fill(j.ranking.length);
  j.ranking.forEach((group, g) => group.forEach((i) => (rank[i] = j.bothBad ? 0 : g)));
  return rank;
}

/** A pair judgment as one label: the winning response index, 'tie' or 'bad'. */
function pairLabel(j: Judgment): number | 'tie' | 'bad' {
  if (j.bothBad) return 'bad';
  return j.ranking.length >= 2 && j.ranking[0].length === 1 ? j.ranking[0][0] : 'tie';
}

/**
 * The disagreement among `judgments` (one current judgment per annotator) of an item with `n` responses,
 * or null when they agree (or fewer than two annotators judged it).
 */
export function itemDisagreement(judgments: readonly Judgment[], n: number, tauThreshold = DEFAULT_TAU_THRESHOLD): Disagreement | null {
  if (judgments.length < 2) return null;
  if (n === 2) {
    const labels = new Set(judgments.map(pairLabel));
    const winners = [...labels].filter((l) => typeof l === 'number');
    if (winners.length > 1) return { kind: 'opposite', minTau: -1 };
    return labels.size > 1 ? { kind: 'partial', minTau: 0 } : null;
  }
  let minTau = 1;
  const ranked = judgments.filter((j) => !j.bothBad && j.ranking.length > 1);
  for (let x = 0; x < ranked.length; x++) {
    for (let y = x + 1; y < ranked.length; y++) {
      const tau = kendallTauB(rankOf(ranked[x], n), rankOf(ranked[y], n));
      if (tau !== null) minTau = Math.min(minTau, tau);
    }
  }
  if (minTau < tauThreshold) return { kind: 'low_tau', minTau };
  if (ranked.length > 0 && judgments.some((j) => j.bothBad)) return { kind: 'partial', minTau: Math.min(minTau, 0) };
  return null;
}
