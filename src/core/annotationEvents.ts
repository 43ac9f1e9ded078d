/**
 * Validation of annotation-log events (`v: 1`): turns a decoded JSON line into a typed AnnotationEvent or
 * a list of `field: problem` messages. Used by the log reader and before every append.
 */
import { typeName } from './issues';
import type { AnnotationEvent, PairChoice } from './types';

/** Every pair choice; spilled event records (core/spilledLog.ts) store a choice as its index here. */
export const PAIR_CHOICES: readonly PairChoice[] = ['a', 'b', 'tie', 'both_bad'];
/** Every event kind; spilled event records (core/logCheck.ts, core/spilledLog.ts) store a kind as its index here. */
export const EVENT_KINDS = ['pair', 'rank', 'undo', 'confirm', 'flag'] as const;

/** A field-level problem of an event. */
export interface EventProblem {
  field: string;
  message: string;
}

/** An ISO-8601 date-time with a zone (what toISOString writes, also with an offset or without fractions). */
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/** The two-digit number at ts[i] and ts[i + 1], or -1 when either is not a digit (or past the end). */
function twoDigits(ts: string, i: number): number {
  const a = ts.charCodeAt(i) - 48, b = ts.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/**
 * True for a time that ISO_TIMESTAMP matches with every field in its everyday range (month 1–12, day 1–31,
 * hour 0–23, minute and second 0–59, a zone offset up to 23:59), each of which Date.parse accepts (a test
 * checks every such value): the common case, decided without the regular expression and Date.parse
 * (measured: a third of `dap validate LOG`'s time past JSON.parse). False decides nothing: the full check does.
 */
export function isEverydayTimestamp(ts: string): boolean {
  const n = ts.length;
  if (n < 17 || ts.charCodeAt(4) !== 45 || ts.charCodeAt(7) !== 45 || ts.charCodeAt(10) !== 84 || ts.charCodeAt(13) !== 58) return false; // - - T :
  if (twoDigits(ts, 0) < 0 || twoDigits(ts, 2) < 0) return false;
  const month = twoDigits(ts, 5), day = twoDigits(ts, 8), hour = twoDigits(ts, 11), minute = twoDigits(ts, 14);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 || minute < 0 || minute > 59) return false;
  let i = 16;
  if (ts.charCodeAt(i) === 58) { // :SS
    const second = twoDigits(ts, i + 1);
    if (second < 0 || second > 59) return false;
    i += 3;
    if (ts.charCodeAt(i) === 46) { // .fraction
      const start = ++i;
      while (i < n && ts.charCodeAt(i) >= 48 && ts.charCodeAt(i) <= 57) i++;
      if (i === start || i - start > 9) return false;
    }
  }
  const zone = ts.charCodeAt(i);
  if (zone === 90) return i + 1 === n; // Z
  if (zone !== 43 && zone !== 45) return false; // + -
  const colon = ts.charCodeAt(i + 3) === 58 ? 1 : 0;
  const zoneHours = twoDigits(ts, i + 1), zoneMinutes = twoDigits(ts, i + 3 + colon);
  return i + 5 + colon === n && zoneHours >= 0 && zoneHours <= 23 && zoneMinutes >= 0 && zoneMinutes <= 59;
}

/** The problem of a `ts` value, or undefined when it is a real ISO-8601 time. */
function timestampProblem(ts: unknown): string | undefined {
  if (typeof ts === 'string' && isEverydayTimestamp(ts)) return undefined;
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
      return isIndexList(e.shown) && e.shown.length === 2 && e.shown[0] !== e.shown[1] && PAIR_CHOICES.includes(e.choice as PairChoice);
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
  if (!(EVENT_KINDS as readonly unknown[]).includes(e.kind)) {
    bad('kind', `expected one of ${EVENT_KINDS.join(', ')}, got ${JSON.stringify(e.kind)}`);
    return problems;
  }
  switch (e.kind) {
    case 'pair':
      if (!isIndexList(e.shown) || e.shown.length !== 2 || e.shown[0] === e.shown[1]) bad('shown', 'expected two different response indices');
      if (!PAIR_CHOICES.includes(e.choice as PairChoice)) bad('choice', `expected one of a, b, tie, both_bad, got ${JSON.stringify(e.choice)}`);
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
