/**
 * Lazy random-access index over a task file: one streaming pass records each non-blank line's byte
 * offset and length and parses it once for its id; item i is then read by fetching just its bytes.
 * Items are available while the pass is still running (`items()` yields them as found; `get(i)` waits
 * only until line i is indexed), so the editor shows the first item of a 100,000-item file long before
 * the whole index is built. Duplicate ids follow the readers' rule (DuplicateIds in tasks.ts): the pass
 * has seen every earlier line by the time line i is indexed, so a later line with a taken id comes back
 * from `get(i)` as that issue, with no item, exactly as `readTasks` reports it.
 */
import { oversizeIssue, readJsonlLines, readLineAt } from './jsonl';
import { requiredAnnotators } from './assignment';
import { itemContains, mayContain, normalizeQuery } from './search';
import { DuplicateIds, parseTaskLine } from './tasks';
import type { DataIssue, TaskItem } from './types';

/** One indexed entry: a non-blank line of the task file. */
export interface TaskIndexEntry {
  line: number;
  offset: number;
  byteLength: number;
  /** The item's id; null for a bad line or a line skipped as a duplicate. */
  id: string | null;
  /** Set when the line's id was taken by an earlier line (its item is skipped). */
  duplicate?: DataIssue;
  /** Set when the line's bytes are not valid UTF-8 (reported as by the readers: see parseTaskLine). */
  notUtf8?: true;
  /** Set when the line is over the readers' length limit: its issue (the line is never read). */
  oversize?: DataIssue;
  /** Annotators the item asks for (its `overlap`, assignment.ts), when it says. */
  needs?: number;
}

/** Random access to a task file's items by position (0-based over non-blank lines). */
export class TaskIndex {
  private readonly entries: TaskIndexEntry[] = [];
  private done = false;
  private failure: unknown;
  private waiters: (() => void)[] = [];
  /** Resolves when the whole file has been indexed (rejects if reading failed). */
  readonly complete: Promise<number>;

  private constructor(readonly path: string, readonly displayName: string) {
    this.complete = this.build();
    this.complete.catch(() => undefined); // failures surface through get()/items() too
  }

  /** Starts indexing `path` in the background and returns at once. */
  static open(path: string, displayName: string = path): TaskIndex {
    return new TaskIndex(path, displayName);
  }

  private async build(): Promise<number> {
    try {
      let sinceWake = 0;
      const duplicates = new DuplicateIds(this.displayName);
      for await (const l of readJsonlLines(this.path, { chunkSize: 256 * 1024 })) {
        const oversize = oversizeIssue(l, this.displayName);
        if (oversize) {
          this.entries.push({ line: l.line, offset: l.offset, byteLength: l.byteLength, id: null, oversize });
          continue;
        }
        if (l.text.trim() === '') continue;
        const { item, idFromContent } = parseTaskLine(l.text, this.displayName, l.line, l.offset, l.utf8);
        const duplicate = item ? duplicates.check(item, l.line, idFromContent === true) : undefined;
        const id = item && !duplicate ? item.id : null;
        const needs = item && id !== null ? requiredAnnotators(item) : undefined;
        this.entries.push({ line: l.line, offset: l.offset, byteLength: l.byteLength, id, ...(duplicate ? { duplicate } : {}), ...(l.utf8 ? {} : { notUtf8: true as const }),
          ...(needs !== undefined ? { needs } : {}) });
        if (++sinceWake >= 256 || this.entries.length <= 16) {
          sinceWake = 0;
          this.wake();
        }
      }
      return this.entries.length;
    } catch (err) {
      this.failure = err;
      throw err;
    } finally {
      this.done = true;
      this.wake();
    }
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Waits until entry i exists or indexing has finished. */
  private async waitFor(i: number): Promise<void> {
    while (i >= this.entries.length && !this.done) await new Promise<void>((resolve) => this.waiters.push(resolve));
    if (this.failure !== undefined) throw this.failure;
  }

  /** Number of entries indexed so far (the final count once `complete` resolved). */
  get count(): number {
    return this.entries.length;
  }

  /** True once the whole file has been indexed. */
  get isComplete(): boolean {
    return this.done;
  }

  /** The line number and byte range of entry i (waits for the pass to reach it). */
  async entry(i: number): Promise<TaskIndexEntry | undefined> {
    await this.waitFor(i);
    return this.entries[i];
  }

  /** The id of entry i (waits for the pass to reach it); null for a bad or duplicate line or past the end. */
  async idAt(i: number): Promise<string | null> {
    return (await this.entry(i))?.id ?? null;
  }

  /** The annotators entry i asks for (undefined: it does not say, or past the end). */
  async needsAt(i: number): Promise<number | undefined> {
    return (await this.entry(i))?.needs;
  }

  /**
   * Reads and parses entry i. Returns its item (undefined for a bad line or a duplicate id) and the
   * line's issues (a duplicate id's issue included).
   */
  async get(i: number): Promise<{ item?: TaskItem; issues: DataIssue[]; line: number } | undefined> {
    const e = await this.entry(i);
    if (!e) return undefined;
    if (e.oversize) return { issues: [e.oversize], line: e.line };
    const text = await readLineAt(this.path, e.offset, e.byteLength);
    const r = parseTaskLine(text, this.displayName, e.line, e.offset, e.notUtf8 !== true);
    if (e.duplicate) return { issues: [...r.issues, e.duplicate], line: e.line };
    return { item: r.item, issues: r.issues, line: e.line };
  }

  /**
   * The positions of the items, from entry `from` on in file order, whose text contains `query` (search.ts):
   * streams the file from that entry's bytes (parsing only the lines `mayContain` keeps), so a search over a
   * large file costs one sequential read, not one random read per item.
   */
  matches(query: string, from = 0): AsyncGenerator<number> {
    const q = normalizeQuery(query);
    return this.scan((item) => q !== '' && itemContains(item, q), from, (raw) => q !== '' && mayContain(raw, q));
  }

  /**
   * The positions, from entry `from` on in file order, of the items `test` accepts: one sequential read from
   * that entry's bytes; `mayMatch` (on a line's raw text) can skip parsing lines that cannot match.
   */
  async *scan(test: (item: TaskItem) => boolean, from = 0, mayMatch: (raw: string) => boolean = () => true): AsyncGenerator<number> {
    const start = await this.entry(from);
    if (!start) return;
    let index = from;
    for await (const l of readJsonlLines(this.path, { startOffset: start.offset, startLine: start.line, chunkSize: 256 * 1024 })) {
      if (l.text.trim() === '') continue;
      const i = index++;
      if (!mayMatch(l.text)) continue;
      const e = await this.entry(i);
      if (!e || e.id === null) continue; // a bad line or a skipped duplicate
      const { item } = parseTaskLine(l.text, this.displayName, l.line, l.offset, l.utf8);
      if (item && test(item)) yield i;
    }
  }

  /** Yields every entry's parse result in order, as soon as each is indexed. */
  async *items(): AsyncGenerator<{ index: number; item?: TaskItem; issues: DataIssue[]; line: number }> {
    for (let i = 0; ; i++) {
      const r = await this.get(i);
      if (!r) return;
      yield { index: i, ...r };
    }
  }
}
