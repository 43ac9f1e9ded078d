/**
 * Position bias of pair judgments: how often the response shown first (left, `shown[0]`) wins, per
 * annotator and overall, against the 50% an unbiased annotator gives when the display order is shuffled.
 * Counts decisive current pair judgments only (ties and both-bad say nothing about position); a rank
 * judgment of two responses counts like a pair. Each rate comes with its 95% Wilson interval and an exact
 * two-sided binomial test against 1/2. Judgments without a recorded `shown` (labels a file carries itself)
 * and those of automatic judges (`excludeAnnotators`, e.g. the verifier, whose order is the file's) are
 * left out. The one home of this statistic: `dap stats`, the review panel and model comparisons use it.
 */
import { binomialTestHalf, proportion, type Proportion } from './intervals';
import type { Judgment } from './types';

/** Position bias of one annotator (or of all together). */
export interface PositionBiasRow extends Proportion {
  annotator: string;
  /** Decisive judgments the first-shown response won (= successes). */
  firstWins: number;
  /** Decisive judgments the second-shown response won. */
  secondWins: number;
  /** Exact two-sided binomial p-value against 1/2. */
  pValue: number;
}

/** Per annotator (sorted by name) and overall (annotator "all"). */
export interface PositionBiasReport {
  perAnnotator: PositionBiasRow[];
  overall: PositionBiasRow;
}

/** 'first' or 'second' when the judgment is a decisive choice between exactly two shown responses. */
export function winningPosition(j: Judgment): 'first' | 'second' | undefined {
  if (!j.shown || j.shown.length !== 2 || j.bothBad || j.ranking.length < 2) return undefined;
  const [first, second] = j.shown;
  const best = j.ranking[0];
  if (best.length !== 1) return undefined;
  return best[0] === first ? 'first' : best[0] === second ? 'second' : undefined;
}

function row(annotator: string, firstWins: number, secondWins: number): PositionBiasRow {
  const n = firstWins + secondWins;
  return { annotator, firstWins, secondWins, pValue: binomialTestHalf(firstWins, n), ...proportion(firstWins, n) };
}

/** Position-bias counts, fed judgments in any order and batches (add), reported by finish(). */
export class PositionBiasTally {
  private readonly counts = new Map<string, [number, number]>();
  private first = 0;
  private second = 0;

  constructor(private readonly excludeAnnotators: ReadonlySet<string> = new Set()) {}

  add(j: Judgment): void {
    if (this.excludeAnnotators.has(j.annotator)) return;
    const pos = winningPosition(j);
    if (!pos) return;
    const c = this.counts.get(j.annotator) ?? [0, 0];
    c[pos === 'first' ? 0 : 1]++;
    this.counts.set(j.annotator, c);
    if (pos === 'first') this.first++;
    else this.second++;
  }

  finish(): PositionBiasReport {
    const perAnnotator = [...this.counts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([a, [f, s]]) => row(a, f, s));
    return { perAnnotator, overall: row('all', this.first, this.second) };
  }
}

/** Position bias of `judgments` (see the file comment for what counts). */
export function positionBias(judgments: readonly Judgment[], excludeAnnotators: ReadonlySet<string> = new Set()): PositionBiasReport {
  const tally = new PositionBiasTally(excludeAnnotators);
  for (const j of judgments) tally.add(j);
  return tally.finish();
}
