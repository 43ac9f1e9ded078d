/**
 * Adapts the data core (src/core) to the annotator controller's ports: the lazy TaskIndex as a
 * TaskSource (a bad line becomes its first error, `file:line: field: problem`) with an id scan for
 * filters (one sequential streaming pass, started on first use — random reads per item cost ~1 ms each
 * here, too slow to find the first unannotated item of a large file), and the annotation log
 * as existing events + an EventSink whose appends are serialized (one in flight, in order) and resolve
 * only after the core's single-write + fsync.
 */
import { appendEvent, readAnnotationLog } from '../../core/annotationLog';
import { issueError } from '../../core/issues';
import { readJsonlLines } from '../../core/jsonl';
import { TaskIndex } from '../../core/taskIndex';
import { parseTaskLine } from '../../core/tasks';
import type { AnnotationEvent, DataIssue, TaskItem } from '../../core/types';
import type { EventSink, TaskSource } from './controller';

export interface OpenedTasks {
  source: TaskSource;
  /** Resolves with the number of entries once the index is complete. */
  complete: Promise<number>;
  close(): void;
}

/** Starts indexing `file` in the background; the first items are readable at once. */
export function openTasks(file: string): OpenedTasks {
  const index = TaskIndex.open(file, file);
  const ids = idScanner(file);
  const source: TaskSource = {
    idAt: ids,
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

/**
 * Ids of the file's entries (null for a bad line), from one streaming pass that parses each line once;
 * the returned lookup waits only until the pass reaches the entry asked for.
 */
function idScanner(file: string): (index: number) => Promise<string | null> {
  const ids: (string | null)[] = [];
  let started = false;
  let done = false;
  let failure: unknown;
  let waiters: (() => void)[] = [];
  const wake = () => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };
  const scan = async () => {
    try {
      for await (const l of readJsonlLines(file, { chunkSize: 256 * 1024 })) {
        if (l.text.trim() === '') continue;
        ids.push(parseTaskLine(l.text, file, l.line, l.offset).item?.id ?? null);
        if (ids.length % 512 === 0 || ids.length <= 16) wake();
      }
    } catch (err) {
      failure = err;
    } finally {
      done = true;
      wake();
    }
  };
  return async (index) => {
    if (!started) {
      started = true;
      void scan();
    }
    while (index >= ids.length && !done) await new Promise<void>((resolve) => waiters.push(resolve));
    if (failure !== undefined && index >= ids.length) throw failure;
    return ids[index] ?? null;
  };
}

export interface OpenedLog {
  events: AnnotationEvent[];
  /** Problems found reading the log (torn or bad lines are skipped, never rewritten). */
  issues: DataIssue[];
  sink: EventSink;
  close(): void;
}

/** Reads the log at `file` (a missing file is an empty log) and returns its append side. */
export async function openLog(file: string): Promise<OpenedLog> {
  const read = await readAnnotationLog(file, { displayName: file });
  let tail: Promise<void> = Promise.resolve();
  const sink: EventSink = {
    append(event) {
      const next = tail.then(() => appendEvent(file, event));
      tail = next.catch(() => undefined);
      return next;
    },
  };
  return { events: read.events.map((e) => e.event), issues: read.issues, sink, close: () => undefined };
}
