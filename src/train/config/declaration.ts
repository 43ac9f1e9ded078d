/**
 * Every field of the training config, declared once (as TRL's DPOConfig declares each field with its default
 * and help): kind, help, default, limits, CLI flag. The TS types (index.ts), validation and defaults
 * (resolve.ts), the `dap train` flags and usage (flags.ts), the `dapStudio.train.overrides` JSON schema
 * (schema.ts → package.json) and the Train… quick-pick choices are all derived from these values.
 */
import { METHODS } from '../losses/methods';
import { bool, int, list, num, obj, oneOf, str } from './fields';
import { LOSS_FIELDS } from './loss';

/** Default lora_alpha (PEFT's LoraConfig default). */
export const DEFAULT_LORA_ALPHA = 8;

/** The tfjs backends, as engine/backend.ts's BACKEND_PREFERENCES (a unit test keeps the two equal). */
export const BACKENDS = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const;

/** Where a run's steps execute. */
export const EXECUTORS = ['auto', 'tfjs', 'torch'] as const;

/** A run id names a folder under runs/: no path separators, not "." or "..". */
const runIdCheck = (v: string) => (/[/\\]/.test(v) || v === '.' || v === '..' ? `expected a folder name without / or \\, got ${JSON.stringify(v)}` : undefined);

/** Settings of the self-play SPIN driver (method "spin"). */
export const SPIN_FIELDS = {
  iterations: int({ flag: 'spin-iterations', flagArg: 'N', default: 2, limits: { min: 2, why: 'SPIN needs at least two rounds of generate → train' }, help: 'Iterations of (generate → train DPO)' }),
  maxNewTokens: int({ flag: 'spin-max-new-tokens', flagArg: 'N', default: 24, limits: { min: 1 }, help: 'Longest generated response in tokens' }),
  temperature: num({ flag: 'spin-temperature', flagArg: 'T', default: 0, limits: { min: 0 }, help: 'Sampling temperature of the generations; 0 = greedy' }),
  topP: num({ flag: 'spin-top-p', flagArg: 'P', default: 1, limits: { min: 0, minExclusive: true, max: 1 }, help: 'Nucleus sampling mass of the generations' }),
  epochsPerIteration: int({ flag: 'spin-epochs', flagArg: 'N', limits: { min: 1 }, defaultText: 'epochs', help: 'Epochs of DPO per iteration' }),
};

/** LoRA (PEFT's LoraConfig): the base weights stay frozen and only W + (alpha/r)·A·B on the target modules train. */
export const LORA_FIELDS = {
  r: int({ flag: 'lora-r', flagArg: 'N', required: true, limits: { min: 1 }, help: 'Rank r of the update (PEFT\'s default is 8)' }),
  alpha: num({ flag: 'lora-alpha', flagArg: 'A', default: DEFAULT_LORA_ALPHA, limits: { min: 0, minExclusive: true },
    help: 'lora_alpha: the update is scaled by alpha / r (PEFT\'s LoraConfig default whatever r is: r 8 → scale 1, r 16 → 0.5)' }),
  targetModules: list({ flag: 'lora-targets', flagArg: 'LIST', default: [], example: '["q_proj", "v_proj"]', defaultText: 'c_attn for GPT-2, q_proj,v_proj for Llama',
    help: 'Module names as PEFT matches them (suffixes of module paths, e.g. q_proj, c_attn)' }),
};

/** Shape of the built-in model when no model folder is given (engine's BuiltinShape; its defaults are BUILTIN_SHAPE). */
export const BUILTIN_FIELDS = {
  numLayers: int({ limits: { min: 1 }, defaultText: '4', help: 'Transformer blocks of the built-in model' }),
  hiddenSize: int({ limits: { min: 1 }, defaultText: '128', help: 'Model width of the built-in model (a multiple of numHeads)' }),
  numHeads: int({ limits: { min: 1 }, defaultText: '4', help: 'Attention heads of the built-in model' }),
  maxPositions: int({ limits: { min: 1 }, defaultText: '256', help: 'Context length of the built-in model in tokens (bytes)' }),
};

