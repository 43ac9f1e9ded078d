/**
 * The events of a training run: what the worker emits (to the parent over IPC when forked, else one JSON
 * object per stdout line) and always appends to runs/RUN_ID/metrics.jsonl, and how a line is read back.
 * What the parent sends the worker is in worker/protocol.ts. Every switch over TrainEvent ends in
 * `assertUnreachable` (src/core/assertUnreachable.ts).
 */
import type { ResolvedTrainConfig } from '../config';

/** Metric name (TRL names: loss, rewards/chosen, …, grad_norm, learning_rate, epoch, num_tokens) → value. */
export type Metrics = Record<string, number>;

/** Fields common to every event. */
interface EventBase {
  /** ISO-8601 time the event was emitted. */
  ts: string;
}

/** The run started: the fully resolved config, the backend in use and where the run lives. */
export interface StartedEvent extends EventBase {
  type: 'started';
  runId: string;
  runDir: string;
  backend: string;
  config: ResolvedTrainConfig;
  /** Optimizer steps the run will take in total (stage `stage`). */
  totalSteps: number;
  /** Which stage of the run this is: 'sft' warm-up of the built-in model, the main method, or a SPIN iteration. */
  stage: string;
  /** Step the stage starts from (> 0 when resumed). */
  startStep: number;
  /** Where the steps run (absent in runs recorded before executors existed: tfjs). */
  executor?: 'tfjs' | 'torch';
  /** torch: device names, processes and precision in use. */
  devices?: string[];
  processes?: number;
  precision?: string;
  /**
   * Every stage of the run in order with its step count, known before the first step (e.g. the built-in
   * model's SFT warm-up, then DPO), so a viewer can show the stages still to come. Absent from runs written
   * before it was added; SPIN's iterations have no count up front.
   */
  stages?: StagePlan[];
}

/** One stage of a run's plan. */
export interface StagePlan {
  stage: string;
  /** Optimizer steps of the stage; absent when only known once it starts (SPIN). */
  totalSteps?: number;
}

/** One optimizer step: that step's own metrics (never smoothed). */
export interface StepEvent extends EventBase {
  type: 'step';
  stage: string;
  step: number;
  totalSteps: number;
  /** loss, rewards/*, logps/*, grad_norm, learning_rate, epoch, num_tokens, tokens_per_second, eta_seconds… */
  metrics: Metrics;
}

/** Held-out evaluation: metrics carry the `eval_` prefix. */
export interface EvalEvent extends EventBase {
  type: 'eval';
  stage: string;
  step: number;
  metrics: Metrics;
}

/** A checkpoint folder was written. */
export interface CheckpointEvent extends EventBase {
  type: 'checkpoint';
  stage: string;
  step: number;
  path: string;
  /** Why: periodic, cancel, final, or stage end. */
  reason: 'periodic' | 'cancel' | 'final' | 'stage';
}

/** A human-readable message. */
export interface LogEvent extends EventBase {
  type: 'log';
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
}

/** The run ended normally (or was cancelled cleanly: `cancelled` true). */
export interface FinishedEvent extends EventBase {
  type: 'finished';
  summary: {
    runDir: string;
    steps: number;
    cancelled: boolean;
    /** Last step's metrics and last eval's metrics. */
    final: Metrics;
    /** Path of the final (or cancel) checkpoint. */
    checkpoint?: string;
    /** The final model folder (finished runs; LoRA runs: adapters merged in). */
    model?: string;
    /** LoRA runs: the trained adapters' folder (PEFT layout), RUN/adapter. */
    adapter?: string;
    seconds: number;
    [k: string]: unknown;
  };
}

/** The run failed: the error message (clear, user-facing) and the stack for debugging. */
export interface FailedEvent extends EventBase {
  type: 'failed';
  error: string;
  stack?: string;
  /** The last good checkpoint, when one exists. */
  lastCheckpoint?: string;
}

export type TrainEvent = StartedEvent | StepEvent | EvalEvent | CheckpointEvent | LogEvent | FinishedEvent | FailedEvent;
export type TrainEventType = TrainEvent['type'];

const EVENT_TYPES: readonly TrainEventType[] = ['started', 'step', 'eval', 'checkpoint', 'log', 'finished', 'failed'];

/** True when a decoded JSON value is an event (an object with a known `type`). */
export function isTrainEvent(v: unknown): v is TrainEvent {
  return !!v && typeof v === 'object' && EVENT_TYPES.includes((v as { type: TrainEventType }).type);
}

/** Parses one metrics.jsonl / stdout line into an event, or throws naming the line. */
export function parseEventLine(line: string, where = 'event'): TrainEvent {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    throw new Error(`${where}: not JSON: ${(e as Error).message}`);
  }
  if (!isTrainEvent(v)) throw new Error(`${where}: type: expected one of ${EVENT_TYPES.join(', ')}`);
  return v;
}
