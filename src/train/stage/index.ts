/**
 * The training loop of one stage (SFT warm-up, a DAP method, or a SPIN iteration): seeded data order,
 * micro-batches with gradient accumulation, the loss from the registry, global-norm clipping, AdamW with
 * warm-up + decay, a NaN/Inf guard (stops before applying a bad update; the last checkpoint stays good),
 * periodic held-out evaluation, checkpoints every N steps and on cancel, exact resume. Every optimizer step
 * emits its own event with that step's loss (no smoothing), tokens/s and ETA.
 */
import * as tf from '@tensorflow/tfjs-core';
import { buildBatch, disposeBatch, sequenceLogps, type BatchOptions } from '../../engine/logps';
import type { TransformerLM } from '../../engine/transformer';
import type { EngineTokenizer } from '../../engine/types';
import { join } from 'node:path';
import { ADAPTERS, layoutOf } from './batching';
import type { ExamplesByKind } from '../data/index';
import type { TrainEvent } from '../runs/events';
import { getLoss } from '../losses/index';
import type { DataKind, LossHyper, RefLogps } from '../losses/types';
import { AdamW, clipScale, globalGradNorm } from './optimizer';
import { refTensors, type RefTable } from './reference';
import { Rng, deriveSeed, shuffledIndices } from '../../core/random';
import { learningRateAt } from './schedule';
import { loggedFinalMetrics } from '../runs/folder';
import { checkBatchMemory } from './memoryCheck';
import { tokenMetrics } from './tokenMetrics';
import { readTrainerState, writeCheckpoint, type TrainerState } from './checkpoints';

/** Where reference log-probs come from (absent for reference-free losses). */
export type ReferenceSource = { kind: 'precomputed'; train: RefTable; eval: RefTable } | { kind: 'live'; model: TransformerLM };

/** An event without its timestamp (the sink adds it). */
export type EventSink = (e: DistributiveOmit<TrainEvent, 'ts'>) => void;
type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

/** Everything one stage needs. */
export interface StageOptions<K extends DataKind> {
  /** Name used in events and checkpoint folders ('sft', 'dpo', 'spin-1', …). */
  stage: string;
  kind: K;
  /** Loss registry name. */
  loss: string;
  hyper: LossHyper;
  model: TransformerLM;
  tokenizer: EngineTokenizer;
  train: ExamplesByKind[K][];
  eval: ExamplesByKind[K][];
  reference?: ReferenceSource;
  /** Passes over train (stops earlier at maxSteps). */
  epochs: number;
  maxSteps?: number;
  batchSize: number;
  gradAccum: number;
  lr: number;
  schedule: 'constant' | 'linear' | 'cosine';
  warmupRatio: number;
  maxGradNorm: number;
  weightDecay: number;
  batchOptions: BatchOptions;
  /** 0 = four times per stage. */
  evalEvery: number;
  /** 0 = only at the end and on cancel. */
  checkpointEvery: number;
  ktoKl: 'mismatched' | 'batch';
  seed: number;
  runDir: string;
  emit: EventSink;
  /** Polled after every step; true = checkpoint and stop. */
  shouldStop: () => boolean;
  /** Checkpoint folder to continue from (its model weights, or adapters, must already be loaded into `model`). */
  resumeFrom?: string;
  /** Base model folder a LoRA stage's checkpoints name in their adapter_config.json (default: the model's source folder). */
  loraBase?: string;
}

/** How a stage ended. */
export interface StageResult {
  steps: number;
  cancelled: boolean;
  /** Last step's metrics merged with the last eval's. */
  final: Record<string, number>;
  checkpoint?: string;
}

/** Resolves on the next macrotask: tensor reads on cpu/wasm resolve as microtasks and never yield. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((res) => setImmediate(res));
}

/** Raised by the NaN/Inf guard. */
export class NonFiniteError extends Error {}

/** Steps a stage takes: ceil(N / (batch·accum)) per epoch, capped by maxSteps. */
export function stageSteps(n: number, epochs: number, batchSize: number, gradAccum: number, maxSteps?: number): number {
  const perEpoch = Math.ceil(n / (batchSize * gradAccum));
  const total = perEpoch * epochs;
  return maxSteps ? Math.min(total, maxSteps) : total;
}

/** The seeded example order of an epoch. */
export function epochOrder(n: number, seed: number, epoch: number): number[] {
  return shuffledIndices(n, new Rng(deriveSeed(seed, epoch + 1)));
}

/**
 * Running weighted means of metrics over micro-batches: a step's (or the held-out set's) value of a metric is
 * the mean of its micro-batch values weighted by their number of examples, over the micro-batches that have
 * it (a micro-batch without, say, undesirable KTO rows gives no logits/rejected).
 */
