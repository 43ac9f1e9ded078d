/**
 * Messages between the review panel's host (src/host/review) and its webview (webview/review):
 * one typed union per direction. Both sides import these with `import type` and end every switch
 * over them in `assertUnreachable`.
 */
import type { ReviewListName, ReviewReport } from '../../src/core/review/types';

export type { ReviewListName, ReviewReport };

/** Where the model scores behind `report.flagged` came from when they were loaded from disk (a reload). */
export interface ScoresStatus {
  /** ISO time the scores were computed. */
  scoredAt: string;
  /** The log or task file changed since: the flagged list may be out of date. */
  stale: boolean;
  /** "scored before 3 newer judgments — re-score" (empty when fresh). */
  note: string;
}

/** Host → webview. */
export type ReviewHostToWebview =
  /** A fresh report (initial load, after a new judgment in the log, after scoring). */
  | { type: 'report'; report: ReviewReport; scoresStatus?: ScoresStatus }
  /** Long work in progress (model scoring); `message: null` clears it. */
  | { type: 'busy'; message: string | null }
  /** The host appended the confirm event (fsync'd) for this entry. */
  | { type: 'confirmed'; list: ReviewListName; item: string }
  /** A failure to show to the user (also shown as a VS Code notification). */
  | { type: 'error'; message: string };

/** Webview → host. */
export type ReviewWebviewToHost =
  /** The webview is listening: send the current report. */
  | { type: 'ready' }
  /** Re-read the task file and log and recompute the lists. */
  | { type: 'refresh' }
  /** Open the item in the annotator to re-annotate it (the new judgment supersedes). */
  | { type: 'reannotate'; item: string }
  /** The label is right: append a `confirm` event with this list as reason. */
  | { type: 'confirm'; list: ReviewListName; item: string }
  /** Save the model-flagged list as JSONL (the host opens a save dialog). */
  | { type: 'exportFlagged' }
  /** Score pairs with a model: the host asks for a run or model folder. */
  | { type: 'scoreModel' };
