/**
 * Checks an annotation log against a task file's ids while streaming the log (`dap validate FILE --log
 * LOG`): each line's issues as parseLogLine reports them, then, per event, the issues resolveJudgments
 * would report (unknown item, shown response out of range, undo with nothing to retract), in log order.
 * Nothing of the log is kept but, per (item, annotator), the depth of its judgment stack (a count, not the
 * judgments), so memory stays small next to both files: the task file's ids are an IdTable (34 to 39
 * bytes an id), each annotator's depths a sparse map that turns into an array of one int per id once it
 * is dense. When the task file's ids spilled to partitions (core/taskScan.ts), the log is partitioned the
 * same way and each partition checked on its own (all events of an item land with its id), so memory is
 * one partition's, whatever the files' sizes.
 */
import { parseLogLine } from './annotationLog';
import { assertUnreachable } from './assertUnreachable';
import { IdTable } from './idTable';
import { readJsonlLines } from './jsonl';
import { emptyUndoIssue, shownRangeIssue, unknownItemIssue } from './judgments';
import { mergeSorted, partitionOf, releasePartitionMemory, SpillFiles } from './spillFiles';
import { readIdPartition, type TaskIds } from './taskScan';
import type { AnnotationEvent, DataIssue } from './types';

/** What a log holds, as counted by checkLogAgainstIds. */
export interface LogCheck {
  /** Events read (valid event lines, known items or not). */
  events: number;
  /** (item, annotator) pairs with a current judgment at the end of the log. */
  judgments: number;
}

/** Judgment-stack depth per id (IdTable entry) for one annotator: a Map while sparse, an Int32Array once dense. */
class Depths {
  private sparse: Map<number, number> | null = new Map();
  private dense: Int32Array | null = null;

  constructor(private readonly ids: number) {}

  get(entry: number): number {
    return this.dense ? this.dense[entry] : (this.sparse!.get(entry) ?? 0);
  }

  set(entry: number, depth: number): void {
    if (this.dense) {
      this.dense[entry] = depth;
      return;
    }
    this.sparse!.set(entry, depth);
    if (this.sparse!.size * 8 > this.ids) { // a Map entry costs ~8 ints: the array is smaller now
      this.dense = new Int32Array(this.ids);
      for (const [s, d] of this.sparse!) this.dense[s] = d;
      this.sparse = null;
    }
  }
}

/** The per-event checks of one log against a table of ids, fed events in log order. */
class LogChecker {
  private readonly depths = new Map<string, Depths>();
  private readonly unknown = new Set<string>();
  judgments = 0;

  constructor(private readonly ids: IdTable, private readonly file: string) {}

  /** Checks the event of log line `line`, passing its issues to `onIssue`. */
  add(e: AnnotationEvent, line: number, onIssue: (issue: DataIssue) => void): void {
    const { ids, file } = this;
    const entry = ids.find(e.item);
    if (entry < 0) {
      if (!this.unknown.has(e.item)) {
        this.unknown.add(e.item);
        onIssue(unknownItemIssue(file, line, e.item));
      }
      return;
    }
    const range = shownRangeIssue(file, line, e, ids.valueAt(entry));
    if (range) {
      onIssue(range);
      return;
    }
    let d = this.depths.get(e.annotator);
    if (!d) this.depths.set(e.annotator, (d = new Depths(ids.size)));
    const depth = d.get(entry);
    switch (e.kind) {
      case 'pair':
      case 'rank':
        d.set(entry, depth + 1);
        if (depth === 0) this.judgments++;
        break;
      case 'undo':
        if (depth === 0) onIssue(emptyUndoIssue(file, line, e));
        else {
          d.set(entry, depth - 1);
          if (depth === 1) this.judgments--;
        }
        break;
      case 'flag':
      case 'confirm':
        break;
      default:
        assertUnreachable(e);
    }
  }
}

/**
 * Streams the log at `path` (`file` names it in issues) against the task file's ids (each stored with its
 * item's response count, as scanTaskFile records them by default), passing every issue to `onIssue` as
 * found: in memory for a table; for ids in partitions, the log's events go to the same partitions and each
 * is checked against its ids, the issues then merged back into log line order (a line's parse issues first).
 */
export async function checkLogAgainstIds(path: string, ids: TaskIds | IdTable, onIssue: (issue: DataIssue) => void, file = path): Promise<LogCheck> {
  const taskIds: TaskIds = ids instanceof IdTable ? { kind: 'table', table: ids } : ids;
  if (taskIds.kind === 'partitions') return checkLogInPartitions(path, taskIds, onIssue, file);
  const checker = new LogChecker(taskIds.table, file);
  let events = 0;
  for await (const l of readJsonlLines(path, { chunkSize: 1 << 20 })) {
    const r = parseLogLine(l, file);
    for (const issue of r.issues) onIssue(issue);
    if (!r.event) continue;
    events++;
    checker.add(r.event, l.line, onIssue);
  }
  return { events, judgments: checker.judgments };
}

type LogStream = 'events' | 'parseIssues' | 'checkIssues';

async function checkLogInPartitions(path: string, ids: Extract<TaskIds, { kind: 'partitions' }>, onIssue: (issue: DataIssue) => void, file: string): Promise<LogCheck> {
  const spill = new SpillFiles<LogStream>(ids.count, 'dap-logcheck-');
  try {
    let events = 0, judgments = 0;
    for await (const l of readJsonlLines(path, { chunkSize: 1 << 20 })) {
      const r = parseLogLine(l, file);
      for (const issue of r.issues) spill.write(0, 'parseIssues', JSON.stringify(issue));
      if (!r.event) continue;
      events++;
      spill.write(partitionOf(r.event.item, ids.count), 'events', `${l.line}\t${r.torn ? JSON.stringify(r.event) : l.text}`);
    }
    spill.finishWriting();
    for (let p = 0; p < ids.count; p++) {
      const checker = new LogChecker(readIdPartition(ids, p), file);
      const toFile = (issue: DataIssue) => spill.write(p, 'checkIssues', JSON.stringify(issue));
      for await (const text of spill.lines(p, 'events')) {
        const tab = text.indexOf('\t');
        checker.add(JSON.parse(text.slice(tab + 1)) as AnnotationEvent, Number(text.slice(0, tab)), toFile);
      }
      judgments += checker.judgments;
      releasePartitionMemory();
    }
    spill.finishWriting();
    const issues = async function* (p: number, stream: LogStream): AsyncGenerator<DataIssue> {
      for await (const text of spill.lines(p, stream)) yield JSON.parse(text) as DataIssue;
    };
    await mergeSorted([issues(0, 'parseIssues'), ...Array.from({ length: ids.count }, (_, p) => issues(p, 'checkIssues'))], (issue) => issue.line, onIssue);
    return { events, judgments };
  } finally {
    spill.close();
  }
}