class MetricMeans {
  private sums: Record<string, number> = {};
  private weights: Record<string, number> = {};
  add(values: Record<string, number>, weight: number): void {
    for (const [k, v] of Object.entries(values)) {
      this.sums[k] = (this.sums[k] ?? 0) + v * weight;
      this.weights[k] = (this.weights[k] ?? 0) + weight;
    }
  }
  means(prefix = ''): Record<string, number> {
    return Object.fromEntries(Object.entries(this.sums).map(([k, v]) => [prefix + k, v / this.weights[k]]));
  }
}

async function scalars(m: Record<string, tf.Scalar>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(m)) out[k] = (await v.data())[0];
  return out;
}

/** Loss inputs + loss of examples `idx` of `examples` in one forward pass (call inside a gradient scope or tidy). */
function forwardLoss<K extends DataKind>(o: StageOptions<K>, examples: ExamplesByKind[K][], idx: number[], table: RefTable | undefined) {
  const layout = layoutOf(o.kind, examples, idx, o.ktoKl);
  const batch = buildBatch(o.tokenizer, layout.sequences, o.batchOptions);
  try {
    checkBatchMemory(o, batch.rows.length, batch.length);
  } catch (e) {
    disposeBatch(batch);
    throw e;
  }
  const tokens = batch.rows.reduce((a, r) => a + r.promptIds.length + r.completionIds.length, 0);
  const spec = getLoss(o.loss);
  let ref: RefLogps | undefined;
  if (spec.needsReference) {
    if (!o.reference) throw new Error(`loss "${o.loss}" needs a reference model`);
    if (o.reference.kind === 'live') {
      const l = sequenceLogps(o.reference.model, batch);
      l.count.dispose();
      ref = { sum: l.sum, mean: l.mean };
    } else ref = refTensors(table as RefTable, idx, layout);
  }
  const sub = idx.map((i) => examples[i]);
  const run = () => {
    const l = sequenceLogps(o.model, batch, { tokenStats: true });
    const out = spec.fn(ADAPTERS[o.kind].inputs(l, ref, layout, sub) as never, o.hyper);
    return { loss: out.loss, metrics: { ...out.metrics, ...tokenMetrics(l, ADAPTERS[o.kind].roles(layout, sub)) } };
  };
  const cleanup = () => {
    disposeBatch(batch);
    if (ref) tf.dispose([ref.sum, ref.mean]);
  };
  return { run, cleanup, tokens };
}

/** Held-out metrics (eval_ prefix), averaged over examples. */
export async function evaluate<K extends DataKind>(o: StageOptions<K>): Promise<Record<string, number>> {
  const totals = new MetricMeans();
  const table = o.reference?.kind === 'precomputed' ? o.reference.eval : undefined;
  for (let start = 0; start < o.eval.length; start += o.batchSize) {
    const idx = Array.from({ length: Math.min(o.batchSize, o.eval.length - start) }, (_, i) => start + i);
    const f = forwardLoss(o, o.eval, idx, table);
    const out = tf.tidy(() => {
      const r = f.run();
      return { loss: r.loss, ...r.metrics };
    }) as Record<string, tf.Scalar>;
    f.cleanup();
    const vals = await scalars(out);
    tf.dispose(Object.values(out));
    totals.add(vals, idx.length);
  }
  return totals.means('eval_');
}

