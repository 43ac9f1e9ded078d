/**
 * Shared data types of DAP Studio's preference-data core (no `vscode` import).
 * Task items are what annotators judge; annotation events are what the append-only log holds;
 * compiled rows are what the trainer consumes (TRL's formats). See DESIGN.md §2.
 */

/** One chat message of a conversational prompt or completion. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool' | string;
  content: string;
}

/** A prompt is plain text or a chat transcript (TRL "conversational" format). */
export type Prompt = string | ChatMessage[];

/** One candidate response to a prompt. `text` is plain text (Markdown), or the assistant turn(s). */
export interface TaskResponse {
  text: string;
  /** Which model produced it, when known. */
  model?: string;
  /** Score from the source file (RRHF-style `scores`), when present. */
  score?: number;
}

/** Which input format a task line was read as. */
export type TaskSourceFormat = 'responses' | 'trl_pair' | 'trl_pair_conversational' | 'trl_pair_implicit' | 'rrhf';

/** One item to annotate: a prompt and 2+ responses. */
export interface TaskItem {
  /** The line's `id`, or a stable content hash (`h:` + hex) when absent. */
  id: string;
  prompt: Prompt;
  responses: TaskResponse[];
  /** 1-based line number in the task file. */
  line: number;
  /** Byte offset of the line's first byte in the task file. */
  offset: number;
  format: TaskSourceFormat;
  /** For TRL pairs read as tasks: the source's own label (response index 0 was `chosen`). */
  sourcePreference?: number[][];
  /** Extra fields of the source line, kept for export. */
  meta?: Record<string, unknown>;
}

/**
 * What resolving a log and the reports over it use of an item: its id and its responses (how many, and
 * each one's model). A TaskItem is one; `dap stats` on a large log keeps only this much per item.
 */
export interface ItemShape {
  id: string;
  responses: readonly { model?: string }[];
}

/** A problem found in an input file: always `file:line: field: problem`. */
export interface DataIssue {
  file: string;
  /** 1-based line of a JSONL file, or row of a Parquet / JSON export file when `unit` is 'row'. */
  line: number;
  /** 'row' for rows of a non-line file (printed `file:row N:`); absent = a line. */
  unit?: 'row';
  field: string;
  message: string;
  severity: 'error' | 'warning';
}

/** Pair choice, in terms of the *shown* order: a = shown[0], b = shown[1]. */
export type PairChoice = 'a' | 'b' | 'tie' | 'both_bad';

/**
 * One line of the annotation log (`v: 1`). Append-only: a later event by the same annotator for the
 * same item supersedes earlier ones. `kind: "undo"` retracts that annotator's latest judgment of the item;
 * `kind: "confirm"` marks a reviewed label as confirmed (review feature).
 */
export interface AnnotationEventBase {
  v: 1;
  item: string;
  annotator: string;
  /** ISO-8601 time the event was written. */
  ts: string;
  note?: string;
  /** Milliseconds spent on the judgment. */
  ms?: number;
}
export interface PairEvent extends AnnotationEventBase {
  kind: 'pair';
  /** Display order: indices into the item's responses, as shown (position-bias record). */
  shown: number[];
  choice: PairChoice;
}
export interface RankEvent extends AnnotationEventBase {
  kind: 'rank';
  shown: number[];
  /** Groups of response indices (NOT shown positions), best group first; a group holds ties. */
  ranking: number[][];
}
export interface UndoEvent extends AnnotationEventBase {
  kind: 'undo';
}
export interface ConfirmEvent extends AnnotationEventBase {
  kind: 'confirm';
  /** What was confirmed, e.g. "never_won", "disagreement", "model_flagged". */
  reason?: string;
}
export interface FlagEvent extends AnnotationEventBase {
  kind: 'flag';
  flagged: boolean;
}
export type AnnotationEvent = PairEvent | RankEvent | UndoEvent | ConfirmEvent | FlagEvent;

/** A judgment resolved to response indices: groups best first (pair a>b → [[a],[b]], tie → [[a,b]]). */
export interface Judgment {
  item: string;
  annotator: string;
  /** Best group first. For both_bad: a single group, with `bothBad` set. */
  ranking: number[][];
  bothBad: boolean;
  ts: string;
  kind: 'pair' | 'rank';
  /** The display order the annotator saw (from the event; absent for labels a file carries itself). */
  shown?: number[];
}

/** TRL preference row (standard or conversational). */
export interface TrlPairRow {
  prompt: Prompt;
  chosen: string | ChatMessage[];
  rejected: string | ChatMessage[];
  id?: string;
}
/** RRHF ranking row: higher `ranks` value = better? No: rank 0 is best (ties share a rank). */
export interface RankingRow {
  prompt: Prompt;
  responses: string[];
  ranks: number[];
  id?: string;
}
export interface SftRow {
  prompt: Prompt;
  completion: string;
  id?: string;
}
export interface KtoRow {
  prompt: Prompt;
  completion: string;
  label: boolean;
  id?: string;
}
