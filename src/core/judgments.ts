/**
 * Resolves annotation-log events into current judgments. Rules (per annotator and item):
 * - every `pair`/`rank` event pushes a judgment onto that (annotator, item) stack; the top is current,
 *   so a later judgment supersedes earlier ones;
 * - `undo` pops the stack: it retracts that annotator's latest judgment of the item, and a second undo
 *   retracts the one before (undo on an empty stack is a warning and does nothing);
 * - `confirm` and `flag` events are separate state: undo does not touch them; the latest `flag` per
 *   (annotator, item) is the flag state; confirms are kept in file order.
 * Pair choices are in shown positions and are resolved to response indices: 'a' = shown[0] wins.
 * Events naming an unknown item are warnings (the event stays in the log; it is not resolved).
 */
import { issueError, issueWarning } from './issues';
import type { AnnotationEvent, ConfirmEvent, DataIssue, Judgment, PairEvent, RankEvent, TaskItem } from './types';

/** An event with its log line number (as read by readAnnotationLog). */
export interface NumberedEvent {
  line: number;
  event: AnnotationEvent;
}

/** Current flag state of one (annotator, item). */
export interface FlagState {
  item: string;
  annotator: string;
  flagged: boolean;
  ts: string;
}

/** The resolved state of a log. */
export interface LogResolution {
  /** Current judgments, ordered by item (task-file order), then annotator name. */
  judgments: Judgment[];
  /** Latest flag per (annotator, item), where any flag event exists. */
  flags: FlagState[];
  /** Every confirm event, in log order. */
  confirms: ConfirmEvent[];
  issues: DataIssue[];
}

/** The annotator name of labels a data file carries itself (TRL chosen/rejected, RRHF scores). */
export const SOURCE_ANNOTATOR = 'source';

/**
 * An item's own preference (`sourcePreference`: chosen over rejected, or RRHF score groups best first) as
 * one judgment by {@link SOURCE_ANNOTATOR}; undefined for an item that carries none (it needs annotations).
 */
export function sourceJudgment(item: TaskItem): Judgment | undefined {
  if (!item.sourcePreference) return undefined;
  return { item: item.id, annotator: SOURCE_ANNOTATOR, ranking: item.sourcePreference.map((g) => [...g]), bothBad: false, ts: '',
    kind: item.responses.length > 2 ? 'rank' : 'pair' };
}

/** Turns a pair or rank event into a judgment over response indices. */
export function judgmentFromEvent(event: PairEvent | RankEvent): Judgment {
  let ranking: number[][];
  let bothBad = false;
  if (event.kind === 'rank') ranking = event.ranking.map((g) => [...g]);
  else {
    const [a, b] = event.shown;
    switch (event.choice) {
      case 'a':
        ranking = [[a], [b]];
        break;
      case 'b':
        ranking = [[b], [a]];
        break;
      case 'tie':
        ranking = [[a, b]];
        break;
      case 'both_bad':
        ranking = [[a, b]];
        bothBad = true;
        break;
    }
  }
  return { item: event.item, annotator: event.annotator, ranking, bothBad, ts: event.ts, kind: event.kind, shown: [...event.shown] };
}

function isNumbered(e: AnnotationEvent | NumberedEvent): e is NumberedEvent {
  return 'event' in e && typeof (e as NumberedEvent).line === 'number';
}

/**
 * Resolves events (in log order) against the task items. `file` names the log in issues.
 * Plain events (without line numbers) are numbered by their position, 1-based.
 */
export function resolveJudgments(events: readonly (AnnotationEvent | NumberedEvent)[], items: readonly TaskItem[], file = 'annotations'): LogResolution {
  const itemById = new Map(items.map((it, i) => [it.id, { item: it, order: i }]));
  const stacks = new Map<string, { annotator: string; item: string; stack: Judgment[] }>();
  const flags = new Map<string, FlagState>();
  const confirms: ConfirmEvent[] = [];
  const issues: DataIssue[] = [];
  const unknownReported = new Set<string>();
  events.forEach((entry, index) => {
    const { line, event } = isNumbered(entry) ? entry : { line: index + 1, event: entry };
    const known = itemById.get(event.item);
    if (!known) {
      if (!unknownReported.has(event.item)) {
        unknownReported.add(event.item);
        issues.push(issueWarning(file, line, 'item', `unknown item id "${event.item}" (not in the task file); its events are ignored`));
      }
      return;
    }
    const key = `${event.annotator}\u0000${event.item}`;
    switch (event.kind) {
      case 'pair':
      case 'rank': {
        const n = known.item.responses.length;
        const bad = event.shown.find((i) => i >= n);
        if (bad !== undefined) {
          issues.push(issueError(file, line, 'shown', `response index ${bad} out of range (item "${event.item}" has ${n} responses); event ignored`));
          return;
        }
        const entryState = stacks.get(key) ?? { annotator: event.annotator, item: event.item, stack: [] };
        entryState.stack.push(judgmentFromEvent(event));
        stacks.set(key, entryState);
        return;
      }
      case 'undo': {
        const state = stacks.get(key);
        if (!state || state.stack.length === 0) issues.push(issueWarning(file, line, 'kind', `undo by "${event.annotator}" with no judgment of "${event.item}" to retract; ignored`));
        else state.stack.pop();
        return;
      }
      case 'flag':
        flags.set(key, { item: event.item, annotator: event.annotator, flagged: event.flagged, ts: event.ts });
        return;
      case 'confirm':
        confirms.push(event);
        return;
    }
  });
  const order = (item: string) => itemById.get(item)?.order ?? 0;
  const byItemThenAnnotator = (x: { item: string; annotator: string }, y: { item: string; annotator: string }) =>
    order(x.item) - order(y.item) || (x.annotator < y.annotator ? -1 : x.annotator > y.annotator ? 1 : 0);
  // Sort keys computed once: (item order, annotator).
  const current = [...stacks.values()].filter((s) => s.stack.length > 0).map((s) => ({ order: order(s.item), judgment: s.stack[s.stack.length - 1] }));
  current.sort((x, y) => x.order - y.order || (x.judgment.annotator < y.judgment.annotator ? -1 : x.judgment.annotator > y.judgment.annotator ? 1 : 0));
  const judgments = current.map((c) => c.judgment);
  return { judgments, flags: [...flags.values()].sort(byItemThenAnnotator), confirms, issues };
}
