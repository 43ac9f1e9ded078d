/**
 * Finding items by text: an item matches a query when its prompt (a string, or any message of a chat
 * prompt) or any of its responses contains the query, ignoring case. `mayContain` is a cheap test on a
 * task line's raw JSON that never says no to a line whose item matches, so a scan can skip parsing most
 * lines (plain-ASCII queries only: JSON writes those characters as they are, unless a line uses \u escapes).
 */
import type { TaskItem } from './types';

/** The query as compared: trimmed, lower-cased. */
export function normalizeQuery(query: string): string {
  return query.trim().toLocaleLowerCase();
}

/** True when the prompt or a response of `item` contains `query` (already normalized), ignoring case. */
export function itemContains(item: Pick<TaskItem, 'prompt' | 'responses'>, query: string): boolean {
  if (query === '') return false;
  const has = (text: string) => text.toLocaleLowerCase().includes(query);
  if (typeof item.prompt === 'string' ? has(item.prompt) : item.prompt.some((m) => has(m.content))) return true;
  return item.responses.some((r) => has(r.text));
}

/** False only when the raw JSON `line` cannot hold an item containing `query` (normalized). */
export function mayContain(line: string, query: string): boolean {
  if (!/^[\x20-\x7e]*$/.test(query) || query.includes('"') || query.includes('\\')) return true;
  return line.includes('\\u') || line.toLocaleLowerCase().includes(query);
}
