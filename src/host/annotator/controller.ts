/**
 * The annotator's host-side logic for one open editor, without `vscode`: answers the webview's
 * messages (webview/protocol/annotator.ts) from a lazily indexed task file and the annotation log. It keeps the
 * current position and filter, appends every judgment/undo/flag to the log (fsync'd by the sink)
 * BEFORE replying `saved`, and sends the webview ONE item at a time with progress counts. Model names of
 * responses are withheld until this annotator has judged the item (blind comparisons).
 */
import type { AnnotationEvent, DataIssue, PairEvent, RankEvent, TaskItem } from '../../core/types';
import type { ItemFilter, ItemView, JudgmentInput, MetaFilter, NavTarget, Progress, AnnotatorWebviewToHost } from '../../../webview/protocol/annotator';
import { assertUnreachable } from '../../core/assertUnreachable';
import { displayOrder } from '../../core/displayOrder';
import { requiredAnnotators, stillOpen } from '../../core/assignment';
import { findText, findWithMeta, metaMatches, metaView } from './finding';
import { ItemStates } from '../../core/judgments';
import type { ControllerOptions } from './ports';

/** Thrown by the controller's append after it reported `notSaved` (ends the request quietly). */
class NotSaved extends Error {}

function isIssue(x: TaskItem | DataIssue): x is DataIssue {
  return (x as DataIssue).severity !== undefined && (x as TaskItem).responses === undefined;
}

export class AnnotatorController {
  readonly states = new ItemStates();
  private position = 0;
  private filter: ItemFilter = 'all';
  /** Only items with this meta value (a clicked meta chip), or none. */
  private meta: MetaFilter | null = null;
  /** Item ids judged in this session, most recent last (what z undoes first). */
  private readonly undoStack: string[] = [];
  /** Ids of entries read so far (undefined: not read yet; null: a bad line). */
  private readonly ids: (string | null | undefined)[] = [];
  private readonly now: () => Date;
  private queue: Promise<void> = Promise.resolve();
  private showOthers: boolean;
  /** Judgments other annotators appended while this editor is open. */
  private fromOthers = 0;

  constructor(private readonly opts: ControllerOptions) {
    for (const e of opts.existing) this.states.apply(e);
    this.now = opts.now ?? (() => new Date());
    this.showOthers = opts.showOthers ?? false;
  }

  /**
   * Events other annotators appended to the log while this editor is open (coreAdapter's followLog): applied
   * to the state, so "next" no longer serves an item that has got its judgments meanwhile. The item on
   * screen is left as it is (a ranking being edited is not reset); progress is sent.
   */
  applyExternal(events: readonly AnnotationEvent[]): void {
    for (const e of events) {
      this.states.apply(e);
      if (e.kind === 'pair' || e.kind === 'rank') this.fromOthers++;
    }
    this.opts.post({ type: 'progress', progress: this.progress() });
  }

  /** The setting changed: applies to the next item shown (the caller re-shows the current one). */
  setShowOthers(show: boolean): void {
    this.showOthers = show;
  }

  /** True when this annotator may see the other annotators' judgments of `id` (judged it, or adjudicating). */
  private othersVisible(id: string): boolean {
    return this.showOthers || this.states.current(id, this.opts.annotator) !== undefined;
  }

  /** Current 0-based position (persisted by the webview; used by tests). */
  get index(): number {
    return this.position;
  }

  progress(): Progress {
    return {
      done: this.states.doneBy(this.opts.annotator),
      total: this.opts.tasks.count(),
      indexing: this.opts.tasks.indexing(),
      ...(this.fromOthers > 0 ? { fromOthers: this.fromOthers } : {}),
    };
  }

  /**
   * Handles one webview message; messages are handled one at a time in arrival order (a judgment is
   * on disk before the next key's message is looked at). Errors are reported to the webview, never thrown.
   */
  handle(msg: AnnotatorWebviewToHost): Promise<void> {
    const run = async () => {
      try {
        await this.dispatch(msg);
      } catch (err) {
        if (err instanceof NotSaved) return; // already reported as notSaved
        const requestId = 'requestId' in msg ? msg.requestId : undefined;
        this.opts.post({ type: 'error', requestId, message: err instanceof Error ? err.message : String(err) });
      }
    };
    this.queue = this.queue.then(run);
    return this.queue;
  }

