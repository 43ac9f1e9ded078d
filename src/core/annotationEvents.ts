/**
 * Validation of annotation-log events (`v: 1`): turns a decoded JSON line into a typed AnnotationEvent or
 * a list of `field: problem` messages. Used by the log reader and before every append.
 */
import { typeName } from './issues';
import type { AnnotationEvent, PairChoice } from './types';

const CHOICES: readonly PairChoice[] = ['a', 'b', 'tie', 'both_bad'];
const KINDS = ['pair', 'rank', 'undo', 'confirm', 'flag'] as const;

/** A field-level problem of an event. */
export interface EventProblem {
  field: string;
  message: string;
}

/** An ISO-8601 date-time with a zone (what toISOString writes, also with an offset or without fractions). */
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/** The problem of a `ts` value, or undefined when it is a real ISO-8601 time. */
function timestampProblem(ts: unknown): string | undefined {
  if (typeof ts !== 'string' || ts.length === 0) return `expected a non-empty string, got ${typeName(ts)}`;
  if (!ISO_TIMESTAMP.test(ts) || !Number.isFinite(Date.parse(ts))) return `expected an ISO-8601 time such as "2026-01-31T09:30:00.000Z", got ${JSON.stringify(ts.slice(0, 40))}`;
  return undefined;
}

function isIndexList(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((v) => Number.isInteger(v) && (v as number) >= 0);
}

const NO_PROBLEMS: readonly EventProblem[] = Object.freeze([]);

function nonEmptyString(value: unknown): boolean {
  return typeof value === 'string' && value.length > 0;
}

/**
 * Checks a decoded log line; returns the event or its problems. A valid event (nearly every line of a
 * log) is checked without building anything: its `problems` is one shared, frozen empty list.
 */
export function validateAnnotationEvent(value: unknown): { event?: AnnotationEvent; problems: readonly EventProblem[] } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { problems: [{ field: 'line', message: `expected a JSON object, got ${typeName(value)}` }] };
  const e = value as Record<string, unknown>;
  const ms = e.ms;
  const valid = e.v === 1 && nonEmptyString(e.item) && nonEmptyString(e.annotator) && (e.note === undefined || typeof e.note === 'string')
    && (ms === undefined || (typeof ms === 'number' && Number.isFinite(ms) && ms >= 0)) && validKindFields(e) && timestampProblem(e.ts) === undefined;
  if (valid) return { event: value as AnnotationEvent, problems: NO_PROBLEMS };
  const problems = eventProblems(e); // none for a valid event the quick check leaves to it (rank)
  return problems.length > 0 ? { problems } : { event: value as AnnotationEvent, problems };
}

/** True when `kind` is known and the fields it needs are right (eventProblems' kind checks, without messages). */
function validKindFields(e: Record<string, unknown>): boolean {
  switch (e.kind) {
    case 'pair':
      return isIndexList(e.shown) && e.shown.length === 2 && e.shown[0] !== e.shown[1] && CHOICES.includes(e.choice as PairChoice);
    case 'rank':
      return false; // left to eventProblems (rank events are rare)
    case 'flag':
      return typeof e.flagged === 'boolean';
    case 'confirm':
      return e.reason === undefined || typeof e.reason === 'string';
    case 'undo':
      return true;
    default:
      return false;
  }
}

/**
 * Every problem of an event, in field order (what validateAnnotationEvent reports). Exported for the test
 * that holds validateAnnotationEvent's quick check for valid events to these rules.
 */
export function eventProblems(e: Record<string, unknown>): EventProblem[] {
  const problems: EventProblem[] = [];
  const bad = (field: string, message: string) => problems.push({ field, message });
  if (e.v !== 1) bad('v', `expected 1, got ${JSON.stringify(e.v)}`);
  for (const key of ['item', 'annotator'] as const) {
    if (typeof e[key] !== 'string' || (e[key] as string).length === 0) bad(key, `expected a non-empty string, got ${typeName(e[key])}`);
  }
  const tsProblem = timestampProblem(e.ts);
  if (tsProblem) bad('ts', tsProblem);
  if (e.note !== undefined && typeof e.note !== 'string') bad('note', `expected a string, got ${typeName(e.note)}`);
  // 1e400 parses as Infinity: a finite number of milliseconds only.
  if (e.ms !== undefined && (typeof e.ms !== 'number' || !Number.isFinite(e.ms) || e.ms < 0)) bad('ms', `expected a finite non-negative number of milliseconds, got ${typeof e.ms === 'number' ? String(e.ms) : typeName(e.ms)}`);
  if (!(KINDS as readonly unknown[]).includes(e.kind)) {
    bad('kind', `expected one of ${KINDS.join(', ')}, got ${JSON.stringify(e.kind)}`);
    return problems;
  }
  switch (e.kind) {
    case 'pair':
      if (!isIndexList(e.shown) || e.shown.length !== 2 || e.shown[0] === e.shown[1]) bad('shown', 'expected two different response indices');
      if (!CHOICES.includes(e.choice as PairChoice)) bad('choice', `expected one of a, b, tie, both_bad, got ${JSON.stringify(e.choice)}`);
      break;
    case 'rank': {
      if (!isIndexList(e.shown) || e.shown.length < 2) bad('shown', 'expected a list of at least two response indices');
      if (!Array.isArray(e.ranking) || e.ranking.length === 0 || !e.ranking.every((g) => isIndexList(g) && g.length > 0)) {
        bad('ranking', 'expected a non-empty list of non-empty groups of response indices');
      } else {
        const flat = (e.ranking as number[][]).flat();
        if (new Set(flat).size !== flat.length) bad('ranking', 'a response index appears more than once');
        else if (isIndexList(e.shown) && (flat.length !== e.shown.length || !flat.every((i) => (e.shown as number[]).includes(i)))) {
          bad('ranking', 'expected the groups to hold exactly the shown responses');
        }
      }
      break;
    }
    case 'flag':
      if (typeof e.flagged !== 'boolean') bad('flagged', `expected a boolean, got ${typeName(e.flagged)}`);
      break;
    case 'confirm':
      if (e.reason !== undefined && typeof e.reason !== 'string') bad('reason', `expected a string, got ${typeName(e.reason)}`);
      break;
    case 'undo':
      break;
  }
  return problems;
}
