/**
 * The append-only annotation log (JSONL of AnnotationEvent). Appending: the event is validated and
 * serialized first, then appended as ONE write of the whole line to the file opened with O_APPEND and
 * fsync'd before the call returns/resolves (only then may a UI say "saved"); see appendLine.ts for the
 * torn-tail rules. Two processes may append to the same file.
 * Reading: a torn last line is a warning with its line number (skipped, never fatal); a line that looks
 * like an object cut off mid-write is a warning anywhere; a line holding such a fragment followed by a
 * whole event (another writer's append right after a crashed write) yields that event, with a warning for
 * the fragment; an oversize line and other bad lines are errors `file:line: field`.
 * The log is never rewritten. Resolution into current judgments is in judgments.ts (re-exported here).
 */
import { existsSync } from 'node:fs';
import { appendLine, appendLineSync } from './appendLine';
import { issueError, issueWarning } from './issues';
import {
  INVALID_UTF8_WARNING, jsonErrorMessage, looksTruncatedObject, NOT_UTF8_MESSAGE, oversizeIssue, readJsonlBatches, readLineThrough, recoverTrailingObject, type JsonlLine,
} from './jsonl';
import { validateAnnotationEvent } from './annotationEvents';
import type { AnnotationEvent, DataIssue } from './types';

export { resolveJudgments } from './judgments';
export type { LogResolution } from './judgments';

/** Serializes a validated event as one line (with its '\n'); throws on an invalid event. */
export function serializeEvent(event: AnnotationEvent): string {
  const { problems } = validateAnnotationEvent(event);
  if (problems.length > 0) throw new Error(`invalid annotation event: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`);
  return `${JSON.stringify(event)}\n`;
}

/** Appends one event synchronously: one write of the whole line, then fsync (appendLine.ts). */
export function appendEventSync(path: string, event: AnnotationEvent): void {
  appendLineSync(path, serializeEvent(event));
}

/** Appends one event: one write of the whole line, then fsync; resolves only after the fsync. */
export async function appendEvent(path: string, event: AnnotationEvent): Promise<void> {
  await appendLine(path, serializeEvent(event));
}

/** An event read from the log with its 1-based line number. */
export interface LoggedEvent {
  line: number;
  event: AnnotationEvent;
}

/** Everything read from a log file. */
export interface AnnotationLogFile {
  events: LoggedEvent[];
  issues: DataIssue[];
  /** Number of torn lines skipped (each also reported as a warning). */
  tornLines: number;
}

/** Options of {@link readAnnotationLog}. */
export interface ReadLogOptions {
  /** Name used for the file in issues (default: the path as given). */
  displayName?: string;
}

/** What one physical line of a log holds: its event (if any), its issues, and whether it was torn. */
export interface LogLine {
  event?: AnnotationEvent;
  issues: DataIssue[];
  torn: boolean;
}

/**
 * Reads one line of a log (`file` names it in issues), by the rules in the file comment: the event of a
 * whole line, or of a line whose fragment of an interrupted write comes before a whole event; torn lines
 * and oversize or bad lines as issues. Blank lines give nothing. Also used by the annotator's log follower.
 */
export function parseLogLine(l: JsonlLine, file: string): LogLine {
  const oversize = oversizeIssue(l, file);
  if (oversize) return { issues: [oversize], torn: false };
  if (l.text.trim() === '') return { issues: [], torn: false };
  let value: unknown;
  try {
    value = JSON.parse(l.text);
  } catch (err) {
    const recovered = recoverTrailingObject(l.text, (v) => validateAnnotationEvent(v).event);
    if (recovered) {
      return { event: recovered.value, torn: true,
        issues: [issueWarning(file, l.line, 'line', `torn fragment (${recovered.fragmentLength} characters cut off by an interrupted write) before an event; the fragment is skipped, the event is read`)] };
    }
    if (!l.terminated) return { torn: true, issues: [issueWarning(file, l.line, 'line', `torn last line (no trailing newline, ${jsonErrorMessage(err)}); skipped`)] };
    if (looksTruncatedObject(l.text)) return { torn: true, issues: [issueWarning(file, l.line, 'line', 'torn line (an event cut off by an interrupted write); skipped')] };
    return { torn: false, issues: [issueError(file, l.line, 'line', `${l.utf8 ? jsonErrorMessage(err) : NOT_UTF8_MESSAGE}; skipped`)] };
  }
  const issues = l.utf8 ? [] : [issueWarning(file, l.line, 'line', INVALID_UTF8_WARNING)];
  const { event, problems } = validateAnnotationEvent(value);
  for (const p of problems) issues.push(issueError(file, l.line, p.field, `${p.message}; line skipped`));
  return event ? { event, issues, torn: false } : { issues, torn: false };
}

/**
 * The event of the log line at byte `offset` of `path` (a JsonlLine's offset), read back by a reader that
 * kept only where an event is (core/logCheck.ts, core/spilledLog.ts) to word an issue about it; undefined
 * when that line holds no event (the caller recorded one there, so it does).
 */
export function readEventAt(path: string, offset: number, file: string): AnnotationEvent | undefined {
  return parseLogLine({ line: 0, offset, byteLength: 0, text: readLineThrough(path, offset), terminated: true, utf8: true }, file).event;
}

/**
 * Streams the log at `path` (`file` names it in issues) for a reader that keeps little of it: each line's
 * issues to `onIssue` as read, each valid event to `visit` with its line number and the line's byte offset
 * (to read it back: readEventAt). Lines come in batches (readJsonlBatches). Returns the number of events.
 */
export async function forEachLogEvent(path: string, file: string, onIssue: (issue: DataIssue) => void,
  visit: (event: AnnotationEvent, line: number, offset: number) => void): Promise<number> {
  let events = 0;
  for await (const batch of readJsonlBatches(path, { chunkSize: 1 << 20 })) for (const l of batch) {
    const r = parseLogLine(l, file);
    for (const issue of r.issues) onIssue(issue);
    if (!r.event) continue;
    events++;
    visit(r.event, l.line, l.offset);
  }
  return events;
}

/** Reads every event of a log (streaming). A missing file is an empty log. */
export async function readAnnotationLog(path: string, options: ReadLogOptions = {}): Promise<AnnotationLogFile> {
  const file = options.displayName ?? path;
  const out: AnnotationLogFile = { events: [], issues: [], tornLines: 0 };
  if (!existsSync(path)) return out;
  for await (const batch of readJsonlBatches(path)) for (const l of batch) {
    const r = parseLogLine(l, file);
    if (r.event) out.events.push({ line: l.line, event: r.event });
    out.issues.push(...r.issues);
    if (r.torn) out.tornLines++;
  }
  return out;
}
