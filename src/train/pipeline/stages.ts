/**
 * The stage plumbing of a run, shared by the run itself (index.ts) and the SPIN driver (spin.ts): the
 * context a run's stages share, the stage options every stage takes from the config, the reference
 * log-probs of a stage (none, precomputed now or on resume, or a live frozen model), and starting a stage:
 * the memory check, the `started` event, the trainable-parameter line, then the trainer's loop.
 */
import { existsSync } from 'node:fs';
import { loadPretrained } from '../../engine/checkpoint';
import { loadLoraAdapter } from '../../engine/lora';
import { describePlan } from '../../engine/memory';
import { stagePlan } from '../stage/memoryCheck';
import type { TransformerLM } from '../../engine/transformer';
import type { EngineTokenizer } from '../../engine/types';
import type { ResolvedTrainConfig } from '../config';
import { getLoss } from '../losses/index';
import type { DataKind } from '../losses/types';
import type { StagePlan } from '../runs/events';
import { runPaths } from '../runs/folder';
import { readTrainerState } from '../stage/checkpoints';
import { runStage, stageSteps, type EventSink, type ReferenceSource, type StageOptions, type StageResult } from '../stage/index';
import { computeRefTable, loadRefTables, saveRefTables } from '../stage/reference';
import { trainableParamsLine } from './lora';

/** Context shared by the stages of a run (also used by the SPIN driver). */
export interface RunContext {
  config: ResolvedTrainConfig;
  runDir: string;
  tokenizer: EngineTokenizer;
  emit: EventSink;
  shouldStop: () => boolean;
  evalPrompts: Set<string>;
  /** The checkpoint to resume from and its stage, when resuming. */
  resume?: { dir: string; stage: string };
  /** LoRA runs: the adapters' base model folder (named in adapter_config.json of checkpoints and outputs). */
  loraBase?: string;
  /** The run's stages and their step counts, sent with every `started` event. */
  plan?: StagePlan[];
}

/** Stage options common to every stage of the run. */
export function baseStage(ctx: RunContext, model: TransformerLM): Omit<StageOptions<DataKind>, 'stage' | 'kind' | 'loss' | 'hyper' | 'train' | 'eval' | 'reference' | 'epochs' | 'lr'> {
  const c = ctx.config;
  return {
    model, tokenizer: ctx.tokenizer, maxSteps: c.maxSteps, batchSize: c.batchSize, gradAccum: c.gradAccum, schedule: c.schedule,
    warmupRatio: c.warmupRatio, maxGradNorm: c.maxGradNorm, weightDecay: c.weightDecay,
    batchOptions: { maxLength: c.maxLength, maxPromptLength: c.maxPromptLength }, evalEvery: c.evalEvery,
    checkpointEvery: c.checkpointEvery, ktoKl: c.ktoKl, seed: c.seed, runDir: ctx.runDir, emit: ctx.emit, shouldStop: ctx.shouldStop,
    loraBase: ctx.loraBase,
  };
}

/**
 * Reference log-probs for a stage: none, precomputed from `model` now (or loaded on resume), or a live
 * frozen model loaded from `liveDir` (plus the PEFT adapter folder `liveAdapter`, when given).
 */
export async function referenceFor<K extends DataKind>(ctx: RunContext, stage: string, loss: string, kind: K, model: TransformerLM,
  train: StageOptions<K>['train'], evalRows: StageOptions<K>['eval'], liveDir: string | undefined, liveAdapter?: string): Promise<ReferenceSource | undefined> {
  if (!getLoss(loss).needsReference) return undefined;
  const c = ctx.config;
  if (c.reference === 'live') {
    if (!liveDir) throw new Error('live reference needs a saved initial model');
    const ref = loadPretrained(liveDir).model;
    try {
      if (liveAdapter) loadLoraAdapter(ref, liveAdapter);
    } catch (e) {
      ref.dispose();
      throw e;
    }
    return { kind: 'live', model: ref };
  }
  const path = runPaths(ctx.runDir).reference(stage);
  if (ctx.resume && existsSync(path)) return { kind: 'precomputed', ...loadRefTables(path, train.length, evalRows.length) };
  const opts = { maxLength: c.maxLength, maxPromptLength: c.maxPromptLength };
  const tables = {
    train: await computeRefTable(model, ctx.tokenizer, kind, train, c.batchSize, opts, c.ktoKl),
    eval: await computeRefTable(model, ctx.tokenizer, kind, evalRows, c.batchSize, opts, c.ktoKl),
  };
  saveRefTables(path, tables);
  ctx.emit({ type: 'log', level: 'info', message: `reference log-probs precomputed for ${train.length} + ${evalRows.length} examples (${stage})` });
  return { kind: 'precomputed', ...tables };
}

/** Sequences per forward pass for a batch of n examples of a kind (pairs: chosen + rejected; rankings: ~4 responses). */
const ROWS_PER_EXAMPLE: Record<DataKind, number> = { sft: 1, unpaired: 1, pairs: 2, rankings: 4 };

/** Logs the plan of a step at maxLength (the trainer refuses a batch that cannot fit: stage/memoryCheck.ts). */
function logStageMemory<K extends DataKind>(ctx: RunContext, o: StageOptions<K>): void {
  const plan = stagePlan(o, Math.min(o.batchSize, o.train.length) * ROWS_PER_EXAMPLE[o.kind], o.batchOptions.maxLength ?? 1024);
  ctx.emit({ type: 'log', level: 'info', message: `${o.stage}: memory per step up to ${describePlan(plan)} at maxLength (each batch is checked before it runs)` });
}

/** Runs one stage, announcing it with a `started` event. */
export async function startStage<K extends DataKind>(ctx: RunContext, o: StageOptions<K>, backend: string): Promise<StageResult> {
  logStageMemory(ctx, o);
  const totalSteps = stageSteps(o.train.length, o.epochs, o.batchSize, o.gradAccum, o.maxSteps);
  ctx.emit({ type: 'started', runId: ctx.config.runId, runDir: ctx.runDir, backend, executor: 'tfjs', config: ctx.config, totalSteps, stage: o.stage, startStep: o.resumeFrom ? readTrainerState(o.resumeFrom).step : 0,
    ...(ctx.plan ? { stages: ctx.plan } : {}) });
  ctx.emit({ type: 'log', level: 'info', message: `${o.stage}: ${trainableParamsLine(o.model)}${o.model.lora.size > 0 ? ` (LoRA r=${o.model.loraSettings?.r} on ${o.model.lora.size} module${o.model.lora.size === 1 ? '' : 's'})` : ''}` });
  return runStage(o);
}
