/**
 * `dap stats`' large log (core/projectStats.ts), spilled to hash partitions by item id and resolved one
 * partition at a time. The items' shapes go to their partitions as JSON array elements (one JSON.parse per
 * partition reads them back); the events go as numeric records, so an event is never an object again
 * after the log pass: per record the line, the byte offset of that line, the item's two hashes
 * (core/idTable.ts), the kind and pair choice as indices (core/annotationEvents.ts), the annotator as a
 * number, the shown order and, for a rank, its groups. A partition is resolved by the rules of
 * core/judgments.ts: per (item, annotator) a stack of record positions, the top current; undo pops it; an
 * event naming an unknown item, showing a response the item lacks, or undoing nothing is an issue, worded
 * from the event read back from the log at its offset (core/annotationLog.ts readEventAt); flag and confirm
 * events change no judgment (stats reports neither). Only the current judgments become Judgment objects,
 * ordered as resolveJudgments orders them (item file order, then annotator name), without `ts` (stats'
 * tallies do not read it). An event names an item when both hashes match, 84 bits, as in `dap validate
 * --log` (core/logCheck.ts): a different id matches by chance with probability about 1e-13 for a million
 * items and events. The log may be read on a worker thread (startLogWorker, logWorkerMain) while the caller
 * reads the task file.
 */
import { Worker } from 'node:worker_threads';
import { EVENT_KINDS, PAIR_CHOICES } from './annotationEvents';
import { forEachLogEvent, readEventAt } from './annotationLog';
import { hash32, hash52, IdTable } from './idTable';
import { emptyUndoIssue, shownRangeIssue, unknownItemIssue } from './judgments';
import { mergeSorted, partitionOf, partitionOfHash, SpillFiles } from './spillFiles';
import type { DataIssue, ItemShape, Judgment } from './types';

/** An item as stats keeps it: its shape and its place among the task file's valid items. */
export interface StatsItem extends ItemShape {
  order: number;
}

/** Per partition: items, events (records) and resolution's issues; the log lines' issues a worker keeps are in partition 0's logIssues. */
type Stream = 'items' | 'events' | 'issues' | 'logIssues';

/** Record fields before the shown order: line, offset, hash52, hash32, kind, annotator, choice (-1 for none), shown count. */
const HEADER = 8;
const PAIR = EVENT_KINDS.indexOf('pair');
const RANK = EVENT_KINDS.indexOf('rank');
const UNDO = EVENT_KINDS.indexOf('undo');

/** Items fed to the tallies at once: their shapes and judgments are built a batch at a time, so they die young. */
const BATCH_ITEMS = 1024;

/** Shared, frozen response lists of items without models, by length (the tallies only read shapes). */
const PLAIN_RESPONSES: (readonly { model?: string }[])[] = [];
function plainResponses(n: number): readonly { model?: string }[] {
  return (PLAIN_RESPONSES[n] ??= Object.freeze(Array.from({ length: n }, () => Object.freeze({}))));
}

/**
 * The per-(item, annotator) judgment stacks of one partition, as parallel arrays (no object per event),
 * reused from partition to partition: per item entry its first state; per state its annotator, the next
 * state of the same item, its top record's position (-1: empty) and the records below the top (only when
 * it has more than one).
 */
class Stacks {
  first = new Int32Array(0);
  readonly next: number[] = [];
  readonly annotator: number[] = [];
  readonly top: number[] = [];
  readonly below: (number[] | undefined)[] = [];

  /** Empties every stack, for a partition of `items` item entries. */
  reset(items: number): void {
    if (this.first.length < items) this.first = new Int32Array(items);
    this.first.fill(-1, 0, items);
    this.next.length = this.annotator.length = this.top.length = this.below.length = 0;
  }

  /** The state of (item entry, annotator), created empty when missing. */
  stateOf(entry: number, annotator: number): number {
    let last = -1;
    for (let s = this.first[entry]; s >= 0; s = this.next[s]) {
      if (this.annotator[s] === annotator) return s;
      last = s;
    }
    const s = this.top.length;
    this.next.push(-1);
    this.annotator.push(annotator);
    this.top.push(-1);
    this.below.push(undefined);
    if (last < 0) this.first[entry] = s;
    else this.next[last] = s;
    return s;
  }

