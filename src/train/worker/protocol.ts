/**
 * The worker protocol: what the host (or any parent) sends the worker process (dist/worker.js), and what
 * the worker sends back. A worker does one job and exits: a training run (`start`; it answers with the
 * run's events, TrainEvent in src/train/runs/events.ts, the same lines it appends to metrics.jsonl), the
 * model scores of the review lists (`score`; it answers with ScoringEvent) or generated responses
 * (`generate`; it answers with GenerationEvent). `cancel` stops any of them.
 * Parent and worker import these types; every switch over them ends in `assertUnreachable`.
 */
import type { FlagTrainOptions } from '../flagging/foldTraining';
import type { ScoreRequest } from '../flagging/scores';
import type { ResponseScores } from '../../core/review/types';
import type { TrainConfig } from '../config';
import type { GenerateJob, GenerateJobResult } from '../loop/generateJob';
import type { GenerateProgress } from '../loop/generateTasks';
import type { TorchGeneration } from '../loop/samplers';

/** Train a run with this config (when the config is not given as a file argument). */
export interface StartMessage {
  type: 'start';
  config: TrainConfig;
}

/** Score every labelled pair of a task file + log with a model (the review panel's model-flagged list). */
export interface ScoreMessage {
  type: 'score';
  taskFile: string;
  logFile: string;
  request: ScoreRequest;
  /** tfjs backend preference (default auto). */
  backend?: string;
  /** Training settings of k-fold / built-in scoring beyond the request (e.g. SFT epochs). */
  train?: Partial<Omit<FlagTrainOptions, 'seed' | 'onProgress'>>;
}

/** Generate responses (a task file, a run's evaluation or its next-round candidates: src/train/loop/generateJob.ts). */
export interface GenerateMessage {
  type: 'generate';
  job: GenerateJob;
  /** tfjs backend preference (default auto). */
  backend?: string;
  /** Generate on the torch executor instead of the tfjs engine (src/train/loop/samplers.ts). */
  torch?: TorchGeneration;
}

/**
 * Stop: a training run finishes its step, writes a checkpoint and exits 0; scoring exits at once; generation
 * stops after its current batch (what is written stays) and reports `generated` with `stopped`.
 */
export interface CancelMessage {
  type: 'cancel';
}

export type HostToWorkerMessage = StartMessage | ScoreMessage | GenerateMessage | CancelMessage;

/** What a scoring worker sends: progress lines, then `scored` or `failed`, then it exits. */
export type ScoringEvent =
  | { type: 'progress'; message: string }
  /** Per-response scores, and how they were made (the report's `flaggedMethod`). */
  | { type: 'scored'; scores: ResponseScores[]; method: string }
  /** A clear, user-facing error (the stack for debugging). */
  | { type: 'failed'; error: string; stack?: string };

/** What a generation worker sends: progress after each batch, then `generated` or `failed`, then it exits. */
export type GenerationEvent =
  | { type: 'generateProgress'; progress: GenerateProgress }
  | { type: 'generated'; result: GenerateJobResult }
  | { type: 'failed'; error: string; stack?: string };
