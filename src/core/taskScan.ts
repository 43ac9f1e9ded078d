/**
 * A task-file scan whose memory is bounded by a budget of ids, not by the file (`dap validate`, `dap stats`).
 * It reports what streamTasks reports (core/tasks.ts: every line's issues, and duplicate ids on the later
 * line, by DuplicateIds' rule), in the same order, and passes each item to the caller as it is read.
 *
 * Up to `idsInMemory` ids, duplicates are found as each line is read, in a compact IdTable. Past it the
 * table is written out to temporary files (core/spillFiles.ts), hash-partitioned by id, and from then on
 * each item's id goes there as one record (its hashes, line, byte offset and the caller's value) while the
 * line's issues wait in a file too, since a later line's duplicate is not known until the end. After the
 * read each partition is checked on its own (every line of an id lands in the same partition, in file
 * order): a hash match is confirmed by re-reading both lines' ids, as in memory. The waiting issues and
 * the duplicates found then go out merged in line order, so the output is identical whatever the budget;
 * an item given to the caller that turns out to be a duplicate is reported with `onLateDuplicate`. With
 * `keepIds`, each partition's distinct ids stay on disk for a log check (core/logCheck.ts) until close().
 * Memory: the budget's table, then one partition's ids (about a quarter of it), whatever the file's size — except for one id
 * repeated on a very large number of lines, whose records all land in one partition.
 */
import { statSync } from 'node:fs';
import { hash32, hash52, IdTable } from './idTable';
import { oversizeIssue, readJsonlBatches } from './jsonl';
import { mergeSorted, partitionOfHash, releasePartitionMemory, SpillFiles } from './spillFiles';
import { DuplicateIds, duplicateIdIssue, idOfLineAt, parseTaskLine } from './tasks';
import type { DataIssue, TaskItem } from './types';

/** Ids checked in memory before they spill to partitions (~5 MB of table). */
export const DEFAULT_IDS_IN_MEMORY = 1 << 17;
const MAX_PARTITIONS = 512;

/** Numbers per id record: hash52, hash32, line (negative: the id is the content hash), byte offset, value. */
const RECORD = 5;

export type TaskIdStream = 'ids' | 'firsts' | 'dups' | 'issues' | 'itemIssues';

/** The file's distinct ids with their values, for a lookup afterwards (keepIds). */
export type TaskIds =
  | { kind: 'table'; table: IdTable }
  /** `firsts` of each partition: records of RECORD numbers (see readIdPartition). */
  | { kind: 'partitions'; spill: SpillFiles<TaskIdStream>; count: number };

export interface TaskScanOptions {
  /** Name used for the file in issues (default: the path as given). */
  displayName?: string;
  /** Every issue, in streamTasks' order. */
  onIssue: (issue: DataIssue) => void;
  /** Each item whose id no earlier line had (as far as known while reading); returns the value kept with its id (default its response count). */
  onItem?: (item: TaskItem) => number | void;
  /** Issues about an item, reported on its line after the line's own (dropped when the item is a duplicate). */
  itemIssues?: (item: TaskItem) => DataIssue[];
  /** An item given to onItem turned out to repeat an earlier line's id (found after the read, past the budget): its line and value. */
  onLateDuplicate?: (line: number, value: number) => void;
  /** Ids checked in memory before they spill (default DEFAULT_IDS_IN_MEMORY). */
  idsInMemory?: number;
  /** Keep the distinct ids for a lookup (TaskScan.ids); the caller must then call close(). */
  keepIds?: boolean;
}

export interface TaskScan {
  /** Valid items (duplicates not counted). */
  items: number;
  /** With keepIds: the distinct ids. */
  ids?: TaskIds;
  /** Partitions the ids spilled to (1: they stayed in memory). */
  partitions: number;
  /** Removes the temporary files kept for `ids` (safe to call twice, and without keepIds). */
  close(): void;
}

/** Partition `p`'s distinct ids (keepIds) as a table (`table`, emptied first): values and lines as the scan recorded them. */
export function readIdPartition(ids: Extract<TaskIds, { kind: 'partitions' }>, p: number, table = new IdTable()): IdTable {
  const records = ids.spill.readNumbers(p, 'firsts');
  table.clear();
  for (let r = 0; r < records.length; r += RECORD) table.addHashed(records[r], records[r + 1], records[r + 2], records[r + 3], records[r + 4]);
  return table;
}