  push(s: number, record: number): void {
    if (this.top[s] >= 0) (this.below[s] ??= []).push(this.top[s]);
    this.top[s] = record;
  }

  /** False when the stack is empty (nothing to retract). */
  pop(s: number): boolean {
    if (this.top[s] < 0) return false;
    this.top[s] = this.below[s]?.pop() ?? -1;
    return true;
  }
}

export class SpilledLog {
  private readonly spill: SpillFiles<Stream>;
  /** The log as read: its valid events and annotators (an event's record holds its annotator's index here). */
  private log: LogSpill = { events: 0, annotators: [] };
  private names: string[] = [];
  /** Per annotator number, its place in name order (resolveJudgments' order within an item). */
  private rank = new Int32Array(0);
  /** Partition items' ids (readItems), and per table entry where the item's elements start. */
  private readonly table = new IdTable();
  private readonly itemAt: number[] = [];
  private readonly stacks = new Stacks();

  /** `logPath` is read back to word issues; `file` names it in them. */
  constructor(readonly partitions: number, private readonly logPath: string, private readonly file: string) {
    this.spill = new SpillFiles<Stream>(partitions, 'dap-stats-');
  }

  /**
   * An item's shape and its place `order` among the valid items as one spill line of JSON array elements:
   * `,order,responses,id`, responses a count when no response has a model, else the array of models (null
   * for none), the id a JSON string.
   */
  writeItem(item: ItemShape, order: number): void {
    const responses = item.responses.some((r) => r.model !== undefined) ? JSON.stringify(item.responses.map((r) => r.model ?? null)) : String(item.responses.length);
    this.spill.write(partitionOf(item.id, this.partitions), 'items', `,${order},${responses},${JSON.stringify(item.id)}`);
  }

  /** Reads the log on this thread (spillLogEvents): its lines' issues go to `onIssue` as found. */
  async spillLog(onIssue: (issue: DataIssue) => void): Promise<void> {
    this.log = await spillLogEvents(this.logPath, this.file, this.spill, onIssue);
  }

  /**
   * Reads the log on a worker thread running `workerPath` (the bundle of src/cli/statsLogWorker.ts, which
   * calls logWorkerMain) while this thread goes on (reading the task file): `done` settles once the log is
   * spilled, its lines' issues kept for emitLogIssues; `stop` ends the worker early (after an error here).
   */
  startLogWorker(workerPath: string): { done: Promise<void>; stop: () => Promise<void> } {
    const task: LogWorkerTask = { logPath: this.logPath, file: this.file, folder: this.spill.folder, partitions: this.partitions };
    const worker = new Worker(workerPath, { workerData: task });
    const done = new Promise<void>((resolve, reject) => {
      let result: LogSpill | undefined;
      worker.once('message', (m: LogSpill) => (result = m));
      worker.once('error', reject);
      worker.once('exit', (code) => {
        if (!result) return reject(new Error(`the log reader thread stopped (exit code ${code}) before it read ${this.logPath}`));
        this.log = result;
        this.spill.adopt('events');
        this.spill.adopt('logIssues');
        resolve();
      });
    });
    done.catch(() => {}); // the caller awaits it, or stops the worker after an error of its own
    return { done, stop: async () => void (await worker.terminate()) };
  }

  /** Passes on the log lines' issues a worker kept (startLogWorker), in line order. */
  async emitLogIssues(onIssue: (issue: DataIssue) => void): Promise<void> {
    for await (const text of this.spill.lines(0, 'logIssues')) onIssue(JSON.parse(text) as DataIssue);
  }

  /** Valid events the log holds (once read). */
  get events(): number {
    return this.log.events;
  }

  /** Call once every item is written and the log read, before resolving. */
  finishWriting(): void {
    this.spill.finishWriting();
    this.names = this.log.annotators;
    const byName = this.names.map((_, i) => i).sort((x, y) => (this.names[x] < this.names[y] ? -1 : this.names[x] > this.names[y] ? 1 : 0));
    this.rank = new Int32Array(this.names.length);
    byName.forEach((a, place) => (this.rank[a] = place));
  }