/** Every field of the training config, in the order of `dap train --help`. */
export const TRAIN_FIELDS = {
  data: str({ required: true, hostOnly: true, nonEmpty: true,
    help: 'Training data: a compiled TRL file (pairs / rankings / SFT / KTO rows) or a task file (then its annotation log is compiled)' }),
  log: str({ flag: 'log', flagArg: 'LOG', hostOnly: true, nonEmpty: true, defaultText: 'NAME.annotations.jsonl beside the task file', help: 'Annotation log of a task file' }),
  pairMode: oneOf(['all_pairs', 'best_vs_rest'], { flag: 'pair-mode', default: 'all_pairs',
    valueHelp: { all_pairs: 'every pair of a ranking', best_vs_rest: 'the best group against each other response' }, help: 'How a task file\'s judgments become pairs' }),
  method: oneOf(METHODS, { flag: 'method', default: 'dpo', help: 'Training method (loss registry name, or spin)' }),
  model: str({ flag: 'model', flagArg: 'DIR', nonEmpty: true, defaultText: 'the built-in tiny model, trained by SFT on the data first',
    help: 'Hugging Face model folder (config.json, safetensors, tokenizer.json)' }),
  executor: oneOf(EXECUTORS, { flag: 'executor', default: 'auto', help: 'Where the steps run',
    valueHelp: { auto: 'torch when a model folder is trained and the Python has torch + transformers + accelerate, else tfjs',
      tfjs: 'TensorFlow.js in a Node process (the built-in model, CPU / WebGPU)', torch: 'PyTorch (python -m dap_train): CUDA / ROCm / MPS / CPU, bf16, several processes' } }),
  python: str({ flag: 'python', flagArg: 'PATH', nonEmpty: true, defaultText: '$DAP_PYTHON, else python3 (VS Code: dapStudio.python, else the Python extension\'s interpreter)',
    help: 'Python interpreter of the torch executor' }),
  launcher: oneOf(['auto', 'python', 'torchrun', 'accelerate'], { flag: 'launcher', default: 'auto', help: 'How the torch executor starts its processes',
    valueHelp: { auto: 'python for one process, torchrun for several', python: 'PYTHON -m dap_train (one process)',
      torchrun: 'PYTHON -m torch.distributed.run --nproc-per-node N -m dap_train', accelerate: 'PYTHON -m accelerate.commands.launch --num_processes N -m dap_train' } }),
  numProcesses: int({ flag: 'num-processes', flagArg: 'N', default: 1, limits: { min: 1 }, help: 'Data-parallel processes of the torch executor (one per GPU; gloo on CPU)' }),
  device: oneOf(['auto', 'cpu', 'cuda', 'mps'], { flag: 'device', default: 'auto', help: 'Device of the torch executor (auto: CUDA/ROCm, else MPS, else CPU)' }),
  mixedPrecision: oneOf(['auto', 'no', 'bf16', 'fp16'], { flag: 'mixed-precision', default: 'auto',
    help: 'Mixed precision of the torch executor (auto: bf16 where the GPU has it, else fp32)' }),
  gradientCheckpointing: bool({ flag: 'gradient-checkpointing', default: false, help: 'Recompute activations in the backward pass (torch executor): less memory, ~30% slower' }),
  builtin: obj(BUILTIN_FIELDS, true, { example: '{"numLayers": 2}', help: 'Built-in model shape (ignored with a model folder)' }),
  sftEpochs: int({ flag: 'sft-epochs', flagArg: 'N', default: 12, limits: { min: 1 }, help: 'Epochs of the built-in model\'s SFT stage' }),
  sftLr: num({ flag: 'sft-lr', flagArg: 'LR', default: 3e-3, limits: { min: 0, minExclusive: true }, help: 'Peak learning rate of the built-in model\'s SFT stage' }),
  loss: obj(LOSS_FIELDS, true, { example: '{"beta": 0.1}', help: 'Loss hyper-parameters; unset fields take the method\'s defaults from the loss registry' }),
  epochs: int({ flag: 'epochs', flagArg: 'N', default: 3, limits: { min: 1 }, help: 'Passes over the training split' }),
  maxSteps: int({ flag: 'max-steps', flagArg: 'N', limits: { min: 1 }, defaultText: 'no limit beyond the epochs', help: 'Stop after this many optimizer steps' }),
  batchSize: int({ flag: 'batch-size', flagArg: 'N', default: 8, limits: { min: 1 }, help: 'Examples (pairs, rankings, rows) per micro-batch; a pair\'s chosen and rejected share one forward pass' }),
  gradAccum: int({ flag: 'grad-accum', flagArg: 'N', default: 1, limits: { min: 1 }, help: 'Micro-batches per optimizer step' }),
  lr: num({ flag: 'lr', flagArg: 'LR', limits: { min: 0, minExclusive: true }, default: (c) => (c.input.model ? 5e-7 : 1e-4),
    defaultText: '5e-7 for a model folder (TRL\'s default), 1e-4 for the built-in model', help: 'Peak learning rate' }),
  schedule: oneOf(['constant', 'linear', 'cosine'], { flag: 'schedule', default: 'linear', help: 'Learning-rate decay after warm-up' }),
  warmupRatio: num({ flag: 'warmup-ratio', flagArg: 'F', default: 0.1, limits: { min: 0, max: 1 }, help: 'Warm-up as a fraction of total steps' }),
  maxGradNorm: num({ flag: 'max-grad-norm', flagArg: 'X', default: 1, limits: { min: 0 }, help: 'Global gradient-norm clip; 0 disables' }),
  weightDecay: num({ flag: 'weight-decay', flagArg: 'X', default: 0, limits: { min: 0 }, help: 'AdamW decoupled weight decay (matrices only)' }),
  maxLength: int({ flag: 'max-length', flagArg: 'N', limits: { min: 2 }, defaultText: 'min(256, model context)', help: 'Longest prompt + completion in tokens' }),
  maxPromptLength: int({ flag: 'max-prompt-length', flagArg: 'N', limits: { min: 1 }, defaultText: 'maxLength / 2', help: 'Longest prompt in tokens; longer prompts keep their end' }),
  evalFraction: num({ flag: 'eval-fraction', flagArg: 'F', default: 0.1, limits: { min: 0, max: 1, maxExclusive: true },
    help: 'Share of prompts held out for evaluation, split by prompt with the seed; 0 = none' }),
  evalEvery: int({ flag: 'eval-every', flagArg: 'N', default: 0, limits: { min: 0 }, help: 'Evaluate every N optimizer steps (0: 4 times per run) and at the end' }),
  reference: oneOf(['precomputed', 'live'], { flag: 'reference', default: 'precomputed', help: 'Reference log-probs',
    valueHelp: { precomputed: 'computed once before training from the initial policy', live: 'from a frozen copy at every step' } }),
  ktoKl: oneOf(['mismatched', 'batch'], { flag: 'kto-kl', default: 'mismatched', help: 'KTO\'s KL estimate',
    valueHelp: { mismatched: 'mismatched (prompt i, completion i+1) pairs (TRL)', batch: 'the batch mean of the rows\' own log-ratios' } }),
  checkpointEvery: int({ flag: 'checkpoint-every', flagArg: 'N', default: 0, limits: { min: 0 }, help: 'Write a checkpoint every N optimizer steps (0: only at the end and on cancel)' }),
  out: str({ flag: 'out', flagArg: 'DIR', default: '.', nonEmpty: true, hostOnly: true, help: 'Folder holding runs/RUN_ID' }),
  runId: str({ flag: 'run-id', flagArg: 'ID', nonEmpty: true, hostOnly: true, check: runIdCheck, defaultText: 'METHOD-YYYYMMDD-HHMMSS-xxxx', help: 'Run folder name' }),
  backend: oneOf(BACKENDS, { flag: 'backend', default: 'auto', help: 'tfjs backend (auto: tensorflow → webgpu → wasm → cpu)' }),
  threads: int({ flag: 'threads', flagArg: 'N', default: 0, limits: { min: 0, max: 256 },
    help: 'Threads of the native CPU kernels on wasm (0: every core, or DAP_THREADS)' }),
  seed: int({ flag: 'seed', flagArg: 'S', default: 0, help: 'Seed of initialisation, data order and the eval split' }),
  resume: str({ flag: 'resume', flagArg: 'RUN|CKPT', nonEmpty: true, hostOnly: true, help: 'Continue a killed, cancelled or failed run folder (runs/ID) from its newest checkpoint — or from the checkpoint folder given (runs/ID/checkpoints/STAGE-step-N); a run killed before its first checkpoint starts again in its folder; a finished run is refused' }),
  spin: obj(SPIN_FIELDS, true, { example: '{"iterations": 3}', help: 'SPIN settings (method spin)' }),
  lora: obj(LORA_FIELDS, false, { example: '{"r": 8}', help: 'Train LoRA adapters instead of all weights (absent: full fine-tuning); writes RUN/adapter (PEFT) and RUN/model (merged)' }),
};
