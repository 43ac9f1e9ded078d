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
  INVALID_UTF8_WARNING, jsonErrorMessage, looksTruncatedObject, NOT_UTF8_MESSAGE, oversizeIssue, readJsonlLines, recoverTrailingObject,
} from './jsonl';
import { validateEvent } from './events';
import type { AnnotationEvent, DataIssue } from './types';

export { resolveJudgments } from './judgments';
export type { LogResolution } from './judgments';

/** Serializes a validated event as one line (with its '\n'); throws on an invalid event. */
export function serializeEvent(event: AnnotationEvent): string {
  const { problems } = validateEvent(event);
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

/** Reads every event of a log (streaming). A missing file is an empty log. */
export async function readAnnotationLog(path: string, options: ReadLogOptions = {}): Promise<AnnotationLogFile> {
  const file = options.displayName ?? path;
  const out: AnnotationLogFile = { events: [], issues: [], tornLines: 0 };
  if (!existsSync(path)) return out;
  for await (const l of readJsonlLines(path)) {
    const oversize = oversizeIssue(l, file);
    if (oversize) {
      out.issues.push(oversize);
      continue;
    }
    if (l.text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(l.text);
    } catch (err) {
      const recovered = recoverTrailingObject(l.text, (v) => validateEvent(v).event);
      if (recovered) {
        out.tornLines++;
        out.events.push({ line: l.line, event: recovered.value });
        out.issues.push(issueWarning(file, l.line, 'line', `torn fragment (${recovered.fragmentLength} characters cut off by an interrupted write) before an event; the fragment is skipped, the event is read`));
      } else if (!l.terminated) {
        out.tornLines++;
        out.issues.push(issueWarning(file, l.line, 'line', `torn last line (no trailing newline, ${jsonErrorMessage(err)}); skipped`));
      } else if (looksTruncatedObject(l.text)) {
        out.tornLines++;
        out.issues.push(issueWarning(file, l.line, 'line', 'torn line (an event cut off by an interrupted write); skipped'));
      } else {
        out.issues.push(issueError(file, l.line, 'line', `${l.utf8 ? jsonErrorMessage(err) : NOT_UTF8_MESSAGE}; skipped`));
      }
      continue;
    }
    if (!l.utf8) out.issues.push(issueWarning(file, l.line, 'line', INVALID_UTF8_WARNING));
    const { event, problems } = validateEvent(value);
    if (event) out.events.push({ line: l.line, event });
    else for (const p of problems) out.issues.push(issueError(file, l.line, p.field, `${p.message}; line skipped`));
  }
  return out;
}
