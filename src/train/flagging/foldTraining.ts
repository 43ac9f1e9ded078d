/**
 * Training side of model-flagged review, through the trainer's `runStage`: the built-in model's SFT base
 * (on EVERY response of the task file, so no label is used and no fold leaks into another), one DPO
 * policy per k-fold fold (reference = the base, log-probs precomputed), and reading a finished run
 * (final policy, reference, β, held-out prompts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Prompt, SftRow, TaskItem, TrlPairRow } from '../../core/types';
import { builtinTokenizer, createBuiltinModel, type BuiltinShape } from '../../engine/builtin';
import { loadPretrained } from '../../engine/checkpoint';
import type { BatchOptions } from '../../engine/logps';
import type { TransformerLM } from '../../engine/transformer';
import type { EngineTokenizer } from '../../engine/types';
import type { ResolvedTrainConfig } from '../config';
import { allPrompts, chooseEvalPrompts, promptKeyOf, readSourceData } from '../data/index';
import type { TrainPair } from './scores';
import { resolveHyper } from '../losses/index';
import { computeRefTable } from '../stage/reference';
import { runPaths } from '../runs/folder';
import { runStage } from '../stage/index';

/**
 * Settings of the training done for review scoring. Defaults are the small, fast setting measured by
 * bench/review.bench.ts (a 2-layer built-in model is enough to find flipped labels; see README).
 */
export interface FlagTrainOptions {
  /** Seed of initialisation and data order. */
  seed: number;
  /** Folder for the temporary stage checkpoints (default: a fresh folder under the OS temp dir, removed after). */
  workDir?: string;
  onProgress: (message: string) => void;
  /** Built-in model shape (default REVIEW_BUILTIN_SHAPE: 2 layers, d = 64, 2 heads, 128-byte context). */
  builtin?: Partial<BuiltinShape>;
  /** SFT epochs of the built-in base over every response (default 8). */
  sftEpochs?: number;
  /** SFT peak learning rate (default 3e-3). */
  sftLr?: number;
  /** DPO peak learning rate per fold (default 1e-3 for the built-in model, 5e-7 for a model folder). */
  dpoLr?: number;
  /** Examples per micro-batch (default 8). */
  batchSize?: number;
}

/** The built-in model shape used for review scoring unless overridden. */
export const REVIEW_BUILTIN_SHAPE: Partial<BuiltinShape> = { numLayers: 2, hiddenSize: 64, numHeads: 2, maxPositions: 128 };

/** A base model that can be instantiated afresh for every fold. */
export interface BaseModel {
  tokenizer: EngineTokenizer;
  /** A new model with the base weights (caller disposes). */
  make(): TransformerLM;
  /** Whether it is the built-in model (picks the learning-rate default). */
  builtin: boolean;
  describe: string;
  dispose(): void;
}

function batchOptionsFor(model: TransformerLM): BatchOptions {
  const maxLength = Math.min(256, model.config.maxPositions);
  return { maxLength, maxPromptLength: Math.floor(maxLength / 2) };
}

/** Runs fn with a scratch folder for stage checkpoints, removed afterwards unless the caller gave one. */
async function withWorkDir<T>(given: string | undefined, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = given ?? mkdtempSync(join(tmpdir(), 'dap-review-train-'));
  try {
    return await fn(dir);
  } finally {
    if (!given) rmSync(dir, { recursive: true, force: true });
  }
}

/** Common StageOptions fields. */
function stageCommon(o: FlagTrainOptions, runDir: string, stage: string) {
  return {
    batchSize: o.batchSize ?? 8,
    gradAccum: 1,
    schedule: 'linear' as const,
    warmupRatio: 0.1,
    maxGradNorm: 1,
    weightDecay: 0,
    evalEvery: 0,
    checkpointEvery: 0,
    ktoKl: 'mismatched' as const,
    seed: o.seed,
    runDir,
    shouldStop: () => false,
    emit: (e: { type: string; step?: number; totalSteps?: number; metrics?: Record<string, number> }) => {
      if (e.type === 'step' && e.step !== undefined && e.totalSteps !== undefined && (e.step === e.totalSteps || e.step % 10 === 0)) {
        o.onProgress(`${stage}: step ${e.step}/${e.totalSteps}, loss ${e.metrics?.loss?.toFixed(4)}`);
      }
    },
  };
}

/**
 * The built-in model trained by SFT on every response of `items` (labels unused: the same base serves
 * every fold without leaking any label). Returns a BaseModel holding a snapshot of its weights.
 */
