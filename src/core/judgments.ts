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
 * ItemStates applies these rules one event at a time (the annotator keeps one); resolveJudgments runs a
 * whole log through one, against the task items.
 */
import { assertUnreachable } from './assertUnreachable';
import { DEFAULT_TAU_THRESHOLD, itemDisagreement } from './disagreement';
import { issueError, issueWarning } from './issues';
import type { AnnotationEvent, ConfirmEvent, DataIssue, ItemShape, Judgment, PairEvent, RankEvent, TaskItem } from './types';

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

/** One annotator's state of one item: the judgment stack (top = current) and the latest flag. */
interface AnnotatorItemState {
  annotator: string;
  stack: Judgment[];
  flag?: FlagState;
}

/**
 * The annotators' states of one item, in the order they first appeared: a short list (most items have a
 * few annotators, and a Map per item costs more than the search), a Map once it passes
 * STATES_LISTED_AT_MOST (so an item judged by very many annotators stays linear).
 */
type ItemAnnotators = AnnotatorItemState[] | Map<string, AnnotatorItemState>;
const STATES_LISTED_AT_MOST = 16;

function findState(states: ItemAnnotators | undefined, annotator: string): AnnotatorItemState | undefined {
  if (!states) return undefined;
  if (!Array.isArray(states)) return states.get(annotator);
  for (const s of states) if (s.annotator === annotator) return s;
  return undefined;
}

function statesOf(states: ItemAnnotators | undefined): Iterable<AnnotatorItemState> {
  return !states ? [] : Array.isArray(states) ? states : states.values();
}

/**
 * The log's state, one event at a time (the rules at the top of this file): per item and annotator the
 * judgment stack and flag, and per annotator how many items they have a current judgment of. The editor
 * keeps one to answer "judged? flagged? disagreed?" without re-reading the log; resolveJudgments builds
 * one over a whole log. Events are applied as given: checking them against the task file is the caller's.
 */
export class ItemStates {
  /** item id → its annotators' states. */
  private readonly byItem = new Map<string, ItemAnnotators>();
  /** annotator → number of items with a current judgment. */
  private readonly doneCount = new Map<string, number>();

  /** The state of (item, annotator), created empty when missing. */
  private stateFor(item: string, annotator: string): AnnotatorItemState {
    const states = this.byItem.get(item);
    let s = findState(states, annotator);
    if (s) return s;
    s = { annotator, stack: [] };
    if (!states) this.byItem.set(item, [s]);
    else if (!Array.isArray(states)) states.set(annotator, s);
    else if (states.length < STATES_LISTED_AT_MOST) states.push(s);
    else this.byItem.set(item, new Map([...states, s].map((x) => [x.annotator, x])));
    return s;
  }

  /** Applies one event; false for an undo with no judgment to retract (it changes nothing). */
  apply(e: AnnotationEvent): boolean {
    const s = this.stateFor(e.item, e.annotator);
    const before = s.stack.length > 0;
    let applied = true;
    switch (e.kind) {
      case 'pair':
      case 'rank':
        s.stack.push(judgmentFromEvent(e));
        break;
      case 'undo':
        applied = s.stack.pop() !== undefined;
        break;
      case 'flag':
        s.flag = { item: e.item, annotator: e.annotator, flagged: e.flagged, ts: e.ts };
        break;
      case 'confirm':
        break;
      default:
        assertUnreachable(e);
    }
    const after = s.stack.length > 0;
    if (before !== after) this.doneCount.set(e.annotator, (this.doneCount.get(e.annotator) ?? 0) + (after ? 1 : -1));
    return applied;
  }

  /** The annotator's current judgment of the item. */
  current(item: string, annotator: string): Judgment | undefined {
    const stack = findState(this.byItem.get(item), annotator)?.stack;
    return stack && stack.length ? stack[stack.length - 1] : undefined;
  }

  flagged(item: string, annotator: string): boolean {
    return findState(this.byItem.get(item), annotator)?.flag?.flagged ?? false;
  }

  /** Other annotators with a current judgment of the item. */
  others(item: string, annotator: string): number {
    let n = 0;
    for (const s of statesOf(this.byItem.get(item))) if (s.annotator !== annotator && s.stack.length) n++;
    return n;
  }

  /** Every annotator's current judgment of the item. */
  judgmentsOf(item: string): Judgment[] {
    const out: Judgment[] = [];
    for (const s of statesOf(this.byItem.get(item))) if (s.stack.length) out.push(s.stack[s.stack.length - 1]);
    return out;
  }

  /**
   * True when the annotators' current judgments of the item disagree, by the one definition of
   * core/disagreement.ts (the review list's). The item's response count is that of its judgments.
   */
  disagreed(item: string, tauThreshold = DEFAULT_TAU_THRESHOLD): boolean {
    const js = this.judgmentsOf(item);
    const n = Math.max(0, ...js.map((j) => j.ranking.reduce((sum, g) => sum + g.length, 0)));
    return itemDisagreement(js, n, tauThreshold) !== null;
  }

