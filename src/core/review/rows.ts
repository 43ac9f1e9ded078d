/**
 * Review of a self-labelled file without annotations: a compiled TRL pairs file (standard,
 * conversational or implicit prompt) or RRHF rows with scores, whose labels are the rows themselves.
 * Each row becomes one item with its own judgment (judgments.ts sourceJudgment: annotator "source",
 * chosen over rejected or the score groups), so the model-flagged list can score them. Rows are never
 * dropped: a compiled export repeats an item's id on each of its pair rows, so a repeated id gets the
 * suffix `@<line>`.
 */
import { oversizeIssue, readJsonlLines } from '../jsonl';
import { sourceJudgment } from '../judgments';
import { parseTaskLine } from '../tasks';
import type { DataIssue, Judgment, TaskItem } from '../types';

/** The rows as items with their own judgments. */
export interface RowLabels {
  items: TaskItem[];
  judgments: Judgment[];
  issues: DataIssue[];
}

/**
 * Reads `path` as self-labelled rows; undefined when some valid row carries no label of its own
 * (a task row that needs annotations) or no row is valid.
 */
export async function readRowLabels(path: string): Promise<RowLabels | undefined> {
  const items: TaskItem[] = [];
  const judgments: Judgment[] = [];
  const issues: DataIssue[] = [];
  const seen = new Set<string>();
  for await (const l of readJsonlLines(path)) {
    const oversize = oversizeIssue(l, path);
    if (oversize) {
      issues.push(oversize);
      continue;
    }
    if (l.text.trim() === '') continue;
    const result = parseTaskLine(l.text, path, l.line, l.offset, l.utf8);
    issues.push(...result.issues);
    const item = result.item;
    if (!item) continue;
    if (seen.has(item.id)) item.id = `${item.id}@${l.line}`;
    const judgment = sourceJudgment(item);
    if (!judgment) return undefined;
    seen.add(item.id);
    items.push(item);
    judgments.push(judgment);
  }
  return items.length > 0 ? { items, judgments, issues } : undefined;
}
