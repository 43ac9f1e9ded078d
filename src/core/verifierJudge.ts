/**
 * The automatic judge of verifiable items (src/core/verify.ts): an annotator named "verifier" whose
 * judgment of an item puts its correct responses above its wrong ones. Two responses: one right → that one
 * wins; both right → tie; both wrong → both_bad. Three or more: a ranking with the correct group first
 * (all equal → one group). Items with a response the verifier cannot check get no judgment. The events are
 * ordinary annotation-log events (`shown` = file order, the verifier sees no display), so training, stats
 * and the review panel read them like anyone's; position bias leaves the verifier out.
 */
import type { AnnotationEvent, TaskItem } from './types';
import { verifyResponse } from './verify';

/** The annotator id of the automatic judge. */
export const VERIFIER_ANNOTATOR = 'verifier';

/** Annotators whose judgments are automatic (left out of position bias). */
export const AUTOMATIC_JUDGES: ReadonlySet<string> = new Set([VERIFIER_ANNOTATOR]);

/** Per response: correct or not; undefined when some response cannot be verified. */
export function verifyResponses(item: TaskItem): boolean[] | undefined {
  const verdicts = item.responses.map((r) => verifyResponse(item, r.text));
  return verdicts.every((v): v is boolean => v !== undefined) ? verdicts : undefined;
}

/** The verifier's judgment of an item as a log event (undefined when the item is not verifiable). */
export function verifierEvent(item: TaskItem, ts: string): AnnotationEvent | undefined {
  const verdicts = verifyResponses(item);
  if (!verdicts) return undefined;
  const shown = item.responses.map((_, i) => i);
  const base = { v: 1 as const, item: item.id, annotator: VERIFIER_ANNOTATOR, ts };
  if (verdicts.length === 2) {
    const [a, b] = verdicts;
    return { ...base, kind: 'pair', shown, choice: a && b ? 'tie' : !a && !b ? 'both_bad' : a ? 'a' : 'b' };
  }
  const right = shown.filter((i) => verdicts[i]);
  const wrong = shown.filter((i) => !verdicts[i]);
  return { ...base, kind: 'rank', shown, ranking: right.length === 0 || wrong.length === 0 ? [shown] : [right, wrong] };
}