/** Runs one stage to completion, cancel or failure (NonFiniteError). */
export async function runStage<K extends DataKind>(o: StageOptions<K>): Promise<StageResult> {
  const N = o.train.length;
  if (N === 0) throw new Error(`stage ${o.stage}: no training examples`);
  const totalSteps = stageSteps(N, o.epochs, o.batchSize, o.gradAccum, o.maxSteps);
  const vars = o.model.trainableVariables();
  const optimizer = new AdamW(vars, { weightDecay: o.weightDecay });
  const sched = { lr: o.lr, warmupSteps: Math.round(o.warmupRatio * totalSteps), totalSteps, kind: o.schedule };
  const evalEvery = o.evalEvery > 0 ? o.evalEvery : Math.max(1, Math.floor(totalSteps / 4));
  let state: TrainerState = { stage: o.stage, step: 0, epoch: 0, cursor: 0, totalSteps, numTokens: 0, seed: o.seed };
  if (o.resumeFrom) {
    state = readTrainerState(o.resumeFrom);
    if (state.stage !== o.stage) throw new Error(`${o.resumeFrom}: checkpoint of stage "${state.stage}", expected "${o.stage}"`);
    if (state.step >= totalSteps) {
      // The stage's final checkpoint (a crash came after it was written): nothing to train or to write again.
      optimizer.dispose();
      return { steps: state.step, cancelled: false, final: loggedFinalMetrics(o.runDir, o.stage), checkpoint: o.resumeFrom };
    }
    optimizer.load(join(o.resumeFrom, 'optimizer.safetensors'));
  }
  const table = o.reference?.kind === 'precomputed' ? o.reference.train : undefined;
  let order = epochOrder(N, o.seed, state.epoch);
  let last: Record<string, number> = {};
  let lastEval: Record<string, number> = {};
  let lastCheckpoint: string | undefined = o.resumeFrom;
  const started = Date.now();
  const startStep = state.step;
  const checkpoint = async (reason: 'periodic' | 'cancel' | 'final') => {
    lastCheckpoint = await writeCheckpoint(o.runDir, o.model, optimizer, state, o.loraBase);
    o.emit({ type: 'checkpoint', stage: o.stage, step: state.step, path: lastCheckpoint, reason });
  };
  try {
    while (state.step < totalSteps) {
      if (state.cursor >= N) {
        state.epoch += 1;
        state.cursor = 0;
        order = epochOrder(N, o.seed, state.epoch);
      }
      const t0 = Date.now();
      const slice = order.slice(state.cursor, state.cursor + o.batchSize * o.gradAccum);
      let accum: tf.Tensor[] | null = null;
      const means = new MetricMeans();
      let tokens = 0;
      for (let m = 0; m < slice.length; m += o.batchSize) {
        const idx = slice.slice(m, m + o.batchSize);
        const weight = idx.length / slice.length;
        const f = forwardLoss(o, o.train, idx, table);
        tokens += f.tokens;
        let kept: Record<string, tf.Scalar> = {};
        const { value, grads } = tf.variableGrads(() => {
          const r = f.run();
          kept = Object.fromEntries(Object.entries({ loss: r.loss, ...r.metrics }).map(([k, v]) => [k, tf.keep(tf.clone(v))]));
          return tf.mul(r.loss, weight) as tf.Scalar;
        }, vars);
        f.cleanup();
        value.dispose();
        const g = vars.map((v) => grads[v.name] ?? tf.zerosLike(v)); // a variable the loss does not use gets 0
        if (accum === null) accum = g;
        else {
          const prev: tf.Tensor[] = accum;
          accum = prev.map((a, i) => tf.add(a, g[i]));
          tf.dispose([...prev, ...g]);
        }
        const vals = await scalars(kept);
        tf.dispose(Object.values(kept));
        means.add(vals, weight);
      }
      const sums = means.means();
      const grads = accum as tf.Tensor[];
      const gradNorm = await globalGradNorm(grads);
      if (!Number.isFinite(sums.loss) || !Number.isFinite(gradNorm)) {
        tf.dispose(grads);
        throw new NonFiniteError(`stage ${o.stage}, step ${state.step + 1}: loss is ${sums.loss}, gradient norm is ${gradNorm}: training stopped before applying the update (lower the learning rate or check the data)`);
      }
      const lr = learningRateAt(state.step, sched);
      optimizer.apply(grads, lr, clipScale(gradNorm, o.maxGradNorm));
      tf.dispose(grads);
      state.step += 1;
      state.cursor += slice.length;
      state.numTokens += tokens;
      const secs = (Date.now() - t0) / 1000;
      const avg = (Date.now() - started) / 1000 / (state.step - startStep);
      last = {
        ...sums, grad_norm: gradNorm, learning_rate: lr, epoch: state.epoch + state.cursor / N, num_tokens: state.numTokens,
        tokens_per_second: tokens / Math.max(secs, 1e-6), step_seconds: secs, eta_seconds: avg * (totalSteps - state.step),
      };
      o.emit({ type: 'step', stage: o.stage, step: state.step, totalSteps, metrics: last });
      await yieldToEventLoop(); // lets IPC messages, signals and event writes through (cancel)
      if (o.eval.length > 0 && (state.step % evalEvery === 0 || state.step === totalSteps)) {
        lastEval = await evaluate(o);
        o.emit({ type: 'eval', stage: o.stage, step: state.step, metrics: lastEval });
      }
      if (o.shouldStop()) {
        await checkpoint('cancel');
        return { steps: state.step, cancelled: true, final: { ...last, ...lastEval }, checkpoint: lastCheckpoint };
      }
      if (o.checkpointEvery > 0 && state.step % o.checkpointEvery === 0 && state.step < totalSteps) await checkpoint('periodic');
    }
    await checkpoint('final');
    return { steps: state.step, cancelled: false, final: { ...last, ...lastEval }, checkpoint: lastCheckpoint };
  } catch (e) {
    if (e instanceof Error) (e as Error & { lastCheckpoint?: string }).lastCheckpoint = lastCheckpoint;
    throw e;
  } finally {
    optimizer.dispose();
  }
}