export async function sftBuiltinBase(items: TaskItem[], o: FlagTrainOptions): Promise<BaseModel> {
  const tokenizer = builtinTokenizer();
  const shape = o.builtin ?? REVIEW_BUILTIN_SHAPE;
  const model = createBuiltinModel(o.seed, shape);
  const rows: SftRow[] = items.flatMap((it) => it.responses.map((r) => ({ prompt: it.prompt, completion: r.text })));
  const epochs = o.sftEpochs ?? 8;
  o.onProgress(`sft: built-in model on ${rows.length} responses of ${items.length} items, ${epochs} epochs`);
  try {
    await withWorkDir(o.workDir, (dir) =>
      runStage({
        ...stageCommon(o, dir, 'sft'),
        stage: 'review-sft',
        kind: 'sft',
        loss: 'sft',
        hyper: resolveHyper('sft', {}),
        model,
        tokenizer,
        train: rows,
        eval: [],
        epochs,
        lr: o.sftLr ?? 3e-3,
        batchOptions: batchOptionsFor(model),
      }),
    );
  } catch (e) {
    model.dispose();
    throw e;
  }
  const snapshot = model.trainableVariables().map((v) => tf.clone(v));
  model.dispose();
  return {
    tokenizer,
    builtin: true,
    describe: `the built-in model (${JSON.stringify(shape)}) after ${epochs} SFT epochs on every response (labels unused)`,
    make: () => {
      const m = createBuiltinModel(o.seed, shape);
      m.trainableVariables().forEach((v, i) => v.assign(snapshot[i]));
      return m;
    },
    dispose: () => tf.dispose(snapshot),
  };
}

/** A model folder as the base: every fold loads it afresh. */
export function folderBase(dir: string): BaseModel {
  const { model, tokenizer } = loadPretrained(dir);
  model.dispose();
  return { tokenizer, builtin: false, describe: dir, make: () => loadPretrained(dir).model, dispose: () => {} };
}

/** Trains one fold's DPO policy from the base on `pairs` (reference = the base, precomputed). */
export async function trainFoldPolicy(
  base: BaseModel,
  pairs: TrainPair[],
  o: FlagTrainOptions & { fold: number; beta: number; epochs: number },
): Promise<TransformerLM> {
  const model = base.make();
  try {
    const rows: TrlPairRow[] = pairs.map((p) => ({ prompt: p.prompt, chosen: p.chosen, rejected: p.rejected }));
    const batchOptions = batchOptionsFor(model);
    const table = await computeRefTable(model, base.tokenizer, 'pairs', rows, o.batchSize ?? 8, batchOptions, 'mismatched');
    await withWorkDir(o.workDir, (dir) =>
      runStage({
        ...stageCommon(o, dir, `fold ${o.fold + 1}`),
        stage: `review-fold-${o.fold}`,
        kind: 'pairs',
        loss: 'dpo',
        hyper: resolveHyper('dpo', { beta: o.beta }),
        model,
        tokenizer: base.tokenizer,
        train: rows,
        eval: [],
        reference: { kind: 'precomputed', train: table, eval: { sums: [], means: [] } },
        epochs: o.epochs,
        lr: o.dpoLr ?? (base.builtin ? 1e-3 : 5e-7),
        batchOptions,
      }),
    );
    return model;
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/** What review needs from a finished run folder. */
export interface RunModels {
  /** Final policy model folder. */
  policy: string;
  /** Reference model folder: the run's SFT model (built-in) or the model folder it started from. */
  reference: string;
  beta: number;
  /** Prompt keys (data.ts promptKeyOf) of the run's held-out split. */
  evalPrompts: Set<string>;
}

/** Newest `STAGE-step-N/model` checkpoint folder of a run for the given stage, if any. */
function lastCheckpointModel(runDir: string, stage: string): string | undefined {
  const dir = runPaths(runDir).checkpoints;
  if (!existsSync(dir)) return undefined;
  // LoRA checkpoints hold adapter/ only (no model/): they are not a model folder.
  const names = readdirSync(dir).filter((n) => n.startsWith(`${stage}-step-`) && existsSync(join(dir, n, 'model', 'config.json'))).sort();
  return names.length ? join(dir, names[names.length - 1], 'model') : undefined;
}

/** Reads a finished run: its config, final policy, reference and held-out split (split.json). */
export async function readRunModels(runDir: string): Promise<RunModels> {
  const paths = runPaths(runDir);
  if (!existsSync(paths.config)) throw new Error(`${runDir}: not a run folder (no config.json)`);
  const config = JSON.parse(readFileSync(paths.config, 'utf8')) as ResolvedTrainConfig;
  const stage = config.method === 'spin' ? 'dpo' : config.method;
  const policy = existsSync(join(paths.finalModel, 'config.json')) ? paths.finalModel : lastCheckpointModel(runDir, stage);
  if (!policy) throw new Error(`${runDir}: no final model (model/) and no ${stage} checkpoint: has the run finished?`);
  const reference = config.model ?? (existsSync(join(paths.sftModel, 'config.json')) ? paths.sftModel : lastCheckpointModel(runDir, 'sft'));
  if (!reference) throw new Error(`${runDir}: no reference model: neither config.model nor sft-model/ exists`);
  // The held-out prompts: split.json as the run wrote it, else chosen again the way the run chose them.
  let evalPrompts: Set<string>;
  if (existsSync(paths.split)) {
    const split = JSON.parse(readFileSync(paths.split, 'utf8')) as { evalPrompts?: Prompt[] };
    evalPrompts = new Set((split.evalPrompts ?? []).map(promptKeyOf));
  } else {
    const source = await readSourceData(config.data, config.log, config.pairMode);
    evalPrompts = chooseEvalPrompts(allPrompts(source), config.evalFraction, config.seed);
  }
  return { policy, reference, beta: config.loss.beta, evalPrompts };
}
