/**
 * In-memory view of an annotation log for the editor: per item, each annotator's judgment stack (an
 * undo pops the latest; a new judgment pushes, superseding) and flag, updated one event at a time so
 * the editor answers "judged? flagged? disagreed?" without re-reading the log. Follows the log rules
 * of src/core/judgments.ts (same stack rule, same judgmentFromEvent); pure (no vscode).
 */
import { judgmentFromEvent } from '../../core/judgments';
import type { AnnotationEvent, Judgment } from '../../core/types';

/** Canonical text of a judgment's content (groups sorted inside) to compare two annotators. */
export function judgmentKey(j: Judgment): string {
  return (j.bothBad ? 'bad:' : '') + JSON.stringify(j.ranking.map((g) => [...g].sort((x, y) => x - y)));
}

interface AnnotatorItemState {
  stack: Judgment[];
  flagged: boolean;
}

export class ItemStates {
  /** item id → annotator → state. */
  private readonly byItem = new Map<string, Map<string, AnnotatorItemState>>();
  /** annotator → number of items with a current judgment. */
  private readonly doneCount = new Map<string, number>();

  apply(e: AnnotationEvent): void {
    let perItem = this.byItem.get(e.item);
    if (!perItem) this.byItem.set(e.item, (perItem = new Map()));
    let s = perItem.get(e.annotator);
    if (!s) perItem.set(e.annotator, (s = { stack: [], flagged: false }));
    const before = s.stack.length > 0;
    switch (e.kind) {
      case 'pair':
      case 'rank':
        s.stack.push(judgmentFromEvent(e));
        break;
      case 'undo':
        s.stack.pop();
        break;
      case 'flag':
        s.flagged = e.flagged;
        break;
      case 'confirm':
        break;
    }
    const after = s.stack.length > 0;
    if (before !== after) this.doneCount.set(e.annotator, (this.doneCount.get(e.annotator) ?? 0) + (after ? 1 : -1));
  }

  current(item: string, annotator: string): Judgment | undefined {
    const stack = this.byItem.get(item)?.get(annotator)?.stack;
    return stack && stack.length ? stack[stack.length - 1] : undefined;
  }

  flagged(item: string, annotator: string): boolean {
    return this.byItem.get(item)?.get(annotator)?.flagged ?? false;
  }

  /** Other annotators with a current judgment of the item. */
  others(item: string, annotator: string): number {
    let n = 0;
    for (const [who, s] of this.byItem.get(item) ?? []) if (who !== annotator && s.stack.length) n++;
    return n;
  }

  /** True when at least two annotators' current judgments of the item differ. */
  disagreed(item: string): boolean {
    const keys = new Set<string>();
    for (const s of this.byItem.get(item)?.values() ?? []) if (s.stack.length) keys.add(judgmentKey(s.stack[s.stack.length - 1]));
    return keys.size > 1;
  }

  /** Items this annotator has a current judgment of (ids in the log, whether or not in the task file). */
  doneBy(annotator: string): number {
    return this.doneCount.get(annotator) ?? 0;
  }
}