  private async dispatch(msg: AnnotatorWebviewToHost): Promise<void> {
    switch (msg.type) {
      case 'ready': {
        const r = msg.restore;
        if (r) this.filter = r.filter;
        if (r?.metaFilter) this.meta = r.metaFilter;
        if (r && (await this.opts.tasks.has(r.index)) && (r.itemId === undefined || (await this.idAt(r.index)) === r.itemId)) {
          await this.show(r.index);
        } else await this.navigate({ kind: 'resume' });
        return;
      }
      case 'navigate':
        return this.navigate(msg.target, msg.requestId);
      case 'judge':
        return this.judge(msg.requestId, msg.itemId, msg.judgment, msg.ms, msg.note, msg.advance);
      case 'undo':
        return this.undo(msg.requestId, msg.itemId);
      case 'flag': {
        await this.append(msg.requestId, { v: 1, item: msg.itemId, annotator: this.opts.annotator, ts: this.now().toISOString(), kind: 'flag', flagged: msg.flagged });
        this.opts.post({ type: 'saved', requestId: msg.requestId, itemId: msg.itemId, kind: 'flag', progress: this.progress() });
        return;
      }
      case 'search':
        return this.search(msg.query, msg.direction, msg.requestId);
      case 'setMetaFilter':
        this.meta = msg.metaFilter;
        if (!this.meta || (await this.matchesMeta(this.position))) return this.show(this.position, msg.requestId);
        return this.navigate({ kind: 'next' }, msg.requestId);
      case 'setFilter':
        this.filter = msg.filter;
        if (await this.matches(this.position)) return this.show(this.position, msg.requestId);
        return this.navigate({ kind: 'next' }, msg.requestId);
      case 'trainDpo':
      case 'openLog':
      case 'createGuidelines':
        return; // handled by the vscode layer
      default:
        assertUnreachable(msg);
    }
  }

  /**
   * Appends `event` (written + fsync'd before anything is confirmed) and applies it. When the append fails
   * (a full disk, a log that cannot be written) nothing is applied, the webview gets `notSaved` for the
   * request (it keeps the judgment for Retry) and NotSaved is thrown to stop the request's handling.
   */
  private async append(requestId: number, event: AnnotationEvent): Promise<void> {
    try {
      await this.opts.sink.append(event);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.opts.post({ type: 'notSaved', requestId, itemId: event.item, message });
      this.opts.onNotSaved?.(message);
      throw new NotSaved();
    }
    this.states.apply(event);
  }

  private async judge(requestId: number, itemId: string, j: JudgmentInput, ms: number, note: string | undefined, advance: boolean): Promise<void> {
    const entry = await this.opts.tasks.get(this.position);
    if (isIssue(entry) || entry.id !== itemId) throw new Error(`item ${itemId} is not the one shown (#${this.position + 1}); nothing saved`);
    const n = entry.responses.length;
    const shown = displayOrder(this.opts.annotator, itemId, n);
    if (j.shown.length !== n || j.shown.some((r, p) => r !== shown[p])) throw new Error(`display order ${JSON.stringify(j.shown)} does not match the item's; nothing saved`);
    const base = { v: 1 as const, item: itemId, annotator: this.opts.annotator, ts: this.now().toISOString() };
    const extra = { ...(note ? { note } : {}), ms: Math.max(0, Math.round(ms)) };
    let event: PairEvent | RankEvent;
    if (j.kind === 'pair') {
      if (n !== 2) throw new Error(`item ${itemId} has ${n} responses: rank it instead`);
      event = { ...base, kind: 'pair', shown, choice: j.choice, ...extra };
    } else {
      const flat = j.ranking.flat();
      const ok = flat.length === n && new Set(flat).size === n && flat.every((r) => Number.isInteger(r) && r >= 0 && r < n) && j.ranking.every((g) => g.length > 0);
      if (!ok) throw new Error(`ranking ${JSON.stringify(j.ranking)} must place each of the ${n} responses once; nothing saved`);
      event = { ...base, kind: 'rank', shown, ranking: j.ranking.map((g) => [...g]), ...extra };
    }
    await this.append(requestId, event);
    this.undoStack.push(itemId);
    this.opts.post({ type: 'saved', requestId, itemId, kind: event.kind, progress: this.progress() });
    if (advance) {
      // On to the next item that still needs this annotator — or a line that cannot be read, which is shown
      // — skipping items done by them or complete (core/assignment.ts); a narrower filter: its next item.
      if (this.filter !== 'all') return this.navigate({ kind: 'next' }, requestId, true);
      if (this.meta) return this.navigate({ kind: 'nextUnannotated' }, requestId, true); // within the meta filter
      for (let i = this.position + 1; await this.opts.tasks.has(i); i++) {
        if ((await this.idAt(i)) === null || (await this.matches(i, 'unannotated'))) return this.show(i, requestId);
      }
      return this.show(this.position, requestId, `Saved. No item after #${this.position + 1} needs a judgment from ${this.opts.annotator}.`);
    }
    // Staying on the item: send it again, now judged (with its model names, when it has them).
    if (entry.responses.some((r) => r.model)) await this.show(this.position, requestId);
  }

