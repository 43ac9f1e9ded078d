/**
 * The annotator's task file read by position (no vscode): the TaskSource interface the core adapter
 * implements over the lazily built index, and TaskEntries, which answers what the controller asks of an entry
 * without reading more than it needs — its id (null for a bad line, cached as entries are read or shown),
 * the position of an id, and how many annotators the entry asks for.
 */
import { requiredAnnotators } from '../../core/assignment';
import type { DataIssue, TaskItem } from '../../core/types';

/** Random access to a task file's entries (each non-blank line is one entry; bad lines are issues). */
export interface TaskSource {
  /** Entries indexed so far. */
  count(): number;
  /** True while the index is still being built. */
  indexing(): boolean;
  /** Resolves true once entry `index` exists, false if the file has fewer entries. */
  has(index: number): Promise<boolean>;
  get(index: number): Promise<TaskItem | DataIssue>;
  /** Id of entry `index` (null for a bad line) without reading the whole item; optional fast path. */
  idAt?(index: number): Promise<string | null>;
  /** Annotators entry `index` asks for (core/assignment.ts), without reading the whole item; optional fast path. */
  needsAt?(index: number): Promise<number | undefined>;
  /** Positions from `from` on whose prompt or responses contain `query` (core/search.ts), in file order. */
  matches(query: string, from: number): AsyncIterable<number>;
  /** Positions from `from` on of the items `test` accepts, in file order. */
  scan(test: (item: TaskItem) => boolean, from: number): AsyncIterable<number>;
}

/** True for an entry that is a bad line's issue, not an item. */
export function isIssue(x: TaskItem | DataIssue): x is DataIssue {
  return (x as DataIssue).severity !== undefined && (x as TaskItem).responses === undefined;
}

/** Ids and needs of a task source's entries, read once. */
export class TaskEntries {
  /** Ids of entries read so far (undefined: not read yet; null: a bad line). */
  private readonly ids: (string | null | undefined)[] = [];

  constructor(private readonly tasks: TaskSource) {}

  /** Records the id of entry `index` (read whole elsewhere, e.g. to show it). */
  remember(index: number, id: string | null): void {
    this.ids[index] = id;
  }

  /** Id of entry `index` (null for a bad line), cached. */
  async idAt(index: number): Promise<string | null> {
    const cached = this.ids[index];
    if (cached !== undefined) return cached;
    let id: string | null;
    if (this.tasks.idAt) id = await this.tasks.idAt(index);
    else {
      const entry = await this.tasks.get(index);
      id = isIssue(entry) ? null : entry.id;
    }
    this.ids[index] = id;
    return id;
  }

  /** Position of the entry with `id`, or -1: the ids known first, then reading on from the top. */
  async indexOfId(id: string): Promise<number> {
    const known = this.ids.indexOf(id);
    if (known >= 0) return known;
    for (let i = 0; ; i++) {
      const here = this.ids[i] !== undefined || (await this.tasks.has(i));
      if (!here) return -1;
      if ((await this.idAt(i)) === id) return i;
    }
  }

  /** Annotators entry `index` asks for (undefined: every annotator). */
  async needsAt(index: number): Promise<number | undefined> {
    if (this.tasks.needsAt) return this.tasks.needsAt(index);
    const entry = await this.tasks.get(index);
    return isIssue(entry) ? undefined : requiredAnnotators(entry);
  }
}
