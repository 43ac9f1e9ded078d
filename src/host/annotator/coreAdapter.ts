/**
 * Adapts the data core (src/core) to the annotator controller's ports: the lazy TaskIndex as a
 * TaskSource (a bad line or a skipped duplicate becomes its first issue, `file:line: field: problem`) with
 * the ids its indexing pass parsed for filters (random reads per item cost ~1 ms each here, too slow to
 * find the first unannotated item of a large file), and the annotation log as existing events + an
 * EventSink whose appends are serialized (one in flight, in order) and resolve only after the core's
 * single-write + fsync; and a follower of the log for the judgments other annotators append meanwhile.
 */
import { statSync, unwatchFile, watchFile } from 'node:fs';
import { appendEvent, parseLogLine, readAnnotationLog } from '../../core/annotationLog';
import { readJsonlLines } from '../../core/jsonl';
import { issueError } from '../../core/issues';
import { TaskIndex } from '../../core/taskIndex';
import type { AnnotationEvent, DataIssue, TaskItem } from '../../core/types';
import type { EventSink, TaskSource } from './ports';

export interface OpenedTasks {
  source: TaskSource;
  /** Resolves with the number of entries once the index is complete. */
  complete: Promise<number>;
  close(): void;
}

/** Starts indexing `file` in the background; the first items are readable at once. */
export function openTasks(file: string): OpenedTasks {
  const index = TaskIndex.open(file, file);
  const source: TaskSource = {
    idAt: (i) => index.idAt(i),
    needsAt: (i) => index.needsAt(i),
    matches: (query, from) => index.matches(query, from),
    scan: (test, from) => index.scan(test, from),
    count: () => index.count,
    indexing: () => !index.isComplete,
    has: async (i) => i >= 0 && (await index.entry(i)) !== undefined,
    async get(i): Promise<TaskItem | DataIssue> {
      const r = await index.get(i);
      if (!r) throw new Error(`${file}: there is no item #${i + 1}`);
      if (r.item) return r.item;
      return r.issues.find((x) => x.severity === 'error') ?? r.issues[0] ?? issueError(file, r.line, 'line', 'not a task item');
    },
  };
  return { source, complete: index.complete, close: () => undefined };
}

export interface OpenedLog {
  events: AnnotationEvent[];
  /** Byte length of the log when it was read: where {@link followLog} starts. */
  size: number;
  /** Problems found reading the log (torn or bad lines are skipped, never rewritten). */
  issues: DataIssue[];
  sink: EventSink;
  close(): void;
}

/** Reads the log at `file` (a missing file is an empty log) and returns its append side. */
export async function openLog(file: string): Promise<OpenedLog> {
  const read = await readAnnotationLog(file, { displayName: file });
  let size = 0;
  try {
    size = statSync(file).size;
  } catch {
    // no log yet
  }
  let tail: Promise<void> = Promise.resolve();
  const sink: EventSink = {
    append(event) {
      const next = tail.then(() => appendEvent(file, event));
      tail = next.catch(() => undefined);
      return next;
    },
  };
  return { events: read.events.map((e) => e.event), size, issues: read.issues, sink, close: () => undefined };
}

/**
 * Follows a log that other annotators append to while it is open (a shared folder, a synced repository):
 * polls its size every `intervalMs`, reads the complete lines after `from` and hands over the valid events
 * whose annotator `keep` accepts (this editor's own appends are already applied). A line still being written
 * is read once it is complete; bad lines are skipped (the next full read reports them).
 */
export function followLog(file: string, from: number, keep: (e: AnnotationEvent) => boolean, onEvents: (events: AnnotationEvent[]) => void, intervalMs = 1000): { close(): void } {
  let offset = from;
  let reading = false;
  const poll = async (): Promise<void> => {
    if (reading) return;
    reading = true;
    try {
      let size = 0;
      try {
        size = statSync(file).size;
      } catch {
        return;
      }
      if (size < offset) offset = 0; // replaced by a shorter file: read it again
      if (size === offset) return;
      const events: AnnotationEvent[] = [];
      for await (const l of readJsonlLines(file, { startOffset: offset })) {
        if (!l.terminated) break;
        offset = l.offset + l.byteLength + 1;
        const { event } = parseLogLine(l, file); // a bad line: skipped here, reported by the next full read
        if (event && keep(event)) events.push(event);
      }
      if (events.length) onEvents(events);
    } finally {
      reading = false;
    }
  };
  const listener = (): void => void poll();
  watchFile(file, { interval: intervalMs, persistent: false }, listener);
  return { close: () => unwatchFile(file, listener) };
}
