/**
 * Blind comparison of two models: the win rate of model B over model A on items that hold one response of
 * each (responses carry `model`, as `dap generate --model A --model B` writes them). Per judgment, B's
 * outcome is a win (B's response ranked above A's), a loss, a tie (same group) or both-bad. Win rate =
 * (wins + ties/2) / (wins + losses + ties); both-bad judgments are counted apart and left out of the rate.
 * Per annotator every judgment is one trial. Overall every item is one trial (annotators of one item are
 * not independent): the item's score is the mean of its annotators' non-both-bad outcomes (1, ½, 0), and
 * an item all of whose judgments are both-bad counts as both-bad; the item is a win, loss or tie by its
 * score. Each rate has its 95% Wilson interval (intervals.ts); position bias is reported for the same
 * judgments (positionBias.ts).
 */
import { proportion, type Proportion } from './intervals';
import { positionBias, type PositionBiasReport } from './positionBias';
import type { Judgment, TaskItem } from './types';

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
export function comparisonIndices(item: TaskItem, pair: ModelPair): { a: number; b: number } | undefined {
  const a = item.responses.flatMap((r, i) => (r.model === pair.a ? [i] : []));
  const b = item.responses.flatMap((r, i) => (r.model === pair.b ? [i] : []));
  return a.length === 1 && b.length === 1 ? { a: a[0], b: b[0] } : undefined;
}

/** The models of the first item whose responses carry exactly two distinct model names, in response order. */
export function comparisonModels(items: readonly TaskItem[]): ModelPair | undefined {
  for (const it of items) {
    const names = [...new Set(it.responses.map((r) => r.model).filter((m): m is string => typeof m === 'string'))];
    if (names.length === 2 && it.responses.every((r) => r.model !== undefined)) return { a: names[0], b: names[1] };
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

/** B's win rate over A on `items` judged by `judgments`; undefined when no item holds both models. */
export function compareModels(items: readonly TaskItem[], judgments: readonly Judgment[], pair = comparisonModels(items),
  automaticJudges: ReadonlySet<string> = new Set()): ModelComparison | undefined {
  if (!pair) return undefined;
  const at = new Map<string, { a: number; b: number }>();
  for (const it of items) {
    const idx = comparisonIndices(it, pair);
    if (idx) at.set(it.id, idx);
  }
  if (at.size === 0) return undefined;
  const perAnnotator = new Map<string, Record<ComparisonOutcome, number>>();
  const perItem = new Map<string, ComparisonOutcome[]>();
  const used: Judgment[] = [];
  for (const j of judgments) {
    const idx = at.get(j.item);
    if (!idx) continue;
    const outcome = outcomeForB(j, idx);
    if (!outcome) continue;
    used.push(j);
    const c = perAnnotator.get(j.annotator) ?? { win: 0, loss: 0, tie: 0, both_bad: 0 };
    c[outcome]++;
    perAnnotator.set(j.annotator, c);
    perItem.set(j.item, [...(perItem.get(j.item) ?? []), outcome]);
  }
  let wins = 0, losses = 0, ties = 0, bothBad = 0, successes = 0;
  for (const outcomes of perItem.values()) {
    const scored = outcomes.filter((o): o is Exclude<ComparisonOutcome, 'both_bad'> => o !== 'both_bad').map((o) => SCORE[o]);
    if (scored.length === 0) {
      bothBad++;
      continue;
    }
    const score = scored.reduce((s, x) => s + x, 0) / scored.length;
    successes += score;
    if (score > 0.5) wins++;
    else if (score < 0.5) losses++;
    else ties++;
  }
  return {
    ...pair,
    items: at.size,
    judgedItems: perItem.size,
    overall: winRateRow('all', wins, losses, ties, bothBad, successes),
    perAnnotator: [...perAnnotator.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
      .map(([annotator, c]) => winRateRow(annotator, c.win, c.loss, c.tie, c.both_bad)),
    positionBias: positionBias(used, automaticJudges),
  };
}
