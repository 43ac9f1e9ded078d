/**
 * Assignment and overlap: how many annotators an item asks for, and whether an annotator should be served
 * it. A task item says it with `"overlap": N` (a top-level key or inside `"meta"`; unknown keys land in
 * `item.meta`, so both read the same), N a positive integer. An item that says nothing is for every
 * annotator. An annotator's "next" serves an item they have not judged that is still short of its N
 * current judgments (by anyone); once N annotators judged it, the others are not asked any more.
 */
import type { TaskItem } from './types';

/** The number of annotators `item` asks for, or undefined when it does not say (or says something invalid). */
export function requiredAnnotators(item: Pick<TaskItem, 'meta'>): number | undefined {
  const v = item.meta?.overlap;
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 ? v : undefined;
}

/** Why an `overlap` value is refused (for `dap validate`), or undefined when it is valid or absent. */
export function overlapProblem(item: Pick<TaskItem, 'meta'>): string | undefined {
  const v = item.meta?.overlap;
  if (v === undefined) return undefined;
  return requiredAnnotators(item) === undefined ? `expected a positive whole number of annotators, got ${JSON.stringify(v)}` : undefined;
}

/** True when an item that asks for `needs` annotators (undefined: everyone) still wants judgments, with `judged` current ones. */
export function stillOpen(needs: number | undefined, judged: number): boolean {
  return needs === undefined || judged < needs;
}
