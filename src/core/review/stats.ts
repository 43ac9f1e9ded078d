/**
 * The comparison statistics the review lists are built on, as thin adapters over the data core's
 * src/core/agreement.ts: per-response win/loss/tie counts of one item, Kendall τ-b between two rankings,
 * and each annotator's agreement with the majority of the others.
 */
import { agreementWithMajority, kendallTauB as coreKendallTauB, responseStats } from '../agreement';
import type { Judgment, TaskItem } from '../types';
import type { AnnotatorMajority, ResponseRecord } from './types';

/**
 * Win/loss/tie counts of every response of `item` over `judgments` (each annotator's current judgment),
 * from agreement.ts's responseStats: every two responses in different groups of a judgment are a
 * comparison the better group wins, two in one group a tie; a "both bad" judgment is no comparison and
 * adds to `bothBad` (once per other response it was judged with).
 */
export function responseRecords(item: TaskItem, judgments: Judgment[]): ResponseRecord[] {
  const stats = responseStats([item], judgments);
  return stats.map((s) => ({
    index: s.response,
    text: item.responses[s.response].text,
    comparisons: s.wins + s.losses + s.ties,
    wins: s.wins,
    losses: s.losses,
    ties: s.ties,
    bothBad: s.bothBad,
    annotators: s.annotators,
    neverWon: s.neverWon,
  }));
}

/** Kendall τ-b of two rank vectors (lower = better, equal = tied); NaN when undefined (a vector all tied). */
export function kendallTauB(x: number[], y: number[]): number {
  return coreKendallTauB(x, y) ?? NaN;
}

/**
 * Per annotator: how many items they judged, and over the response pairs (item, i, j) they judged where
 * the *other* annotators have a strict majority label (agreement.ts's agreementWithMajority), how often
 * their label equals it.
 */
export function annotatorMajority(judgments: Judgment[]): AnnotatorMajority[] {
  const judged = new Map<string, number>();
  for (const j of judgments) judged.set(j.annotator, (judged.get(j.annotator) ?? 0) + 1);
  return agreementWithMajority(judgments).map((m) => ({
    annotator: m.annotator,
    judged: judged.get(m.annotator) ?? 0,
    compared: m.n,
    agreed: m.agree,
    rate: m.rate ?? NaN,
  }));
}
