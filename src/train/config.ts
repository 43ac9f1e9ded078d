/**
 * Training run configuration: what the user (CLI flags, run.json, the VS Code host) may set, with every
 * field documented, and `resolveConfig` that fills defaults and validates, producing the exact config
 * written to runs/RUN_ID/config.json and echoed in the `started` event.
 */
import { LOSSES, METHODS, resolveHyper, type LossHyper, type MethodName } from './losses/index';

/** Settings of the self-play SPIN driver. */
export interface SpinConfig {
  /** Iterations of (generate → train DPO) (≥ 2; default 2). */
  iterations: number;
  /** Longest generated response in tokens (default 24). */
  maxNewTokens: number;
  /** Sampling temperature; 0 = greedy (default 0). */
  temperature: number;
  /** Nucleus sampling mass (default 1). */
  topP: number;
  /** Epochs of DPO per iteration (default: `epochs`). */
  epochsPerIteration?: number;
}

/** Shape of the built-in model when no model folder is given (engine's BuiltinShape). */
export interface BuiltinModelShape {
  numLayers?: number;
  hiddenSize?: number;
  numHeads?: number;
  maxPositions?: number;
}

/**
 * LoRA fine-tuning (PEFT's LoraConfig): the base weights stay frozen and only low-rank adapters
 * W + (alpha/r)·A·B on the target modules train. Applies to the method's stage (every SPIN iteration trains
 * the same adapters); the built-in model's from-scratch SFT stage stays full fine-tuning.
 */
export interface LoraTrainConfig {
  /** Rank r of the update (a positive integer; PEFT's default is 8). */
  r: number;
  /** lora_alpha: the update is scaled by alpha / r (default 8, PEFT's LoraConfig default whatever r is: r 8 → scale 1, r 16 → 0.5). */
  alpha?: number;
  /** Module names as PEFT matches them (suffixes of module paths, e.g. "q_proj", "c_attn"; default: c_attn for GPT-2, q_proj + v_proj for Llama). */
  targetModules?: string[];
}

/** LoRA settings with defaults filled in (targetModules is filled once the model is loaded). */
export interface ResolvedLoraConfig {
  r: number;
  alpha: number;
  /** Empty until the model is known; then the default targets of its family unless set. */
  targetModules: string[];
}

/** Default lora_alpha (PEFT's LoraConfig default). */
export const DEFAULT_LORA_ALPHA = 8;

