/**
 * Typed messages between the extension host and the annotator webview (one union per direction).
 * The host owns the data: it sends a snapshot of ONE item at a time plus progress counts; the webview
 * renders it and posts user intents. Requests carry a `requestId` (a counter chosen by the webview);
 * the host's reply to that request repeats it. Both sides end every switch in `assertUnreachable`.
 * Other panels (loss panel, review) may add their own sections/files; this file is imported with
 * `import type` only.
 */
import type { Judgment, PairChoice, Prompt } from '../../src/core/types';

/** Which items the flow visits (next/previous/next-unannotated honour it). */
export type ItemFilter = 'all' | 'unannotated' | 'annotated' | 'disagreed' | 'flagged';
export const ITEM_FILTERS: readonly ItemFilter[] = ['all', 'unannotated', 'annotated', 'disagreed', 'flagged'];

/** Counts for the progress bar: judged items of this annotator over all items in the file. */
export interface Progress {
  /** Items with a current (not undone) judgment by this annotator. */
  done: number;
  /** Items in the task file so far (still growing while `indexing`). */
  total: number;
  /** True while the background pass that counts lines is still running. */
  indexing: boolean;
  /** Judgments other annotators appended to the log since this editor opened (absent: none). */
  fromOthers?: number;
}

/** One task item as the webview shows it. Responses keep the file's order; `shown` is the display order. */
export interface ItemView {
  /** 0-based position in the task file (counting every non-blank line, bad ones too). */
  index: number;
  id: string;
  /** 1-based line number in the task file. */
  line: number;
  prompt: Prompt;
  /**
   * Responses in file order. `model` (who wrote it) is sent only when this annotator has a current judgment
   * of the item, so a blind comparison never shows model names before the item is judged.
   */
  responses: { text: string; model?: string }[];
  /** Display order: `shown[p]` is the response index displayed at position p (A = position 0). */
  shown: number[];
  /** This annotator's current judgment of the item (response indices), if any. */
  mine?: Judgment;
  /**
   * Other annotators with a current judgment of this item, whether the annotators disagree, and their
   * judgments (response indices): sent only once this annotator has judged the item, or with the setting
   * dapStudio.showOtherJudgments (adjudication); before that 0 / false / absent, so they cannot anchor.
   */
  others: number;
  disagreed: boolean;
  otherJudgments?: { annotator: string; ranking: number[][]; bothBad: boolean }[];
  /** This annotator's flag on the item. */
  flagged: boolean;
  /** The item's `meta` (and other keys the file adds), every value as text; absent when it has none. */
  meta?: Record<string, string>;
}

/** Only items whose meta `key` reads `value` (the annotator's meta filter). */
export interface MetaFilter {
  key: string;
  value: string;
}

/** A task line that could not be read: shown in place of the item, the rest of the file stays usable. */
export interface ItemProblem {
  index: number;
  file: string;
  line: number;
  field: string;
  message: string;
}

/** What the webview posts as a judgment. Rankings are groups of RESPONSE indices, best first. */
export type JudgmentInput =
  | { kind: 'pair'; shown: number[]; choice: PairChoice }
  | { kind: 'rank'; shown: number[]; ranking: number[][] };

/** Where to go: relative moves honour the current filter. */
export type NavTarget =
  | { kind: 'next' }
  | { kind: 'prev' }
  | { kind: 'nextUnannotated' }
  | { kind: 'skip' }
  | { kind: 'resume' }
  | { kind: 'index'; index: number }
  | { kind: 'id'; id: string };

/** Settings and names the webview needs. */
export interface AnnotatorConfig {
  annotator: string;
  /** `dapStudio.confirmWithEnter`: a choice only selects; Enter confirms. */
  confirmWithEnter: boolean;
  /** Task file name (for the title). */
  fileName: string;
  /** Annotation log file name (shown in the status line). */
  logFileName: string;
}

/** Webview state persisted with `vscode.setState` (survives hide/restore and window reload). */
export interface AnnotatorWebviewState {
  index: number;
  itemId?: string;
  filter: ItemFilter;
  raw: boolean;
  diff: boolean;
  /** Judgments, undos and flags the host could not save (e.g. a full disk), oldest first: kept for Retry. */
  unsaved?: SaveRequest[];
  /** The meta filter in force, if any. */
  metaFilter?: MetaFilter;
  /** The guidelines pane is open (undefined: open when there are guidelines). */
  guidelinesOpen?: boolean;
}

/** A request that appends to the annotation log (answered by `saved` or `notSaved`). */
export type SaveRequest = Extract<AnnotatorWebviewToHost, { type: 'judge' | 'undo' | 'flag' }>;

export type AnnotatorHostToWebview =
  | { type: 'init'; config: AnnotatorConfig }
  | {
      type: 'item';
      requestId?: number;
      /** The item at the new position, or null with a problem or a notice. */
      item: ItemView | null;
      problem?: ItemProblem;
      /** Shown when nothing matched (e.g. "no unannotated item after #12"). */
      notice?: string;
      progress: Progress;
      filter: ItemFilter;
      /** The meta filter in force (absent: none). */
      metaFilter?: MetaFilter;
    }
  | { type: 'saved'; requestId: number; itemId: string; kind: 'pair' | 'rank' | 'undo' | 'flag'; progress: Progress }
  /** The append of request `requestId` failed (nothing was written or acknowledged); `message` says why (e.g. the disk is full). */
  | { type: 'notSaved'; requestId: number; itemId: string; message: string }
  | { type: 'progress'; progress: Progress }
  | { type: 'config'; config: AnnotatorConfig }
  /** The task file's guidelines (NAME.guidelines.md beside it): Markdown, or null when there is none yet. */
  | { type: 'guidelines'; fileName: string; markdown: string | null }
  | { type: 'error'; requestId?: number; message: string };

export type AnnotatorWebviewToHost =
  | { type: 'ready'; restore?: AnnotatorWebviewState }
  | { type: 'navigate'; requestId: number; target: NavTarget }
  | {
      type: 'judge';
      requestId: number;
      itemId: string;
      judgment: JudgmentInput;
      note?: string;
      /** Milliseconds from the item being shown to the judgment. */
      ms: number;
      /** Move to the next item of the filter once saved. */
      advance: boolean;
    }
  | { type: 'undo'; requestId: number; itemId: string }
  | { type: 'flag'; requestId: number; itemId: string; flagged: boolean }
  | { type: 'setFilter'; requestId: number; filter: ItemFilter }
  /** Find the next (1) or previous (-1) item whose prompt or responses contain `query`, wrapping around. */
  | { type: 'search'; requestId: number; query: string; direction: 1 | -1 }
  /** Visit only items with this meta value (null: all items again). */
  | { type: 'setMetaFilter'; requestId: number; metaFilter: MetaFilter | null }
  | { type: 'trainDpo' }
  /** Create (if missing) and open the task file's guidelines file. */
  | { type: 'createGuidelines' }
  | { type: 'openLog' };
