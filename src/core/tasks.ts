/**
 * Streaming task-file reader: parses every line of a task JSONL file into TaskItems (see taskFormats.ts),
 * reports each bad line as `file:line: field: problem` and keeps going, and reports duplicate ids
 * (the first item with an id is kept; later lines with the same id are reported and skipped: see
 * DuplicateIds for the rule).
 */
import { IdTable } from './idTable';
import { issueError, issueWarning } from './issues';
import { INVALID_UTF8_WARNING, jsonErrorMessage, NOT_UTF8_MESSAGE, oversizeIssue, readJsonlBatches, readLineThrough } from './jsonl';
import { parseTaskObject } from './taskFormats';
import type { DataIssue, TaskItem } from './types';

/** One parsed line of a task file: its item (when valid) and its issues. */
export interface TaskLineResult {
  line: number;
  offset: number;
  item?: TaskItem;
  issues: DataIssue[];
  /** With an item: true when the line had no `id`, so `item.id` is its content hash. */
  idFromContent?: boolean;
}

/** Options of the task readers. */
export interface ReadTasksOptions {
  /** Name used for the file in issues (default: the path as given). */
  displayName?: string;
  /**
   * streamTasks: the table to record the file's ids in (each with its item's response count), for a
   * caller that looks ids up afterwards (validate --log); default a table of its own.
   */
  idTable?: IdTable;
}

/**
 * Parses one physical line's text (blank lines give no item and no issue). `utf8` false (the line's bytes
 * are not valid UTF-8): a line that is not JSON is reported as not UTF-8 text (binary data), and a JSON
 * line is read with U+FFFD for the bad bytes plus a warning, so a mis-encoded file is never read silently.
 */
export function parseTaskLine(text: string, file: string, line: number, offset: number, utf8 = true): TaskLineResult {
  if (text.trim() === '') return { line, offset, issues: [] };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { line, offset, issues: [issueError(file, line, 'line', utf8 ? jsonErrorMessage(err) : NOT_UTF8_MESSAGE)] };
  }
  const parsed = parseTaskObject(value, { file, line, offset });
  const issues = utf8 ? parsed.issues : [issueWarning(file, line, 'line', INVALID_UTF8_WARNING), ...parsed.issues];
  return { line, offset, item: parsed.item, issues, idFromContent: parsed.idFromContent };
}

/**
 * Duplicate ids within one task file. Items are keyed by id everywhere (annotation log events, compiled
 * rows, review lists), so one id names one line: the first line with an id keeps it, and every later
 * line with the same id is reported on that later line, field `id`, and its item is skipped.
 * - An `id` written in the file on either line: an error, `duplicate id "X", first on line N` — two lines
 *   claim one name, so a judgment logged for X could mean either (`dap validate` exits 1).
 * - Neither line has an `id`: content-hash ids are equal only when prompt and response texts are equal,
 *   so the later line is the same item again and a judgment of X means both alike. A warning (validate
 *   exits 0); the repeat is still skipped, so it is neither shown twice nor trained on twice.
 */
export class DuplicateIds {
  /** id → first line with it (negative when that line's id was its content hash); without `path`. */
  private readonly firstLine = new Map<string, number>();
  /** With `path`: the compact table (the first line's id is re-read from the file to confirm a match). */
  private readonly table: IdTable | null;

  /** `path`: the file itself, when check() is given each line's byte offset (streaming readers), recorded in `table`. */
  constructor(private readonly file: string, private readonly path?: string, table?: IdTable) {
    this.table = path ? (table ?? new IdTable()) : null;
  }

  /**
   * Records the item of `line` (with `value` in the table: by default its response count); returns the
   * issue when its id is already taken (skip the item then).
   */
  check(item: TaskItem, line: number, idFromContent: boolean, offset?: number, value = item.responses.length): DataIssue | undefined {
    let seen: number | undefined;
    if (this.table && this.path && offset !== undefined) {
      const signed = idFromContent ? -line : line;
      seen = this.table.findOrAdd(item.id, signed, offset, (at) => idOfLineAt(this.path!, at, this.file) === item.id, value)?.line;
      if (seen === undefined) return undefined;
    } else {
      seen = this.firstLine.get(item.id);
      if (seen === undefined) {
        this.firstLine.set(item.id, idFromContent ? -line : line);
        return undefined;
      }
    }
    return duplicateIdIssue(this.file, line, item.id, seen, idFromContent);
  }
}

/**
 * The issue of a line whose id `id` an earlier line already has (DuplicateIds' rule): `first` is that
 * line's number, negative when its id was its content hash; `idFromContent` says the same of this line.
 */
export function duplicateIdIssue(file: string, line: number, id: string, first: number, idFromContent: boolean): DataIssue {
  if (first < 0 && idFromContent) {
    return issueWarning(file, line, 'id', `duplicate item: same prompt and responses as line ${-first} (content id "${id}"); line skipped`);
  }
  return issueError(file, line, 'id', `duplicate id "${id}", first on line ${Math.abs(first)}; line skipped`);
}

/** The item id of the line starting at byte `offset` of `path` (re-read to confirm a duplicate). */
export function idOfLineAt(path: string, offset: number, file: string): string | undefined {
  return parseTaskLine(readLineThrough(path, offset), file, 0, offset).item?.id;
}

/**
 * Streams the task file line by line (never loads it whole). Yields one result per non-blank line,
 * with duplicate-id issues added to the later line's issues (and its item dropped).
 */
export async function* streamTasks(path: string, options: ReadTasksOptions = {}): AsyncGenerator<TaskLineResult> {
  const file = options.displayName ?? path;
  const duplicates = new DuplicateIds(file, path, options.idTable);
  for await (const batch of readJsonlBatches(path, { chunkSize: 1 << 20 })) for (const l of batch) { // 1 MiB reads: fewer awaits on big files
    const oversize = oversizeIssue(l, file);
    if (oversize) {
      yield { line: l.line, offset: l.offset, issues: [oversize] };
      continue;
    }
    if (l.text.trim() === '') continue;
    const result = parseTaskLine(l.text, file, l.line, l.offset, l.utf8);
    if (result.item) {
      const duplicate = duplicates.check(result.item, l.line, result.idFromContent === true, l.offset);
      if (duplicate) {
        result.issues.push(duplicate);
        result.item = undefined;
      }
    }
    yield result;
  }
}

/** All valid items of a task file, in file order, and every issue found. */
export interface TaskFile {
  items: TaskItem[];
  issues: DataIssue[];
}

/** Reads a whole task file into items (streaming the bytes; the items themselves are kept). */
export async function readTasks(path: string, options: ReadTasksOptions = {}): Promise<TaskFile> {
  const items: TaskItem[] = [];
  const issues: DataIssue[] = [];
  for await (const r of streamTasks(path, options)) {
    if (r.item) items.push(r.item);
    issues.push(...r.issues);
  }
  return { items, issues };
}
