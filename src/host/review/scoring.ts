/**
 * What the review panel scores pairs with, and how that becomes the worker's `score` request
 * (src/train/worker/protocol.ts) with the same defaults as `dap review`. The scoring itself runs in the
 * worker process (src/train/worker/scoringJob.ts), never in the extension host.
 */
import { basename } from 'node:path';
import { isRunFolder } from '../../train/runs/folder';
import { SCORING_DEFAULTS, type ScoreRequest } from '../../train/flagging/scores';
import type { ScoreMessage } from '../../train/worker/protocol';

/** What to score with (see `dap review --help`). */
export type ScoreSource =
  /** A training run folder: its final policy vs its reference, held-out split marked. */
  | { kind: 'run'; dir: string }
  /** One model folder, reference-free (mean log-prob difference). */
  | { kind: 'model'; dir: string }
  /** k-fold DPO from the built-in model (or `dir`): every pair scored by a model that did not train on it. */
  | { kind: 'kfold'; k: number; dir?: string };

/** The request `dap review --run DIR | --model DIR | --k K [--model DIR]` makes, with its default settings. */
export function scoreRequestOf(source: ScoreSource): ScoreRequest {
  switch (source.kind) {
    case 'run':
      return { kind: 'run', dir: source.dir, beta: SCORING_DEFAULTS.beta };
    case 'model':
      return { kind: 'reference_free', model: source.dir, seed: SCORING_DEFAULTS.seed };
    case 'kfold':
      return { kind: 'kfold', k: source.k, ...(source.dir ? { model: source.dir } : {}), beta: SCORING_DEFAULTS.beta, epochs: SCORING_DEFAULTS.epochs, seed: SCORING_DEFAULTS.seed };
  }
}

/** The worker's `score` message for a task file, its log and a source (built-in SFT epochs as `dap review`). */
export function scoreMessageOf(taskFile: string, logFile: string, source: ScoreSource): Omit<ScoreMessage, 'type'> {
  return { taskFile, logFile, request: scoreRequestOf(source), backend: 'auto', train: { sftEpochs: SCORING_DEFAULTS.sftEpochs } };
}

/** A short description for progress titles. */
export function describeSource(source: ScoreSource): string {
  return source.kind === 'kfold' ? `${source.k}-fold DPO${source.dir ? ` from ${basename(source.dir)}` : ''}` : `${source.kind} ${basename(source.dir)}`;
}

/** A run folder (src/train/runs/folder.ts's rule) scores as a run; any other folder is a model. */
export function detectSource(dir: string): ScoreSource {
  return { kind: isRunFolder(dir) ? 'run' : 'model', dir };
}
