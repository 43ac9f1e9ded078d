/**
 * The review lists of likely annotation errors, computed from current judgments (pure, no I/O):
 * never-won responses, disagreements between annotators, and model-flagged pairs from per-response
 * scores. `confirm` events later than an item's latest judgment hide it from the list they name.
 */
import type { AnnotationEvent, Judgment, TaskItem } from '../types';
import { DEFAULT_TAU_THRESHOLD, itemDisagreement } from '../disagreement';
import type {
  AnnotatorJudgment,
  DisagreementEntry,
  FlaggedPair,
  NeverWonEntry,
  ResponseRecord,
  ResponseScores,
  ReviewListName,
} from './types';
import { groupByItem } from '../agreement';
import { responseRecords } from './stats';

/**
 * Items whose entries in each list are hidden by a `confirm` event: the confirm must come after the
 * item's latest judgment or undo in log order (a new judgment brings the item back), and its `reason`
 * must name the list (a confirm without reason covers every list).
 */
export function confirmedItems(events: AnnotationEvent[]): Record<ReviewListName, Set<string>> {
  const lastJudgment = new Map<string, number>();
  events.forEach((e, i) => {
    if (e.kind === 'pair' || e.kind === 'rank' || e.kind === 'undo') lastJudgment.set(e.item, i);
  });
  const out: Record<ReviewListName, Set<string>> = {
    never_won: new Set(),
    disagreement: new Set(),
    model_flagged: new Set(),
  };
  events.forEach((e, i) => {
    if (e.kind !== 'confirm' || i < (lastJudgment.get(e.item) ?? -1)) return;
    for (const list of Object.keys(out) as ReviewListName[]) {
      if (e.reason === undefined || e.reason === list) out[list].add(e.item);
    }
  });
  return out;
}

/**
 * Never won: the items with a response that lost every comparison it took part in (no win, no tie) in the
 * judgments of 2+ annotators (core/agreement.ts isNeverWon; the loser of one pair judgment is not listed),
 * with whether every response of the item lost some comparison or was judged both bad. Sorted by the
 * number of comparisons lost (most first), then by line.
 */
export function neverWonList(items: TaskItem[], judgments: Judgment[]): NeverWonEntry[] {
  const byItem = groupByItem(judgments);
  const out: NeverWonEntry[] = [];
  for (const item of items) {
    const js = byItem.get(item.id);
    if (!js) continue;
    const responses = responseRecords(item, js);
    const neverWon = responses.filter((r) => r.neverWon);
    if (neverWon.length === 0) continue;
    const allLost = responses.every((r) => r.losses > 0 || r.bothBad > 0);
    out.push({
      item: item.id,
      line: item.line,
      prompt: item.prompt,
      neverWon,
      allLost,
      responses,
      lostComparisons: neverWon.reduce((s, r: ResponseRecord) => s + r.losses, 0),
    });
  }
  return out.sort((a, b) => b.lostComparisons - a.lostComparisons || a.line - b.line);
}

/** Disagreements among items judged by 2+ annotators (see core/disagreement.ts), sorted by minTau (most negative first), then line. */
export function disagreementList(
  items: TaskItem[],
  judgments: Judgment[],
  tauThreshold = DEFAULT_TAU_THRESHOLD,
): DisagreementEntry[] {
  const byItem = groupByItem(judgments);
  const out: DisagreementEntry[] = [];
  for (const item of items) {
    const js = byItem.get(item.id);
    const found = js && itemDisagreement(js, item.responses.length, tauThreshold);
    if (!js || !found) continue;
    out.push({
      item: item.id,
      line: item.line,
      prompt: item.prompt,
      kind: found.kind,
      minTau: found.minTau,
      judgments: js.map((j): AnnotatorJudgment => ({ annotator: j.annotator, ranking: j.ranking, bothBad: j.bothBad, ...(j.shown ? { shown: j.shown } : {}) })),
      responses: item.responses.map((r, index) => ({ index, text: r.text })),
    });
  }
  return out.sort((a, b) => a.minTau - b.minTau || a.line - b.line);
}

/** Labelled pairs of the current judgments: (item, chosen, rejected) with the annotators behind it. */
export interface LabelledPair {
  item: string;
  chosen: number;
  rejected: number;
  annotators: string[];
}

/** Every preference pair implied by the current judgments (all pairs across ranking groups). */
export function labelledPairs(judgments: Judgment[]): LabelledPair[] {
  const byKey = new Map<string, LabelledPair>();
  for (const j of judgments) {
    if (j.bothBad) continue;
    for (let g = 0; g < j.ranking.length; g++) {
      for (let h = g + 1; h < j.ranking.length; h++) {
        for (const chosen of j.ranking[g]) {
          for (const rejected of j.ranking[h]) {
            const key = `${j.item}\u0000${chosen}\u0000${rejected}`;
            const pair = byKey.get(key) ?? { item: j.item, chosen, rejected, annotators: [] };
            if (!pair.annotators.includes(j.annotator)) pair.annotators.push(j.annotator);
            byKey.set(key, pair);
          }
        }
      }
    }
  }
  return [...byKey.values()];
}

/** A labelled pair with the model's margin: score(chosen) − score(rejected). */
export type ScoredPair = FlaggedPair;

/**
 * Every labelled pair of a scored item with its margin = score(chosen) − score(rejected), most
 * negative (most contradicting the label) first; ties broken by line, then response indices.
 */
export function scorePairs(items: TaskItem[], judgments: Judgment[], scored: ResponseScores[]): ScoredPair[] {
  const itemById = new Map(items.map((i) => [i.id, i]));
  const scoreById = new Map(scored.map((s) => [s.item, s]));
  const out: ScoredPair[] = [];
  for (const p of labelledPairs(judgments)) {
    const item = itemById.get(p.item);
    const s = scoreById.get(p.item);
    if (!item || !s) continue;
    out.push({
      item: p.item,
      line: item.line,
      prompt: item.prompt,
      chosen: p.chosen,
      rejected: p.rejected,
      chosenText: item.responses[p.chosen].text,
      rejectedText: item.responses[p.rejected].text,
      margin: s.scores[p.chosen] - s.scores[p.rejected],
      scorer: s.scorer,
      ...(s.fold !== undefined ? { fold: s.fold } : {}),
      annotators: p.annotators,
    });
  }
  return out.sort((a, b) => a.margin - b.margin || a.line - b.line || a.chosen - b.chosen || a.rejected - b.rejected);
}

/**
 * Model-flagged pairs: the scored pairs whose margin is negative (the model prefers the rejected
 * response), most negative first; `top` keeps only the first N.
 */
export function flaggedList(items: TaskItem[], judgments: Judgment[], scored: ResponseScores[], top = Infinity): FlaggedPair[] {
  const out = scorePairs(items, judgments, scored).filter((p) => p.margin < 0);
  return Number.isFinite(top) ? out.slice(0, top) : out;
}
