/**
 * Streaming task-file reader: parses every line of a task JSONL file into TaskItems (see taskFormats.ts),
 * reports each bad line as `file:line: field: problem` and keeps going, and reports duplicate ids
 * (the first item with an id is kept; later lines with the same id are reported and skipped).
 */
import { issueError } from './issues';
import { jsonErrorMessage, readJsonlLines } from './jsonl';
import { parseTaskObject } from './taskFormats';
import type { DataIssue, TaskItem } from './types';

/** One parsed line of a task file: its item (when valid) and its issues. */
export interface TaskLineResult {
  line: number;
  offset: number;
  item?: TaskItem;
  issues: DataIssue[];
}

/** Options of the task readers. */
export interface ReadTasksOptions {
  /** Name used for the file in issues (default: the path as given). */
  displayName?: string;
}

/** Parses one physical line's text (blank lines give no item and no issue). */
export function parseTaskLine(text: string, file: string, line: number, offset: number): TaskLineResult {
  if (text.trim() === '') return { line, offset, issues: [] };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { line, offset, issues: [issueError(file, line, 'line', jsonErrorMessage(err))] };
  }
  const parsed = parseTaskObject(value, { file, line, offset });
  return { line, offset, item: parsed.item, issues: parsed.issues };
}

/**
 * Streams the task file line by line (never loads it whole). Yields one result per non-blank line,
 * with duplicate-id errors added to the later line's issues (and its item dropped).
 */
export async function* streamTasks(path: string, options: ReadTasksOptions = {}): AsyncGenerator<TaskLineResult> {
  const file = options.displayName ?? path;
  const firstLineOfId = new Map<string, number>();
  for await (const l of readJsonlLines(path)) {
    if (l.text.trim() === '') continue;
    const result = parseTaskLine(l.text, file, l.line, l.offset);
    if (result.item) {
      const seen = firstLineOfId.get(result.item.id);
      if (seen !== undefined) {
        result.issues.push(issueError(file, l.line, 'id', `duplicate id "${result.item.id}" (first used on line ${seen}); line skipped`));
        result.item = undefined;
      } else firstLineOfId.set(result.item.id, l.line);
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