/** Scans the task file at `path`; see the file comment. */
export async function scanTaskFile(path: string, options: TaskScanOptions): Promise<TaskScan> {
  const file = options.displayName ?? path;
  const budget = options.idsInMemory ?? DEFAULT_IDS_IN_MEMORY;
  let table: IdTable | undefined = new IdTable();
  let duplicates: DuplicateIds | undefined = new DuplicateIds(file, path, table);
  let spill: SpillFiles<TaskIdStream> | undefined;
  let count = 1;
  let items = 0;
  const report = (issue: DataIssue, aboutItem = false) => {
    if (spill) spill.write(0, aboutItem ? 'itemIssues' : 'issues', JSON.stringify(issue));
    else options.onIssue(issue);
  };
  try {
    for await (const batch of readJsonlBatches(path, { chunkSize: 1 << 20 })) for (const l of batch) { // 1 MiB reads: fewer awaits on big files
      const oversize = oversizeIssue(l, file);
      if (oversize) {
        report(oversize);
        continue;
      }
      if (l.text.trim() === '') continue;
      const r = parseTaskLine(l.text, file, l.line, l.offset, l.utf8);
      let item = r.item;
      if (item && table && duplicates) {
        const duplicate = duplicates.check(item, l.line, r.idFromContent === true, l.offset, 0);
        if (duplicate) {
          r.issues.push(duplicate);
          item = undefined;
        } else table.setValue(table.size - 1, options.onItem?.(item) ?? item.responses.length);
      } else if (item && spill) {
        const value = options.onItem?.(item) ?? item.responses.length;
        const fp = hash32(item.id);
        spill.writeNumbers(partitionOfHash(fp, count), 'ids', hash52(item.id), fp, r.idFromContent ? -l.line : l.line, l.offset, value);
      }
      for (const issue of r.issues) report(issue);
      if (item) {
        items++;
        for (const issue of options.itemIssues?.(item) ?? []) report(issue, true);
      }
      if (table && table.size >= budget) {
        // Past the budget: partitions of about a quarter of it each (a partition's check holds its records
        // and a table of them), guessed from the bytes read so far.
        count = Math.min(MAX_PARTITIONS, Math.max(2, Math.ceil(4 * statSync(path).size / (l.offset + l.byteLength + 1))));
        spill = new SpillFiles<TaskIdStream>(count, 'dap-ids-');
        for (let e = 0; e < table.size; e++) {
          const x = table.entry(e);
          spill.writeNumbers(partitionOfHash(x.fp, count), 'ids', x.h, x.fp, x.line, x.offset, x.value);
        }
        table = duplicates = undefined;
      }
    }
    if (!spill) return { items, partitions: 1, ...(options.keepIds ? { ids: { kind: 'table', table: table! } } : {}), close: () => {} };
    items -= await reportLateDuplicates(spill, count, path, file, options);
  } catch (err) {
    spill?.close();
    throw err;
  }
  if (!options.keepIds) spill.close();
  const s = spill;
  return { items, partitions: count, ...(options.keepIds ? { ids: { kind: 'partitions', spill: s, count } } : {}), close: () => s.close() };
}

/**
 * Finds the duplicates in each partition (its distinct ids kept as `firsts` with keepIds), then passes on
 * the waiting issues merged with them in line order; returns the number of duplicates.
 */
async function reportLateDuplicates(spill: SpillFiles<TaskIdStream>, count: number, path: string, file: string, options: TaskScanOptions): Promise<number> {
  spill.finishWriting();
  const firsts = new IdTable(); // one table, emptied for each partition
  for (let p = 0; p < count; p++) {
    const records = spill.readNumbers(p, 'ids');
    firsts.clear();
    for (let r = 0; r < records.length; r += RECORD) { // in file order: the table's entries, then the later lines
      const line = records[r + 2], offset = records[r + 3], value = records[r + 4];
      let id: string | undefined | null = null; // read when a hash matches
      const idHere = () => (id === null ? (id = idOfLineAt(path, offset, file)) : id);
      const seen = firsts.findOrAddHashed(records[r], records[r + 1], line, offset, (at) => idHere() !== undefined && idOfLineAt(path, at, file) === idHere(), value);
      if (seen) spill.write(p, 'dups', `${value}\t${JSON.stringify(duplicateIdIssue(file, Math.abs(line), idHere()!, seen.line, line < 0))}`);
    }
    if (options.keepIds) {
      for (let e = 0; e < firsts.size; e++) {
        const x = firsts.entry(e);
        spill.writeNumbers(p, 'firsts', x.h, x.fp, x.line, x.offset, x.value);
      }
    }
    releasePartitionMemory();
  }
  spill.finishWriting();
  const issues = async function* (stream: 'issues' | 'itemIssues'): AsyncGenerator<{ issue: DataIssue; value: number }> {
    for await (const text of spill.lines(0, stream)) yield { issue: JSON.parse(text) as DataIssue, value: 0 };
  };
  const dups = async function* (p: number): AsyncGenerator<{ issue: DataIssue; value: number }> {
    for await (const text of spill.lines(p, 'dups')) {
      const tab = text.indexOf('\t');
      yield { issue: JSON.parse(text.slice(tab + 1)) as DataIssue, value: Number(text.slice(0, tab)) };
    }
  };
  // A line's own issues, then its duplicate issue, then (not a duplicate) the issues about its item.
  let late = 0, lateLine = 0;
  await mergeSorted([issues('issues'), ...Array.from({ length: count }, (_, p) => dups(p)), issues('itemIssues')], (x) => x.issue.line, (x, source) => {
    if (source === 0) options.onIssue(x.issue);
    else if (source <= count) {
      late++;
      lateLine = x.issue.line;
      options.onLateDuplicate?.(x.issue.line, x.value);
      options.onIssue(x.issue);
    } else if (x.issue.line !== lateLine) options.onIssue(x.issue);
  });
  return late;
}