/** What a caller may set. Only `data` is required. */
export interface TrainConfig {
  /** Training data: a compiled TRL file (pairs / rankings / SFT / KTO rows) or a task file (then its annotation log is compiled). */
  data: string;
  /** Annotation log of a task file (default: the task file's sibling NAME.annotations.jsonl). */
  log?: string;
  /** How a task file's judgments become pairs: every pair of a ranking, or best vs rest (default all_pairs). */
  pairMode?: 'all_pairs' | 'best_vs_rest';
  /** Method (loss registry name or 'spin'; default 'dpo'). */
  method?: MethodName;
  /** Hugging Face model folder; absent = the built-in tiny model trained by SFT on the data first. */
  model?: string;
  /** Built-in model shape overrides (ignored with `model`). */
  builtin?: BuiltinModelShape;
  /** Epochs of the built-in model's SFT stage (default 12). */
  sftEpochs?: number;
  /** Peak learning rate of the SFT stage (default 3e-3). */
  sftLr?: number;
  /** Loss hyper-parameters (β, ε, δ, λ, γ, …); unset fields take the method's defaults. */
  loss?: Partial<LossHyper>;
  /** Passes over the training split (default 3). */
  epochs?: number;
  /** Stop after this many optimizer steps (default: no limit beyond epochs). */
  maxSteps?: number;
  /** Examples (pairs, rankings, rows) per micro-batch (default 8; a pair's chosen + rejected share one forward pass). */
  batchSize?: number;
  /** Micro-batches per optimizer step (default 1). */
  gradAccum?: number;
  /** Peak learning rate (default 5e-7 for a model folder, TRL's default; 1e-4 for the built-in model). */
  lr?: number;
  /** Decay after warm-up (default linear). */
  schedule?: 'constant' | 'linear' | 'cosine';
  /** Warm-up as a fraction of total steps (default 0.1). */
  warmupRatio?: number;
  /** Global gradient-norm clip; 0 disables (default 1). */
  maxGradNorm?: number;
  /** AdamW decoupled weight decay (default 0). */
  weightDecay?: number;
  /** Longest prompt + completion in tokens (default min(256, model context)). */
  maxLength?: number;
  /** Longest prompt in tokens; longer prompts keep their end (default maxLength / 2). */
  maxPromptLength?: number;
  /** Share of prompts held out for evaluation, split by prompt with the seed (default 0.1; 0 = none). */
  evalFraction?: number;
  /** Evaluate every N optimizer steps (default: 4 times per run) and at the end. */
  evalEvery?: number;
  /** Reference log-probs: computed once before training from the initial policy (default), or live from a frozen copy. */
  reference?: 'precomputed' | 'live';
  /** KTO's KL estimate: mismatched (prompt i, completion i+1) pairs (default, TRL) or the batch mean. */
  ktoKl?: 'mismatched' | 'batch';
  /** Write a checkpoint every N optimizer steps (0 = only at the end and on cancel; default 0). */
  checkpointEvery?: number;
  /** Folder holding runs/ (default: the current directory). */
  out?: string;
  /** Run id (default: method + UTC time). */
  runId?: string;
  /** tfjs backend (default auto). */
  backend?: 'auto' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
  /** Seed of initialisation, data order and the eval split (default 0). */
  seed?: number;
  /** Resume from this checkpoint folder (runs/ID/checkpoints/STAGE-step-N). */
  resume?: string;
  /** SPIN settings (method 'spin'). */
  spin?: Partial<SpinConfig>;
  /** Train LoRA adapters instead of all weights (absent = full fine-tuning). */
  lora?: LoraTrainConfig;
}

/** The config with every default filled in. */
export interface ResolvedTrainConfig extends Required<Omit<TrainConfig, 'log' | 'model' | 'resume' | 'maxSteps' | 'spin' | 'loss' | 'builtin' | 'lr' | 'maxLength' | 'maxPromptLength' | 'evalEvery' | 'runId' | 'lora'>> {
  log?: string;
  model?: string;
  resume?: string;
  maxSteps?: number;
  builtin: BuiltinModelShape;
  loss: LossHyper;
  lr: number;
  /** Resolved once the model's context is known (0 = not yet). */
  maxLength: number;
  maxPromptLength: number;
  /** 0 = automatic. */
  evalEvery: number;
  runId: string;
  spin: SpinConfig;
  /** Absent = full fine-tuning. */
  lora?: ResolvedLoraConfig;
}

function check(cond: boolean, field: string, message: string): void {
  if (!cond) throw new Error(`config: ${field}: ${message}`);
}
const posInt = (v: number | undefined) => v === undefined || (Number.isInteger(v) && v > 0);

