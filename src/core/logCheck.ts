/**
 * Checks an annotation log against a task file's ids while streaming the log (`dap validate FILE --log
 * LOG`): each line's issues as parseLogLine reports them, then, per event, the issues resolveJudgments
 * would report (unknown item, shown response out of range, undo with nothing to retract), in log order.
 * Nothing of the log is kept but, per (item, annotator), the depth of its judgment stack (a count, not the
 * judgments), so memory stays small next to both files: the task file's ids are an IdTable (34 to 39
 * bytes an id), each annotator's depths a sparse map that turns into an array of one int per id once it
 * is dense. When the task file's ids spilled to partitions (core/taskScan.ts), the log is partitioned the
 * same way, as numeric records (where the line is, the item's hashes, kind, annotator, largest shown
 * index), and each partition is checked on its own (all events of an item land with its id); an event is
 * read back from the log only to word an issue. Memory is one partition's, whatever the files' sizes.
 */
import { EVENT_KINDS } from './annotationEvents';
import { forEachLogEvent, readEventAt } from './annotationLog';
import { assertUnreachable } from './assertUnreachable';
import { hash32, hash52, IdTable } from './idTable';
import { emptyUndoIssue, shownRangeIssue, unknownItemIssue } from './judgments';
import { mergeSorted, partitionOfHash, releasePartitionMemory, SpillFiles } from './spillFiles';
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

/**
 * The per-event checks of one log against a table of ids, fed events in log order as plain fields (no
 * object per event): `eventAt(ref)` gives the whole event back only to word an issue.
 */
class LogChecker {
  private readonly depths = new Map<string | number, Depths>();
  private readonly unknown = new Set<string | number>();
  judgments = 0;

  constructor(private readonly ids: IdTable, private readonly file: string, private readonly eventAt: (ref: number) => AnnotationEvent) {}

  /**
   * Checks the event of log line `line`: `entry` its item's IdTable entry (-1: not in the task file),
   * `unknownKey` names the item among unknown ones, `annotator` names the annotator, `maxShown` is the
   * largest response index it shows (-1 for none), `ref` what eventAt needs.
   */
  add(line: number, entry: number, unknownKey: string | number, kind: AnnotationEvent['kind'], annotator: string | number, maxShown: number, ref: number,
    onIssue: (issue: DataIssue) => void): void {
    const { ids, file } = this;
    if (entry < 0) {
      if (!this.unknown.has(unknownKey)) {
        this.unknown.add(unknownKey);
        onIssue(unknownItemIssue(file, line, this.eventAt(ref).item));
      }
      return;
    }
    const n = ids.valueAt(entry);
    if (maxShown >= n) {
      onIssue(shownRangeIssue(file, line, this.eventAt(ref), n)!);
      return;
    }
    let d = this.depths.get(annotator);
    if (!d) this.depths.set(annotator, (d = new Depths(ids.size)));
    const depth = d.get(entry);
    switch (kind) {
      case 'pair':
      case 'rank':
        d.set(entry, depth + 1);
        if (depth === 0) this.judgments++;
        break;
      case 'undo':
        if (depth === 0) onIssue(emptyUndoIssue(file, line, this.eventAt(ref)));
        else {
          d.set(entry, depth - 1);
          if (depth === 1) this.judgments--;
        }
        break;
      case 'flag':
      case 'confirm':
        break;
      default:
        assertUnreachable(kind);
    }
  }
}

/** The largest response index an event shows (-1 for undo, flag, confirm). */
function maxShown(e: AnnotationEvent): number {
  return e.kind === 'pair' || e.kind === 'rank' ? Math.max(-1, ...e.shown) : -1;
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
  const table = taskIds.table;
  let current: AnnotationEvent | undefined;
  const checker = new LogChecker(table, file, () => current!);
  const events = await forEachLogEvent(path, file, onIssue, (e, line) => {
    current = e;
    checker.add(line, table.find(e.item), e.item, e.kind, e.annotator, maxShown(e), 0, onIssue);
  });
  return { events, judgments: checker.judgments };
}

type LogStream = 'events' | 'parseIssues' | 'checkIssues';

/** Numbers per spilled event: line, byte offset, the item's hash52 and hash32, kind (index in EVENT_KINDS), annotator number, largest shown index. */
const EVENT_RECORD = 7;

async function checkLogInPartitions(path: string, ids: Extract<TaskIds, { kind: 'partitions' }>, onIssue: (issue: DataIssue) => void, file: string): Promise<LogCheck> {
  const spill = new SpillFiles<LogStream>(ids.count, 'dap-logcheck-');
  try {
    let judgments = 0;
    const annotators = new Map<string, number>();
    const events = await forEachLogEvent(path, file, (issue) => spill.write(0, 'parseIssues', JSON.stringify(issue)), (e, line, offset) => {
      let a = annotators.get(e.annotator);
      if (a === undefined) annotators.set(e.annotator, (a = annotators.size));
      const fp = hash32(e.item);
      spill.writeNumbers(partitionOfHash(fp, ids.count), 'events', line, offset, hash52(e.item), fp, EVENT_KINDS.indexOf(e.kind), a, maxShown(e));
    });
    spill.finishWriting();
    const table = new IdTable(); // one table, refilled for each partition
    for (let p = 0; p < ids.count; p++) {
      readIdPartition(ids, p, table);
      // an event is read back from the log (at its byte offset) only to word an issue
      const checker = new LogChecker(table, file, (offset) => readEventAt(path, offset, file)!);
      const toFile = (issue: DataIssue) => spill.write(p, 'checkIssues', JSON.stringify(issue));
      const records = spill.readNumbers(p, 'events');
      for (let r = 0; r < records.length; r += EVENT_RECORD) {
        const h = records[r + 2], fp = records[r + 3];
        // unknown items are told apart by hash52 alone: two unknown ids sharing one would get one warning
        checker.add(records[r], table.findHashed(h, fp), h, EVENT_KINDS[records[r + 4]], records[r + 5], records[r + 6], records[r + 1], toFile);
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