  /**
   * Partition `p`'s items (of an id spilled twice, the first) as their spill elements, read whole: the
   * item of table entry e is at elements itemAt[e] (order), + 1 (responses), + 2 (id).
   */
  private readItems(p: number): unknown[] {
    const text = this.spill.readText(p, 'items');
    const fields = text === '' ? [] : (JSON.parse(`[0${text}]`) as unknown[]); // each line starts with ',': the 0 fills the first place
    this.table.clear();
    this.itemAt.length = 0;
    for (let i = 1; i < fields.length; i += 3) {
      const id = fields[i + 2] as string, h = hash52(id), fp = hash32(id);
      if (this.table.findHashed(h, fp) >= 0) continue;
      this.table.addHashed(h, fp, 0, 0, 0);
      this.itemAt.push(i);
    }
    return fields;
  }

  /** The item whose elements start at `i` (readItems). */
  private static item(fields: unknown[], i: number): StatsItem {
    const responses = fields[i + 1] as number | (string | null)[];
    return { id: fields[i + 2] as string, order: fields[i] as number,
      responses: typeof responses === 'number' ? plainResponses(responses) : responses.map((m) => (m === null ? {} : { model: m })) };
  }

  /**
   * Resolves partition `p` (the file comment's rules): passes the items its events name (file order) with
   * their current judgments to `feed`, in batches of up to BATCH_ITEMS items; returns its issues in log order.
   */
  resolve(p: number, feed: (items: StatsItem[], judgments: Judgment[]) => void): DataIssue[] {
    const fields = this.readItems(p), itemAt = this.itemAt, entries = itemAt.length;
    const records = this.spill.readNumbers(p, 'events');
    const stacks = this.stacks;
    stacks.reset(entries);
    const named = new Uint8Array(entries);
    const unknown = new Set<string>();
    const issues: DataIssue[] = [];
    const eventAt = (r: number) => readEventAt(this.logPath, records[r + 1], this.file)!;
    for (let r = 0; r < records.length; r = recordEnd(records, r)) {
      const line = records[r], h = records[r + 2], fp = records[r + 3], kind = records[r + 4];
      const entry = this.table.findHashed(h, fp);
      if (entry < 0) {
        const key = `${h}:${fp}`;
        if (!unknown.has(key)) {
          unknown.add(key);
          issues.push(unknownItemIssue(this.file, line, eventAt(r).item));
        }
        continue;
      }
      named[entry] = 1;
      const responses = fields[itemAt[entry] + 1] as number | unknown[];
      const n = typeof responses === 'number' ? responses : responses.length;
      const shown = records[r + 7];
      let outOfRange = false;
      for (let k = 0; k < shown; k++) if (records[r + HEADER + k] >= n) outOfRange = true;
      if (outOfRange) {
        issues.push(shownRangeIssue(this.file, line, eventAt(r), n)!);
        continue;
      }
      if (kind !== PAIR && kind !== RANK && kind !== UNDO) continue; // flag, confirm: no judgment changes
      const s = stacks.stateOf(entry, records[r + 5]);
      if (kind !== UNDO) stacks.push(s, r);
      else if (!stacks.pop(s)) issues.push(emptyUndoIssue(this.file, line, eventAt(r)));
    }
    let items: StatsItem[] = [], judgments: Judgment[] = [];
    const current: number[] = [];
    for (let e = 0; e < entries; e++) {
      if (named[e] === 0) continue;
      const item = SpilledLog.item(fields, itemAt[e]);
      items.push(item);
      current.length = 0;
      for (let s = stacks.first[e]; s >= 0; s = stacks.next[s]) if (stacks.top[s] >= 0) current.push(s);
      if (current.length > 1) current.sort((x, y) => this.rank[stacks.annotator[x]] - this.rank[stacks.annotator[y]]);
      for (const s of current) judgments.push(this.judgmentAt(records, stacks.top[s], item.id));
      if (items.length === BATCH_ITEMS) {
        feed(items, judgments);
        items = [];
        judgments = [];
      }
    }
    if (items.length > 0) feed(items, judgments);
    return issues;
  }