/** A sortable run id: METHOD-YYYYMMDD-HHMMSS-xxxx. */
export function newRunId(method: string, now = new Date()): string {
  const iso = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${method}-${iso}-${Math.floor(Math.random() * 0xffff).toString(16).padStart(4, '0')}`;
}

/** Validates the `lora` field and fills its defaults (targetModules stays [] when unset: the model decides). */
export function resolveLora(l: unknown): ResolvedLoraConfig | undefined {
  if (l === undefined || l === null) return undefined;
  check(typeof l === 'object' && !Array.isArray(l), 'lora', `expected an object like {"r": 8}, got ${JSON.stringify(l)}`);
  const o = l as Record<string, unknown>;
  for (const k of Object.keys(o)) check(['r', 'alpha', 'targetModules'].includes(k), `lora.${k}`, 'unknown field (expected r, alpha, targetModules)');
  check(typeof o.r === 'number' && Number.isInteger(o.r) && o.r > 0, 'lora.r', `expected a positive integer, got ${JSON.stringify(o.r)}`);
  check(o.alpha === undefined || (typeof o.alpha === 'number' && Number.isFinite(o.alpha) && o.alpha > 0), 'lora.alpha', `expected a positive number, got ${JSON.stringify(o.alpha)}`);
  const t = o.targetModules;
  check(t === undefined || (Array.isArray(t) && t.length > 0 && t.every((x) => typeof x === 'string' && x.trim() !== '')), 'lora.targetModules',
    `expected a non-empty list of module names like ["q_proj", "v_proj"], got ${JSON.stringify(t)}`);
  return { r: o.r as number, alpha: (o.alpha as number | undefined) ?? DEFAULT_LORA_ALPHA, targetModules: t ? [...(t as string[])].map((x) => x.trim()) : [] };
}

/** Fills defaults and validates; errors name the field. */
export function resolveConfig(c: TrainConfig): ResolvedTrainConfig {
  check(typeof c.data === 'string' && c.data.length > 0, 'data', 'a data file is required');
  const method = c.method ?? 'dpo';
  check((METHODS as readonly string[]).includes(method), 'method', `expected one of ${METHODS.join(', ')}, got "${method}"`);
  for (const f of ['epochs', 'batchSize', 'gradAccum', 'sftEpochs', 'maxSteps', 'maxLength', 'maxPromptLength'] as const) {
    check(posInt(c[f]), f, `expected a positive integer, got ${JSON.stringify(c[f])}`);
  }
  check(c.evalFraction === undefined || (c.evalFraction >= 0 && c.evalFraction < 1), 'evalFraction', 'expected a number in [0, 1)');
  check(c.lr === undefined || (Number.isFinite(c.lr) && c.lr > 0), 'lr', 'expected a positive number');
  const lossName = method === 'spin' ? 'dpo' : method;
  const spin: SpinConfig = { iterations: 2, maxNewTokens: 24, temperature: 0, topP: 1, ...c.spin };
  check(Number.isInteger(spin.iterations) && spin.iterations >= 2, 'spin.iterations', 'expected an integer ≥ 2');
  void LOSSES;
  const lora = resolveLora(c.lora);
  check(!lora || !!c.model || method !== 'sft', 'lora', 'LoRA needs a trained base model: give a model folder, or a method other than sft (the built-in model is then trained in full by SFT first and LoRA applies after it)');
  return {
    data: c.data,
    log: c.log,
    pairMode: c.pairMode ?? 'all_pairs',
    method,
    model: c.model,
    builtin: c.builtin ?? {},
    sftEpochs: c.sftEpochs ?? 12,
    sftLr: c.sftLr ?? 3e-3,
    loss: resolveHyper(lossName, c.loss ?? {}),
    epochs: c.epochs ?? 3,
    maxSteps: c.maxSteps,
    batchSize: c.batchSize ?? 8,
    gradAccum: c.gradAccum ?? 1,
    lr: c.lr ?? (c.model ? 5e-7 : 1e-4),
    schedule: c.schedule ?? 'linear',
    warmupRatio: c.warmupRatio ?? 0.1,
    maxGradNorm: c.maxGradNorm ?? 1,
    weightDecay: c.weightDecay ?? 0,
    maxLength: c.maxLength ?? 0,
    maxPromptLength: c.maxPromptLength ?? 0,
    evalFraction: c.evalFraction ?? 0.1,
    evalEvery: c.evalEvery ?? 0,
    reference: c.reference ?? 'precomputed',
    ktoKl: c.ktoKl ?? 'mismatched',
    checkpointEvery: c.checkpointEvery ?? 0,
    out: c.out ?? '.',
    runId: c.runId ?? newRunId(method),
    backend: c.backend ?? 'auto',
    seed: c.seed ?? 0,
    resume: c.resume,
    spin,
    ...(lora ? { lora } : {}),
  };
}
