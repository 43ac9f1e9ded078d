/**
 * The annotator controller's ports (no vscode): the task file as random access to its entries plus
 * sequential scans, the annotation log's fsync'd append side, and everything else the controller is given.
 * coreAdapter.ts implements the first two on the data core; tests implement them on real files too.
 */
import type { AnnotationEvent, DataIssue, TaskItem } from '../../core/types';
import type { AnnotatorHostToWebview } from '../../../webview/protocol/annotator';

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

/** The annotation log's append side: resolves only once the line is written and fsync'd. */
export interface EventSink {
  append(event: AnnotationEvent): Promise<void>;
}

/** Everything the controller needs; `post` delivers a message to the webview. */
export interface ControllerOptions {
  tasks: TaskSource;
  sink: EventSink;
  /** Events already in the log (read once at open). */
  existing: Iterable<AnnotationEvent>;
  annotator: string;
  /** Task file path, for problem messages. */
  taskFile: string;
  post: (message: AnnotatorHostToWebview) => void;
  /** Clock for event timestamps (tests pass a fixed one). */
  now?: () => Date;
  /** Called with the reason when an append fails (the vscode layer shows it as a notification too). */
  onNotSaved?: (message: string) => void;
  /** Kendall τ-b below which rankings disagree (setting dapStudio.review.tauThreshold; the review list's). */
  tauThreshold?: number;
  /** Show other annotators' judgments before this one has judged the item (dapStudio.showOtherJudgments). */
  showOthers?: boolean;
}