  private async undo(requestId: number, itemId: string): Promise<void> {
    const me = this.opts.annotator;
    while (this.undoStack.length && !this.states.current(this.undoStack[this.undoStack.length - 1], me)) this.undoStack.pop();
    const target = this.undoStack.pop() ?? (itemId && this.states.current(itemId, me) ? itemId : undefined);
    if (!target) throw new Error('nothing to undo: you have not judged this item');
    try {
      await this.append(requestId, { v: 1, item: target, annotator: me, ts: this.now().toISOString(), kind: 'undo' });
    } catch (err) {
      this.undoStack.push(target); // not undone: it stays the next one to undo
      throw err;
    }
    this.opts.post({ type: 'saved', requestId, itemId: target, kind: 'undo', progress: this.progress() });
    await this.navigate({ kind: 'id', id: target }, requestId);
  }

  /** True when entry `index` passes the meta filter (reads the item). */
  private async matchesMeta(index: number): Promise<boolean> {
    if (!this.meta) return true;
    if (!(await this.opts.tasks.has(index))) return false;
    const entry = await this.opts.tasks.get(index);
    return !isIssue(entry) && metaMatches(entry, this.meta);
  }

  /** Annotators entry `index` asks for (undefined: every annotator). */
  private async needsAt(index: number): Promise<number | undefined> {
    if (this.opts.tasks.needsAt) return this.opts.tasks.needsAt(index);
    const entry = await this.opts.tasks.get(index);
    return isIssue(entry) ? undefined : requiredAnnotators(entry);
  }

  /**
   * Goes to the next (direction 1) or previous (-1) item after the current one whose prompt or responses
   * contain `query`, wrapping around the file; stays with a notice when none does. One or two sequential
   * reads of the file (the previous match: one pass from the top).
   */
  private async search(query: string, direction: 1 | -1, requestId: number): Promise<void> {
    const here = this.position;
    const q = query.trim();
    if (q === '') return this.show(here, requestId, 'Type some text to find.');
    const { to, wrapped } = await findText(this.opts.tasks, q, here, direction);
    if (to < 0) return this.show(here, requestId, `No item contains "${q}".`);
    const where = wrapped ? (direction === 1 ? ' (from the top)' : ' (from the end)') : '';
    return this.show(to, requestId, to === here ? `"${q}" is only in this item.` : `"${q}": #${to + 1}${where}.`);
  }

  /** Id of entry `index` (null for a bad line), cached. */
  private async idAt(index: number): Promise<string | null> {
    const cached = this.ids[index];
    if (cached !== undefined) return cached;
    let id: string | null;
    if (this.opts.tasks.idAt) id = await this.opts.tasks.idAt(index);
    else {
      const entry = await this.opts.tasks.get(index);
      id = isIssue(entry) ? null : entry.id;
    }
    this.ids[index] = id;
    return id;
  }

  private async matches(index: number, filter: ItemFilter = this.filter): Promise<boolean> {
    if (!(await this.opts.tasks.has(index))) return false;
    if (filter === 'all') return true;
    const id = await this.idAt(index);
    if (id === null) return false;
    const me = this.opts.annotator;
    switch (filter) {
      case 'unannotated': // not judged by you, and still short of the annotators the item asks for
        return !this.states.current(id, me) && stillOpen(await this.needsAt(index), this.states.judgmentsOf(id).length);
      case 'annotated':
        return !!this.states.current(id, me);
      case 'disagreed': // without the adjudication setting: only items this annotator judged too
        return this.othersVisible(id) && this.states.disagreed(id, this.opts.tauThreshold);
      case 'flagged':
        return this.states.flagged(id, me);
      default:
        return assertUnreachable(filter);
    }
  }

  /** First matching index from `start` stepping by `step`, or -1 (within the meta filter, when one is set). */
  private async find(start: number, step: 1 | -1, filter: ItemFilter = this.filter): Promise<number> {
    if (this.meta) return findWithMeta(this.opts.tasks, this.meta, start, step, (i) => this.matches(i, filter));
    for (let i = start; i >= 0 && (await this.opts.tasks.has(i)); i += step) if (await this.matches(i, filter)) return i;
    return -1;
  }

