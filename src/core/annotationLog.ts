/**
 * The append-only annotation log (JSONL of AnnotationEvent). Appending: the event is validated and
 * serialized first, the file is opened with O_APPEND, the whole line goes out in ONE write, and the file
 * is fsync'd before the call returns/resolves (only then may a UI say "saved"). Two processes may append
 * to the same file: O_APPEND makes each single write land whole at the end. If the file's last byte is not
 * '\n' (a torn line from a crash), the line is written as '\n' + event in the same write, so the torn
 * fragment stays on its own line and the new event is intact.
 * Reading: a torn last line is a warning with its line number (skipped, never fatal); a line that looks
 * like an object cut off mid-write is a warning anywhere; other bad lines are errors `file:line: field`.
 * The log is never rewritten. Resolution into current judgments is in judgments.ts (re-exported here).
 */
import { closeSync, existsSync, fsyncSync, openSync, readSync, fstatSync, writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { dirname } from 'node:path';
import { issueError, issueWarning } from './issues';
import { INVALID_UTF8_WARNING, jsonErrorMessage, looksTruncatedObject, NOT_UTF8_MESSAGE, readJsonlLines } from './jsonl';
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

/** fsyncs the directory so a newly created log file's entry survives power loss (best effort). */
function fsyncDirectory(path: string): void {
  try {
    const fd = openSync(dirname(path), 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some platforms (Windows) cannot open directories; the file data itself is still fsync'd.
  }
}

/**
 * A concurrent appender's write may be observed half-done (the size grows page by page while its bytes are
 * copied), so a last byte that is not '\n' is only called torn when it is still so, at the same size,
 * after a short pause. A mistaken call costs one blank line (which readers skip), never an event.
 */
const TORN_RECHECK_MS = 25;
const TORN_RECHECKS = 4;

/** The file's size and whether its last byte is '\n' (true for an empty file). */
function tailSync(fd: number): { size: number; newline: boolean } {
  const size = fstatSync(fd).size;
  if (size === 0) return { size, newline: true };
  const last = Buffer.alloc(1);
  readSync(fd, last, 0, 1, size - 1);
  return { size, newline: last[0] === 0x0a };
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** True when the open file's last line is unterminated and stays so (see TORN_RECHECK_MS). */
function hasTornTail(fd: number): boolean {
  let seen = tailSync(fd);
  for (let i = 0; i < TORN_RECHECKS && !seen.newline; i++) {
    sleepSync(TORN_RECHECK_MS);
    const again = tailSync(fd);
    if (!again.newline && again.size === seen.size) return true;
    seen = again;
  }
  return !seen.newline;
}

async function tailAsync(handle: FileHandle): Promise<{ size: number; newline: boolean }> {
  const size = (await handle.stat()).size;
  if (size === 0) return { size, newline: true };
  const last = Buffer.alloc(1);
  await handle.read(last, 0, 1, size - 1);
  return { size, newline: last[0] === 0x0a };
}

/** Async twin of {@link hasTornTail}. */
async function hasTornTailAsync(handle: FileHandle): Promise<boolean> {
  let seen = await tailAsync(handle);
  for (let i = 0; i < TORN_RECHECKS && !seen.newline; i++) {
    await sleep(TORN_RECHECK_MS);
    const again = await tailAsync(handle);
    if (!again.newline && again.size === seen.size) return true;
    seen = again;
  }
  return !seen.newline;
}

/** Appends one event synchronously: one write of the whole line, then fsync. */
export function appendEventSync(path: string, event: AnnotationEvent): void {
  const line = serializeEvent(event);
  const created = !existsSync(path);
  const fd = openSync(path, 'a+'); // O_APPEND | O_CREAT | O_RDWR
  try {
    const buffer = Buffer.from(hasTornTail(fd) ? `\n${line}` : line, 'utf8');
    const written = writeSync(fd, buffer, 0, buffer.length);
    if (written !== buffer.length) throw new Error(`${path}: short write (${written} of ${buffer.length} bytes); disk full?`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  if (created) fsyncDirectory(path);
}

/** Appends one event: one write of the whole line, then fsync; resolves only after the fsync. */
export async function appendEvent(path: string, event: AnnotationEvent): Promise<void> {
  const line = serializeEvent(event);
  const created = !existsSync(path);
  const handle = await open(path, 'a+');
  try {
    const torn = await hasTornTailAsync(handle);
    const buffer = Buffer.from(torn ? `\n${line}` : line, 'utf8');
    const { bytesWritten } = await handle.write(buffer, 0, buffer.length);
    if (bytesWritten !== buffer.length) throw new Error(`${path}: short write (${bytesWritten} of ${buffer.length} bytes); disk full?`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  if (created) fsyncDirectory(path);
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
    if (l.text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(l.text);
    } catch (err) {
      if (!l.terminated) {
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
