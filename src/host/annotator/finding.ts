/**
 * Finding items for the annotator (no vscode): by text (the find box) and by a meta value (clicking a meta
 * chip filters the flow). Both stream the task file from a position (TaskSource.matches / scan): forward
 * from the current item, or one pass from the top for "previous"; both wrap around or say nothing matched.
 */
import type { TaskItem } from '../../core/types';
import type { MetaFilter } from '../../../webview/protocol/annotator';

/** The ways a task source can be read in file order from a position. */
export interface Scannable {
  matches(query: string, from: number): AsyncIterable<number>;
  scan(test: (item: TaskItem) => boolean, from: number): AsyncIterable<number>;
}


/** A meta value as the annotator shows it and a filter compares it. */
export function metaText(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** Item meta as the webview shows it: every value as text. */
export function metaView(meta: Record<string, unknown> | undefined): Record<string, string> | undefined {
  if (!meta || Object.keys(meta).length === 0) return undefined;
  return Object.fromEntries(Object.entries(meta).map(([k, v]) => [k, metaText(v)]));
}

/** True when `item` passes the meta filter. */
export function metaMatches(item: Pick<TaskItem, 'meta'>, f: MetaFilter): boolean {
  return item.meta !== undefined && Object.hasOwn(item.meta, f.key) && metaText(item.meta[f.key]) === f.value;
}

/**
 * The next (direction 1, after `here`) or previous (-1, before it) item whose prompt or responses contain
 * `query`, wrapping around; -1 when none does (`to` may be `here` itself when it is the only one).
 */
export async function findText(tasks: Scannable, query: string, here: number, direction: 1 | -1): Promise<{ to: number; wrapped: boolean }> {
  if (direction === 1) {
    for await (const i of tasks.matches(query, here + 1)) return { to: i, wrapped: false };
    for await (const i of tasks.matches(query, 0)) return { to: i, wrapped: true };
    return { to: -1, wrapped: false };
  }
  // One pass from the top: the last match before `here`, else (wrapping) the last one in the file.
  let before = -1;
  let last = -1;
  for await (const i of tasks.matches(query, 0)) {
    if (i < here) before = i;
    last = i;
  }
  return before >= 0 ? { to: before, wrapped: false } : { to: last, wrapped: last >= 0 };
}

/**
 * The first item from `start` stepping by `step` (1: start, start+1 …; −1: start, start−1 … 0) that passes
 * the meta filter and `accept` (the status filter), or −1.
 */
export async function findWithMeta(tasks: Scannable, f: MetaFilter, start: number, step: 1 | -1, accept: (i: number) => Promise<boolean>): Promise<number> {
  if (start < 0) return -1;
  const test = (item: TaskItem) => metaMatches(item, f);
  if (step === 1) {
    for await (const i of tasks.scan(test, start)) if (await accept(i)) return i;
    return -1;
  }
  let found = -1;
  for await (const i of tasks.scan(test, 0)) {
    if (i > start) break;
    if (await accept(i)) found = i;
  }
  return found;
}