  /** The judgment of the pair or rank record at `r` (judgments.ts judgmentFromEvent, without ts). */
  private judgmentAt(records: Float64Array, r: number, item: string): Judgment {
    const shownCount = records[r + 7];
    const shown = new Array<number>(shownCount);
    for (let k = 0; k < shownCount; k++) shown[k] = records[r + HEADER + k];
    const annotator = this.names[records[r + 5]];
    if (records[r + 4] === RANK) {
      const ranking: number[][] = [];
      let at = r + HEADER + shownCount;
      for (let groups = records[at++]; groups > 0; groups--) {
        const g: number[] = [];
        for (let size = records[at++]; size > 0; size--) g.push(records[at++]);
        ranking.push(g);
      }
      return { item, annotator, ranking, bothBad: false, ts: '', kind: 'rank', shown };
    }
    const [a, b] = shown;
    const choice = PAIR_CHOICES[records[r + 6]];
    const ranking = choice === 'a' ? [[a], [b]] : choice === 'b' ? [[b], [a]] : [[a, b]];
    return { item, annotator, ranking, bothBad: choice === 'both_bad', ts: '', kind: 'pair', shown };
  }

  /** Keeps one of partition `p`'s resolution issues until mergeIssues. */
  writeIssue(p: number, issue: DataIssue): void {
    this.spill.write(p, 'issues', JSON.stringify(issue));
  }

  /** Passes on the partitions' issues (each partition's in log line order) merged into one log line order. */
  async mergeIssues(onIssue: (issue: DataIssue) => void): Promise<void> {
    this.spill.finishWriting();
    const spill = this.spill;
    const parsed = async function* (p: number): AsyncGenerator<DataIssue> {
      for await (const text of spill.lines(p, 'issues')) yield JSON.parse(text) as DataIssue;
    };
    await mergeSorted(Array.from({ length: spill.count }, (_, p) => parsed(p)), (issue) => issue.line, onIssue);
  }

  /** Removes the temporary files (safe to call twice). */
  close(): void {
    this.spill.close();
  }
}

/** Where the record starting at `r` ends (the next one starts). */
function recordEnd(records: Float64Array, r: number): number {
  let end = r + HEADER + records[r + 7];
  if (records[r + 4] === RANK) for (let groups = records[end++]; groups > 0; groups--) end += records[end] + 1;
  return end;
}

/** What reading the log gave: its valid events and its annotators in order of first appearance. */
export interface LogSpill {
  events: number;
  annotators: string[];
}

/** What a log reader thread is given (startLogWorker → logWorkerMain). */
export interface LogWorkerTask {
  logPath: string;
  file: string;
  /** The SpilledLog's folder: the thread writes its events and issues there (through a view of it). */
  folder: string;
  partitions: number;
}

/**
 * The log pass: every line of the log read and checked (parseLogLine: its issues to `onIssue`), each valid
 * event written as its record (the file comment) to its item's partition.
 */
async function spillLogEvents(logPath: string, file: string, spill: SpillFiles<Stream>, onIssue: (issue: DataIssue) => void): Promise<LogSpill> {
  const annotators = new Map<string, number>();
  const r: number[] = []; // the record being written (reused; a rank of many responses makes it longer)
  const events = await forEachLogEvent(logPath, file, onIssue, (e, line, offset) => {
    let a = annotators.get(e.annotator);
    if (a === undefined) annotators.set(e.annotator, (a = annotators.size));
    const fp = hash32(e.item);
    r[0] = line;
    r[1] = offset;
    r[2] = hash52(e.item);
    r[3] = fp;
    r[4] = EVENT_KINDS.indexOf(e.kind);
    r[5] = a;
    r[6] = e.kind === 'pair' ? PAIR_CHOICES.indexOf(e.choice) : -1;
    let n = HEADER;
    if (e.kind === 'pair' || e.kind === 'rank') {
      r[7] = e.shown.length;
      for (const x of e.shown) r[n++] = x;
    } else r[7] = 0;
    if (e.kind === 'rank') {
      r[n++] = e.ranking.length;
      for (const g of e.ranking) {
        r[n++] = g.length;
        for (const x of g) r[n++] = x;
      }
    }
    spill.writeNumberArray(partitionOfHash(fp, spill.count), 'events', r, n);
  });
  return { events, annotators: [...annotators.keys()] };
}

/** A log reader thread's work (src/cli/statsLogWorker.ts): spillLogEvents into the task's folder, the lines' issues kept in order. */
export async function logWorkerMain(task: LogWorkerTask): Promise<LogSpill> {
  const spill = new SpillFiles<Stream>(task.partitions, 'dap-stats-', task.folder);
  try {
    const log = await spillLogEvents(task.logPath, task.file, spill, (issue) => spill.write(0, 'logIssues', JSON.stringify(issue)));
    spill.finishWriting();
    return log;
  } finally {
    spill.close();
  }
}