  /** Items this annotator has a current judgment of (ids in the log, whether or not in the task file). */
  doneBy(annotator: string): number {
    return this.doneCount.get(annotator) ?? 0;
  }

  /** Every current judgment and every flag state, in no particular order. */
  *entries(): Generator<{ judgment?: Judgment; flag?: FlagState }> {
    for (const states of this.byItem.values()) {
      for (const s of statesOf(states)) yield { judgment: s.stack[s.stack.length - 1], flag: s.flag };
    }
  }

  /** Calls `visit` with every current judgment and every flag state (entries without a generator's objects). */
  forEachState(visit: (judgment: Judgment | undefined, flag: FlagState | undefined) => void): void {
    for (const states of this.byItem.values()) {
      for (const s of statesOf(states)) visit(s.stack[s.stack.length - 1], s.flag);
    }
  }
}

/** The warning for the first event naming an item the task file lacks. */
export function unknownItemIssue(file: string, line: number, item: string): DataIssue {
  return issueWarning(file, line, 'item', `unknown item id "${item}" (not in the task file); its events are ignored`);
}

/** The error for a pair/rank event showing a response the item lacks (n responses), or undefined. */
export function shownRangeIssue(file: string, line: number, event: AnnotationEvent, n: number): DataIssue | undefined {
  if (event.kind !== 'pair' && event.kind !== 'rank') return undefined;
  const bad = event.shown.find((i) => i >= n);
  return bad === undefined ? undefined : issueError(file, line, 'shown', `response index ${bad} out of range (item "${event.item}" has ${n} responses); event ignored`);
}

/** The warning for an undo with nothing of that annotator's to retract. */
export function emptyUndoIssue(file: string, line: number, event: AnnotationEvent): DataIssue {
  return issueWarning(file, line, 'kind', `undo by "${event.annotator}" with no judgment of "${event.item}" to retract; ignored`);
}

/**
 * Sorts `list` by `compare`, skipping the sort when it is in order already (a log read in task-file order
 * is); the keys here are unique (one per item and annotator), so the result is the sort's either way.
 */
function sortUnlessSorted<T>(list: T[], compare: (x: T, y: T) => number): void {
  for (let i = 1; i < list.length; i++) {
    if (compare(list[i - 1], list[i]) > 0) {
      list.sort(compare);
      return;
    }
  }
}

function isNumbered(e: AnnotationEvent | NumberedEvent): e is NumberedEvent {
  return 'event' in e && typeof (e as NumberedEvent).line === 'number';
}

/**
 * Resolves events (in log order) against the task items. `file` names the log in issues.
 * Plain events (without line numbers) are numbered by their position, 1-based.
 */
export function resolveJudgments(events: readonly (AnnotationEvent | NumberedEvent)[], items: readonly ItemShape[], file = 'annotations'): LogResolution {
  const orderById = new Map<string, number>(); // a repeated id: the last item's, as new Map(entries) would
  for (let i = 0; i < items.length; i++) orderById.set(items[i].id, i);
  const states = new ItemStates();
  const confirms: ConfirmEvent[] = [];
  const issues: DataIssue[] = [];
  const unknownReported = new Set<string>();
  for (let index = 0; index < events.length; index++) {
    const entry = events[index];
    const numbered = isNumbered(entry);
    const event = numbered ? entry.event : entry;
    const line = numbered ? entry.line : index + 1;
    const known = orderById.get(event.item);
    if (known === undefined) {
      if (!unknownReported.has(event.item)) {
        unknownReported.add(event.item);
        issues.push(unknownItemIssue(file, line, event.item));
      }
      continue;
    }
    const range = shownRangeIssue(file, line, event, items[known].responses.length);
    if (range) {
      issues.push(range);
      continue;
    }
    if (event.kind === 'confirm') confirms.push(event);
    if (!states.apply(event)) issues.push(emptyUndoIssue(file, line, event));
  }
  const order = (item: string) => orderById.get(item) ?? 0;
  const annotatorOrder = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  // Sort keys computed once: (item order, annotator).
  const current: { order: number; judgment: Judgment }[] = [];
  const flags: { order: number; flag: FlagState }[] = [];
  states.forEachState((judgment, flag) => {
    if (judgment) current.push({ order: order(judgment.item), judgment });
    if (flag) flags.push({ order: order(flag.item), flag });
  });
  sortUnlessSorted(current, (x, y) => x.order - y.order || annotatorOrder(x.judgment.annotator, y.judgment.annotator));
  sortUnlessSorted(flags, (x, y) => x.order - y.order || annotatorOrder(x.flag.annotator, y.flag.annotator));
  return { judgments: current.map((c) => c.judgment), flags: flags.map((f) => f.flag), confirms, issues };
}
