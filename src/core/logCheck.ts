/**
 * Checks an annotation log against a task file's ids while streaming the log (`dap validate FILE --log
 * LOG`): each line's issues as parseLogLine reports them, then, per event, the issues resolveJudgments
 * would report (unknown item, shown response out of range, undo with nothing to retract), in log order.
 * Nothing of the log is kept but, per (item, annotator), the depth of its judgment stack (a count, not the
 * judgments), so memory stays small next to both files: the task file's ids are an IdTable (34 to 39
 * bytes an id), each annotator's depths a sparse map that turns into an array of one int per id once it
 * is dense.
 */
import { parseLogLine } from './annotationLog';
import { assertUnreachable } from './assertUnreachable';
import type { IdTable } from './idTable';
import { readJsonlLines } from './jsonl';
import { emptyUndoIssue, shownRangeIssue, unknownItemIssue } from './judgments';
import type { DataIssue } from './types';

/** What a log holds, as counted by checkLogAgainstIds. */
export interface LogCheck {
  /** Events read (valid event lines, known items or not). */
  events: number;
  /** (item, annotator) pairs with a current judgment at the end of the log. */
  judgments: number;
}

/** Judgment-stack depth per id (IdTable entry) for one annotator: a Map while sparse, an Int32Array once dense. */
class Depths {
  private sparse: Map<number, number> | null = new Map();
  private dense: Int32Array | null = null;

  constructor(private readonly ids: number) {}

  get(entry: number): number {
    return this.dense ? this.dense[entry] : (this.sparse!.get(entry) ?? 0);
  }

  set(entry: number, depth: number): void {
    if (this.dense) {
      this.dense[entry] = depth;
      return;
    }
    this.sparse!.set(entry, depth);
    if (this.sparse!.size * 8 > this.ids) { // a Map entry costs ~8 ints: the array is smaller now
      this.dense = new Int32Array(this.ids);
      for (const [s, d] of this.sparse!) this.dense[s] = d;
      this.sparse = null;
    }
  }
}

/**
 * Streams the log at `path` (`file` names it in issues) against the ids in `ids` (each stored with its
 * item's response count, as streamTasks records them), passing every issue to `onIssue` as found.
 */
export async function checkLogAgainstIds(path: string, ids: IdTable, onIssue: (issue: DataIssue) => void, file = path): Promise<LogCheck> {
  const depths = new Map<string, Depths>();
  const unknown = new Set<string>();
  let events = 0, judgments = 0;
  for await (const l of readJsonlLines(path, { chunkSize: 1 << 20 })) {
    const r = parseLogLine(l, file);
    for (const issue of r.issues) onIssue(issue);
    const e = r.event;
    if (!e) continue;
    events++;
    const entry = ids.find(e.item);
    if (entry < 0) {
      if (!unknown.has(e.item)) {
        unknown.add(e.item);
        onIssue(unknownItemIssue(file, l.line, e.item));
      }
      continue;
    }
    const range = shownRangeIssue(file, l.line, e, ids.valueAt(entry));
    if (range) {
      onIssue(range);
      continue;
    }
    let d = depths.get(e.annotator);
    if (!d) depths.set(e.annotator, (d = new Depths(ids.size)));
    const depth = d.get(entry);
    switch (e.kind) {
      case 'pair':
      case 'rank':
        d.set(entry, depth + 1);
        if (depth === 0) judgments++;
        break;
      case 'undo':
        if (depth === 0) onIssue(emptyUndoIssue(file, l.line, e));
        else {
          d.set(entry, depth - 1);
          if (depth === 1) judgments--;
        }
        break;
      case 'flag':
      case 'confirm':
        break;
      default:
        assertUnreachable(e);
    }
  }
  return { events, judgments };
}
