/**
 * Typed messages between the extension host and the loss panel webview (one union per direction).
 * The host forwards every training event it sees (live from the worker, or replayed from a run's
 * metrics.jsonl) unchanged and in order; the webview keeps every point and draws the charts. A panel
 * shows one run, or several runs side by side when comparing. Imported with `import type` only.
 */
import type { TrainEvent } from '../../src/train/runs/events';

/** One run shown in the panel. */
export interface LossPanelRun {
  /** Run id (the folder name under the runs directory). */
  runId: string;
  /** Absolute path of the run folder. */
  runDir: string;
  /** True while a worker started by this window trains it (the Cancel button is offered). */
  live: boolean;
}

/** Host → webview. */
export type LossHostToWebview =
  /** The runs this panel shows; replaces earlier runs and forgets their points. */
  | { type: 'runs'; runs: LossPanelRun[] }
  /** Events of one run, in emission order; `replay` marks events read back from metrics.jsonl. */
  | { type: 'events'; runId: string; events: TrainEvent[]; replay: boolean }
  /** The run's worker is gone (finished, failed, cancelled or killed): no Cancel button any more. */
  | { type: 'ended'; runId: string };

/** Webview → host. */
export type LossWebviewToHost =
  /** The page is ready for `runs` and `events` (sent once per load). */
  | { type: 'ready' }
  /** Stop the run: the worker checkpoints and exits. */
  | { type: 'cancel'; runId: string }
  /** Run `dapStudio.review` on the run's data with the run folder. */
  | { type: 'review'; runId: string }
  /** Copy the run's model (LoRA: the merged model or the adapter, picked on the host) to a folder the user picks. */
  | { type: 'exportModel'; runId: string }
  /** Show the run's checkpoint folder in the OS file manager. */
  | { type: 'revealCheckpoint'; runId: string }
  /** Greedy answers of the run's model and its starting model on the held-out prompts, opened blind in the annotator. */
  | { type: 'evaluate'; runId: string }
  /** Candidates of the run's model on the training prompts, to judge and train the next round from. */
  | { type: 'nextRound'; runId: string };

/** What the webview persists with setState (and the panel serializer reads back after a reload). */
export interface LossPanelState {
  /** Run folders shown, in order. */
  runDirs: string[];
  /** EMA smoothing weight in [0, 1). */
  smoothing: number;
  /** Stage whose curves are shown ('' = the latest stage). */
  stage: string;
}