  async navigate(target: NavTarget, requestId?: number, afterJudgment = false): Promise<void> {
    const here = this.position;
    let to = -1;
    let notice: string | undefined;
    switch (target.kind) {
      case 'next':
        to = await this.find(here + 1, 1);
        if (to < 0) notice = afterJudgment ? `Saved. No ${this.filter === 'all' ? '' : this.filter + ' '}item after #${here + 1}.` : `No ${this.filter === 'all' ? '' : this.filter + ' '}item after #${here + 1}.`;
        break;
      case 'prev':
        to = here > 0 ? await this.find(here - 1, -1) : -1;
        if (to < 0) notice = `No ${this.filter === 'all' ? '' : this.filter + ' '}item before #${here + 1}.`;
        break;
      case 'nextUnannotated':
      case 'skip':
        to = await this.find(here + 1, 1, 'unannotated');
        if (to < 0) to = await this.find(0, 1, 'unannotated');
        if (to === here && target.kind === 'skip') to = -1;
        if (to < 0) notice = `No item needs a judgment from ${this.opts.annotator} (${this.progress().done} done by you; items that ask for N annotators and have them are not served).`;
        break;
      case 'resume':
        to = await this.find(0, 1, 'unannotated');
        if (to < 0) {
          to = (await this.opts.tasks.has(0)) ? 0 : -1;
          notice = to < 0 ? 'The task file has no items.' : `No item needs a judgment from ${this.opts.annotator}: showing the first.`;
        }
        break;
      case 'index':
        to = target.index >= 0 && (await this.opts.tasks.has(target.index)) ? target.index : -1;
        if (to < 0) notice = `There is no item #${target.index + 1} (the file has ${this.opts.tasks.count()}).`;
        break;
      case 'id':
        to = await this.indexOfId(target.id);
        if (to < 0 && /^\d+$/.test(target.id) && (await this.opts.tasks.has(Number(target.id) - 1))) to = Number(target.id) - 1;
        if (to < 0) notice = `No item with id "${target.id}".`;
        break;
      default:
        assertUnreachable(target);
    }
    if (to >= 0) return this.show(to, requestId, notice);
    // Nothing to move to: keep the current item on screen, with the notice.
    return this.show(here, requestId, notice);
  }

  private async indexOfId(id: string): Promise<number> {
    const known = this.ids.indexOf(id);
    if (known >= 0) return known;
    for (let i = 0; ; i++) {
      const here = this.ids[i] !== undefined || (await this.opts.tasks.has(i));
      if (!here) return -1;
      if ((await this.idAt(i)) === id) return i;
    }
  }

  /** Sends the entry at `index` (an item, or a problem for a bad line). */
  async show(index: number, requestId?: number, notice?: string): Promise<void> {
    const progress = this.progress();
    if (!(await this.opts.tasks.has(index))) {
      this.opts.post({ type: 'item', requestId, item: null, notice: notice ?? 'The task file has no items.', progress, filter: this.filter, ...(this.meta ? { metaFilter: this.meta } : {}) });
      return;
    }
    this.position = index;
    const entry = await this.opts.tasks.get(index);
    if (isIssue(entry)) {
      this.ids[index] = null;
      const problem = { index, file: entry.file, line: entry.line, field: entry.field, message: entry.message };
      this.opts.post({ type: 'item', requestId, item: null, problem, notice, progress, filter: this.filter, ...(this.meta ? { metaFilter: this.meta } : {}) });
      return;
    }
    this.ids[index] = entry.id;
    const me = this.opts.annotator;
    const mine = this.states.current(entry.id, me);
    const visible = this.othersVisible(entry.id);
    const item: ItemView = {
      index,
      id: entry.id,
      line: entry.line,
      prompt: entry.prompt,
      // Blind: who wrote a response is revealed only once this annotator has judged the item.
      responses: entry.responses.map((r) => ({ text: r.text, ...(r.model && mine ? { model: r.model } : {}) })),
      shown: displayOrder(me, entry.id, entry.responses.length),
      mine,
      others: visible ? this.states.others(entry.id, me) : 0,
      disagreed: visible && this.states.disagreed(entry.id, this.opts.tauThreshold),
      ...(visible
        ? {
            otherJudgments: this.states
              .judgmentsOf(entry.id)
              .filter((j) => j.annotator !== me)
              .map((j) => ({ annotator: j.annotator, ranking: j.ranking.map((g) => [...g]), bothBad: j.bothBad })),
          }
        : {}),
      flagged: this.states.flagged(entry.id, me),
      ...(metaView(entry.meta) ? { meta: metaView(entry.meta) } : {}),
    };
    this.opts.post({ type: 'item', requestId, item, notice, progress, filter: this.filter, ...(this.meta ? { metaFilter: this.meta } : {}) });
  }
}
