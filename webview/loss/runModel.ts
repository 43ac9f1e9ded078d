/**
 * The loss panel's data: every event of every shown run folded into per-stage point lists (all points
 * kept, never decimated), plus the run's status, summary, error and log, its LoRA settings (read as the runs
 * view reads them, src/train/runs/lora.ts) and the worker's trainable-params line per stage. Pure TypeScript
 * (no DOM, no Svelte) so that the chart code and the tests read the same numbers.
 */
import type { FinishedEvent, StagePlan, TrainEvent } from '../../src/train/runs/events';
import { loraOf, type LoraSettings } from '../../src/train/runs/lora';
import { assertUnreachable } from '../../src/core/assertUnreachable';

/** Points of one stage: train steps and eval steps with their metrics, in arrival order. */
export interface StageData {
  name: string;
  totalSteps: number;
  /** Step number of each train point. */
  steps: number[];
  /** Metric name → value per train point (NaN where that step did not report it). */
  train: Map<string, number[]>;
  /** Step number of each eval point. */
  evalSteps: number[];
  /** Metric name (with its `eval_` prefix) → value per eval point (NaN where missing). */
  eval: Map<string, number[]>;
}

export type RunStatus = 'waiting' | 'running' | 'finished' | 'cancelled' | 'failed';

/** Everything the panel knows about one run. */
export interface RunData {
  runId: string;
  runDir: string;
  live: boolean;
  status: RunStatus;
  backend?: string;
  /** Where the steps run: tfjs (runs recorded before executors existed say nothing: tfjs) or torch, with its processes and precision. */
  executor?: string;
  method?: string;
  /** LoRA settings from the `started` event's config (absent: full fine-tuning). */
  lora?: LoraSettings;
  /** The worker's PEFT-style "trainable params: … || all params: … || trainable%: …" line per stage, in start order. */
  trainable: { stage: string; line: string }[];
  /** Stages in the order they started. */
  stages: StageData[];
  /** Every stage of the run with its step count, from the `started` event (absent for older runs). */
  plan?: StagePlan[];
  /** Last step event's metrics (for the header: ETA, tokens/s). */
  last?: { stage: string; step: number; totalSteps: number; metrics: Record<string, number> };
  summary?: FinishedEvent['summary'];
  error?: { message: string; stack?: string; lastCheckpoint?: string };
  /** Log events, oldest first (warnings and errors matter for failed runs). */
  logs: { level: string; message: string }[];
  checkpoints: { stage: string; step: number; path: string; reason: string }[];
  /** Events folded so far (the tests compare this with what was sent). */
  eventCount: number;
}

export function newRun(runId: string, runDir: string, live: boolean): RunData {
  return { runId, runDir, live, status: 'waiting', stages: [], logs: [], checkpoints: [], trainable: [], eventCount: 0 };
}

/** Splits the worker's start log "STAGE: trainable params: …" into stage and line (undefined for other logs). */
export function trainableParamsOf(message: string): { stage: string; line: string } | undefined {
  const m = /^(?:(.+?): )?(trainable params: .+)$/.exec(message);
  return m ? { stage: m[1] ?? '', line: m[2] } : undefined;
}

function stageOf(run: RunData, name: string, totalSteps = 0): StageData {
  let s = run.stages.find((x) => x.name === name);
  if (!s) {
    s = { name, totalSteps, steps: [], train: new Map(), evalSteps: [], eval: new Map() };
    run.stages.push(s);
  }
  if (totalSteps > 0) s.totalSteps = totalSteps;
  return s;
}

/** Appends one row to a column table: known columns get the value or NaN, new columns are NaN-padded. */
function appendRow(table: Map<string, number[]>, length: number, metrics: Record<string, number>): void {
  for (const [name, value] of Object.entries(metrics)) {
    if (typeof value !== 'number') continue;
    let column = table.get(name);
    if (!column) {
      column = new Array<number>(length).fill(NaN);
      table.set(name, column);
    }
    column.push(value);
  }
  for (const column of table.values()) if (column.length === length) column.push(NaN);
}

