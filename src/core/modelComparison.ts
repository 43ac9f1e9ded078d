/**
 * Blind comparison of two models: the win rate of model B over model A on items that hold one response of
 * each (responses carry `model`, as `dap generate --model A --model B` writes them). Per judgment, B's
 * outcome is a win (B's response ranked above A's), a loss, a tie (same group) or both-bad. Win rate =
 * (wins + ties/2) / (wins + losses + ties); both-bad judgments are counted apart and left out of the rate.
 * Per annotator every judgment is one trial. Overall every item is one trial (annotators of one item are
 * not independent): the item's score is the mean of its annotators' non-both-bad outcomes (1, ½, 0), and
 * an item all of whose judgments are both-bad counts as both-bad; the item is a win, loss or tie by its
 * score. Each rate has its 95% Wilson interval (intervals.ts); position bias is reported for the same
 * judgments (positionBias.ts). The counting is a tally fed batches of items (ModelComparisonTally): `dap
 * stats` over a partitioned log and compareModels in memory use the same one.
 */
import { proportion, type Proportion } from './intervals';
import { ExactSum } from './exactSum';
import { PositionBiasTally, type PositionBiasReport } from './positionBias';
import type { ItemShape, Judgment } from './types';

/** The two models compared: B's win rate over A is reported. */
export interface ModelPair {
  a: string;
  b: string;
}

/** B's outcome in one judgment. */
export type ComparisonOutcome = 'win' | 'loss' | 'tie' | 'both_bad';

/** A win rate with its counts. */
export interface WinRateRow extends Proportion {
  /** The annotator, or "all" for the overall row. */
  annotator: string;
  wins: number;
  losses: number;
  ties: number;
  bothBad: number;
}

/** What compareModels reports. */
export interface ModelComparison extends ModelPair {
  /** Items with one response of each model. */
  items: number;
  /** Of those, items with at least one current judgment. */
  judgedItems: number;
  overall: WinRateRow;
  perAnnotator: WinRateRow[];
  /** Position bias of the human judgments of these items (automatic judges left out). */
  positionBias: PositionBiasReport;
}

/** Response indices of A and B in an item, when it holds exactly one response of each. */
export function comparisonIndices(item: ItemShape, pair: ModelPair): { a: number; b: number } | undefined {
  const a = item.responses.flatMap((r, i) => (r.model === pair.a ? [i] : []));
  const b = item.responses.flatMap((r, i) => (r.model === pair.b ? [i] : []));
  return a.length === 1 && b.length === 1 ? { a: a[0], b: b[0] } : undefined;
}

/** The models of the first item whose responses carry exactly two distinct model names, in response order. */
export function comparisonModels(items: readonly ItemShape[]): ModelPair | undefined {
  for (const it of items) {
    if (!it.responses.every((r) => r.model !== undefined)) continue; // first: most items carry no models, and this allocates nothing
    const names = [...new Set(it.responses.map((r) => r.model as string))];
    if (names.length === 2) return { a: names[0], b: names[1] };
  }
  return undefined;
}

/** B's outcome in a judgment of an item (indices from comparisonIndices). */
export function outcomeForB(judgment: Judgment, at: { a: number; b: number }): ComparisonOutcome | undefined {
  if (judgment.bothBad) return 'both_bad';
  const group = (i: number) => judgment.ranking.findIndex((g) => g.includes(i));
  const ga = group(at.a);
  const gb = group(at.b);
  if (ga < 0 || gb < 0) return undefined;
  return gb < ga ? 'win' : gb > ga ? 'loss' : 'tie';
}

const SCORE: Record<Exclude<ComparisonOutcome, 'both_bad'>, number> = { win: 1, tie: 0.5, loss: 0 };

function winRateRow(annotator: string, wins: number, losses: number, ties: number, bothBad: number, successes = wins + ties / 2): WinRateRow {
  return { annotator, wins, losses, ties, bothBad, ...proportion(successes, wins + losses + ties) };
}

/**
 * A model comparison for a fixed pair, fed a batch of items with every current judgment of those items at
 * a time (addItems; each item in one batch only), reported by finish(). Counts, and an exact sum of the
 * per-item scores (core/exactSum.ts), so batches in any order give the same report.
 */
export class ModelComparisonTally {
  private readonly perAnnotator = new Map<string, Record<ComparisonOutcome, number>>();
  private readonly bias: PositionBiasTally;
  private items = 0;
  private judgedItems = 0;
  private wins = 0;
  private losses = 0;
  private ties = 0;
  private bothBad = 0;
  private readonly successes = new ExactSum();

  constructor(readonly pair: ModelPair, automaticJudges: ReadonlySet<string> = new Set()) {
    this.bias = new PositionBiasTally(automaticJudges);
  }

  addItems(items: readonly ItemShape[], judgments: readonly Judgment[]): void {
    const at = new Map<string, { a: number; b: number }>();
    for (const it of items) {
      const idx = comparisonIndices(it, this.pair);
      if (idx) at.set(it.id, idx);
    }
    this.items += at.size;
    const perItem = new Map<string, ComparisonOutcome[]>();
    for (const j of judgments) {
      const idx = at.get(j.item);
      if (!idx) continue;
      const outcome = outcomeForB(j, idx);
      if (!outcome) continue;
      this.bias.add(j);
      const c = this.perAnnotator.get(j.annotator) ?? { win: 0, loss: 0, tie: 0, both_bad: 0 };
      c[outcome]++;
      this.perAnnotator.set(j.annotator, c);
      let outcomes = perItem.get(j.item);
      if (!outcomes) perItem.set(j.item, (outcomes = []));
      outcomes.push(outcome);
    }
    this.judgedItems += perItem.size;
    for (const outcomes of perItem.values()) {
      const scored = outcomes.filter((o): o is Exclude<ComparisonOutcome, 'both_bad'> => o !== 'both_bad').map((o) => SCORE[o]);
      if (scored.length === 0) {
        this.bothBad++;
        continue;
      }
      const score = scored.reduce((s, x) => s + x, 0) / scored.length;
      this.successes.add(score);
      if (score > 0.5) this.wins++;
      else if (score < 0.5) this.losses++;
      else this.ties++;
    }
  }

  /** The comparison; undefined when no item added held both models. */
  finish(): ModelComparison | undefined {
    if (this.items === 0) return undefined;
    return {
      ...this.pair,
      items: this.items,
      judgedItems: this.judgedItems,
      overall: winRateRow('all', this.wins, this.losses, this.ties, this.bothBad, this.successes.value()),
      perAnnotator: [...this.perAnnotator.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
        .map(([annotator, c]) => winRateRow(annotator, c.win, c.loss, c.tie, c.both_bad)),
      positionBias: this.bias.finish(),
    };
  }
}

/** B's win rate over A on `items` judged by `judgments`; undefined when no item holds both models. */
export function compareModels(items: readonly ItemShape[], judgments: readonly Judgment[], pair = comparisonModels(items),
  automaticJudges: ReadonlySet<string> = new Set()): ModelComparison | undefined {
  if (!pair) return undefined;
  const tally = new ModelComparisonTally(pair, automaticJudges);
  tally.addItems(items, judgments);
  return tally.finish();
}
