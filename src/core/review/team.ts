/**
 * The team view of a task file and its log (pure, no I/O): per annotator how many items they judged, how
 * many their "next" would still serve (items they have not judged that are short of the annotators they
 * ask for: core/assignment.ts), their agreement with the majority of the others, their median time per
 * judgment and their position bias (how often the response shown first wins, against 50%, with a binomial
 * test: core/positionBias.ts, the one implementation); how many items are complete, short or judged by 0, 1,
 * 2 … annotators; and Cohen's κ of every two annotators on common pairs. The review panel's Team tab renders it.
 */
import { groupByItem, pairAgreement } from '../agreement';
import { requiredAnnotators, stillOpen } from '../assignment';
import { positionBias } from '../positionBias';
import type { AnnotationEvent, Judgment, TaskItem } from '../types';
import { annotatorMajority } from './stats';
import type { TeamMember, TeamReport } from './types';

export type { TeamMember, TeamReport } from './types';

function median(xs: number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The team view of `items` with their current `judgments` and the log's `events` (for the times). */
export function teamReport(items: readonly TaskItem[], judgments: readonly Judgment[], events: readonly AnnotationEvent[], maxCoverage = 3): TeamReport {
  const byItem = groupByItem(judgments);
  const annotators = [...new Set([...judgments.map((j) => j.annotator), ...events.filter((e) => e.kind === 'pair' || e.kind === 'rank').map((e) => e.annotator)])].sort();
  const coverage = new Array<number>(maxCoverage + 1).fill(0);
  const open = new Map(annotators.map((a) => [a, 0]));
  let withOverlap = 0;
  let complete = 0;
  for (const item of items) {
    const js = byItem.get(item.id) ?? [];
    coverage[Math.min(js.length, maxCoverage)]++;
    const needs = requiredAnnotators(item);
    if (needs !== undefined) {
      withOverlap++;
      if (js.length >= needs) complete++;
    }
    if (!stillOpen(needs, js.length)) continue;
    for (const a of annotators) if (!js.some((j) => j.annotator === a)) open.set(a, (open.get(a) ?? 0) + 1);
  }
  const seconds = new Map<string, number[]>();
  for (const e of events) {
    if ((e.kind === 'pair' || e.kind === 'rank') && typeof e.ms === 'number') (seconds.get(e.annotator) ?? seconds.set(e.annotator, []).get(e.annotator)!).push(e.ms / 1000);
  }
  const majority = new Map(annotatorMajority([...judgments]).map((m) => [m.annotator, m]));
  const bias = positionBias(judgments);
  const biasOf = new Map(bias.perAnnotator.map((r) => [r.annotator, r]));
  const judged = new Map<string, number>();
  for (const j of judgments) judged.set(j.annotator, (judged.get(j.annotator) ?? 0) + 1);
  const members = annotators.map((annotator): TeamMember => {
    const med = median(seconds.get(annotator) ?? []);
    return {
      annotator,
      judged: judged.get(annotator) ?? 0,
      open: open.get(annotator) ?? 0,
      agreement: majority.get(annotator) ?? { annotator, judged: 0, compared: 0, agreed: 0, rate: NaN },
      ...(med !== undefined ? { medianSeconds: med } : {}),
      ...(biasOf.has(annotator) ? { positionBias: biasOf.get(annotator) } : {}),
    };
  });
  return { items: items.length, withOverlap, complete, short: withOverlap - complete, coverage, members, pairs: pairAgreement(judgments).perAnnotatorPair, positionBias: bias.overall };
}