/**
 * Drops the points of `s` from step `step` on: a resumed run repeats the steps after its checkpoint (a crash
 * came later), and the repeat replaces them, so every stage's steps stay increasing.
 */
function truncateFrom(s: StageData, step: number): void {
  const keep = (steps: number[]) => {
    let n = steps.length;
    while (n > 0 && steps[n - 1] >= step) n--;
    return n;
  };
  const train = keep(s.steps), evals = keep(s.evalSteps);
  s.steps.length = train;
  for (const column of s.train.values()) column.length = train;
  s.evalSteps.length = evals;
  for (const column of s.eval.values()) column.length = evals;
}

/** Folds one event into the run. */
export function applyEvent(run: RunData, e: TrainEvent): void {
  run.eventCount++;
  switch (e.type) {
    case 'started': {
      run.status = 'running';
      run.backend = e.backend;
      run.executor = `${e.executor ?? 'tfjs'}${e.processes && e.processes > 1 ? ` × ${e.processes}` : ''}${e.precision ? ` ${e.precision}` : ''}`;
      run.method = e.config?.method;
      run.lora = loraOf(e.config);
      run.error = undefined; // a resumed attempt after a failure
      if (e.stages) run.plan = e.stages;
      stageOf(run, e.stage, e.totalSteps);
      break;
    }
    case 'step': {
      if (run.status === 'waiting') run.status = 'running';
      const s = stageOf(run, e.stage, e.totalSteps);
      if (s.steps.length > 0 && e.step <= s.steps[s.steps.length - 1]) truncateFrom(s, e.step);
      appendRow(s.train, s.steps.length, e.metrics);
      s.steps.push(e.step);
      run.last = { stage: e.stage, step: e.step, totalSteps: e.totalSteps, metrics: e.metrics };
      break;
    }
    case 'eval': {
      const s = stageOf(run, e.stage);
      appendRow(s.eval, s.evalSteps.length, e.metrics);
      s.evalSteps.push(e.step);
      break;
    }
    case 'checkpoint':
      run.checkpoints.push({ stage: e.stage, step: e.step, path: e.path, reason: e.reason });
      break;
    case 'log': {
      run.logs.push({ level: e.level, message: e.message });
      const trainable = trainableParamsOf(e.message);
      if (trainable) run.trainable.push(trainable);
      break;
    }
    case 'finished':
      run.summary = e.summary;
      run.status = e.summary.cancelled ? 'cancelled' : 'finished';
      run.live = false;
      break;
    case 'failed':
      run.error = { message: e.error, stack: e.stack, lastCheckpoint: e.lastCheckpoint };
      run.status = 'failed';
      run.live = false;
      break;
    default:
      assertUnreachable(e);
  }
}

/** The stage to show: the requested one when the run has it, else the run's latest stage. */
export function pickStage(run: RunData, wanted: string): StageData | undefined {
  return run.stages.find((s) => s.name === wanted) ?? run.stages[run.stages.length - 1];
}

/**
 * Exponential moving average with TensorBoard's de-biasing: s_t = w·s_{t−1} + (1−w)·x_t, divided by
 * (1 − w^n) after n finite values, so the first points are not pulled towards 0. NaN inputs stay NaN
 * and do not advance the average. w = 0 returns the values unchanged.
 */
export function ema(values: readonly number[], weight: number): number[] {
  if (!(weight > 0)) return values.slice();
  const out = new Array<number>(values.length);
  let acc = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (!Number.isFinite(x)) {
      out[i] = NaN;
      continue;
    }
    acc = weight * acc + (1 - weight) * x;
    n++;
    out[i] = acc / (1 - Math.pow(weight, n));
  }
  return out;
}

/** A metric value for tables and legends: 4 significant digits, exponent form for tiny/huge values. */
export function formatValue(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  return Number(v.toPrecision(4)).toString();
}
