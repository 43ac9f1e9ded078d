/**
 * Review of a self-labelled file without annotations: a compiled TRL pairs file (standard,
 * conversational or implicit prompt) or RRHF rows with scores, whose labels are the rows themselves.
 * Each row becomes one item with one judgment by annotator "source" (chosen over rejected, or the score
 * groups), so the model-flagged list can score them. Rows are never dropped: a compiled export repeats
 * an item's id on each of its pair rows, so a repeated id gets the suffix `@<line>`.
 */
import { readJsonlLines } from '../jsonl';
import { parseTaskLine } from '../tasks';
import type { DataIssue, Judgment, TaskItem } from '../types';

/** The annotator name of labels read from the rows. */
export const SOURCE_ANNOTATOR = 'source';

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
    if (l.text.trim() === '') continue;
    const result = parseTaskLine(l.text, path, l.line, l.offset, l.utf8);
    issues.push(...result.issues);
    const item = result.item;
    if (!item) continue;
    if (!item.sourcePreference) return undefined;
    if (seen.has(item.id)) item.id = `${item.id}@${l.line}`;
    seen.add(item.id);
    items.push(item);
    judgments.push({
      item: item.id,
      annotator: SOURCE_ANNOTATOR,
      ranking: item.sourcePreference,
      bothBad: false,
      ts: '',
      kind: item.responses.length > 2 ? 'rank' : 'pair',
    });
  }
  return items.length > 0 ? { items, judgments, issues } : undefined;
}
