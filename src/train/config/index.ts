/**
 * Training run configuration: the types derived from the single declaration (declaration.ts) and
 * `resolveConfig`, which validates every field once (resolve.ts) and fills the defaults, producing the exact
 * config written to runs/RUN_ID/config.json and echoed in the `started` event.
 */
import type { InputOf, ResolvedOf } from './fields';
import { BUILTIN_FIELDS, LORA_FIELDS, SPIN_FIELDS, TRAIN_FIELDS } from './declaration';
import { checkFields, ConfigError, fillDefaults, methodLimits } from './resolve';
import { METHODS, type MethodName } from '../losses/methods';

export { BACKENDS, DEFAULT_LORA_ALPHA, EXECUTORS, TRAIN_FIELDS } from './declaration';
export { ConfigError, checkValue } from './resolve';

/** What a caller may set. Only `data` is required. */
export type TrainConfig = InputOf<typeof TRAIN_FIELDS>;
/** The config with every default filled in. maxLength / maxPromptLength are 0 until the model's context is known. */
export type ResolvedTrainConfig = Omit<ResolvedOf<typeof TRAIN_FIELDS>, 'maxLength' | 'maxPromptLength' | 'runId' | 'lora'> & {
  maxLength: number;
  maxPromptLength: number;
  runId: string;
  /** Absent = full fine-tuning; targetModules is [] until the model is known (then its family's defaults). */
  lora?: ResolvedLoraConfig;
};
export type SpinConfig = ResolvedOf<typeof SPIN_FIELDS>;
export type BuiltinModelShape = InputOf<typeof BUILTIN_FIELDS>;
export type LoraTrainConfig = InputOf<typeof LORA_FIELDS>;
export type ResolvedLoraConfig = ResolvedOf<typeof LORA_FIELDS>;
export type Executor = ResolvedTrainConfig['executor'];

/** A sortable run id: METHOD-YYYYMMDD-HHMMSS-xxxx. */
export function newRunId(method: string, now = new Date()): string {
  const iso = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${method}-${iso}-${Math.floor(Math.random() * 0xffff).toString(16).padStart(4, '0')}`;
}

/** Problems of a raw config (any JSON value): every field's type and range, the method's limits, the checks across fields. */
export function configProblems(input: unknown): string[] {
  if (!input || typeof input !== 'object' || Array.isArray(input)) return [`expected an object of training-config fields, got ${JSON.stringify(input)}`];
  const c = input as Record<string, unknown>;
  const method = (METHODS as readonly unknown[]).includes(c.method) ? (c.method as MethodName) : 'dpo';
  const problems = checkFields(TRAIN_FIELDS, c, '', methodLimits(method));
  if (problems.length) return problems;
  if (c.lora && !c.model && method === 'sft') {
    problems.push('lora: LoRA needs a trained base model: give a model folder, or a method other than sft (the built-in model is then trained in full by SFT first and LoRA applies after it)');
  }
  if (typeof c.maxLength === 'number' && typeof c.maxPromptLength === 'number' && c.maxPromptLength >= c.maxLength) {
    problems.push(`maxPromptLength: expected less than maxLength (${c.maxLength}), got ${c.maxPromptLength} (--max-prompt-length): the completion needs at least one token`);
  }
  const b = (c.builtin ?? {}) as { hiddenSize?: number; numHeads?: number };
  if (b.hiddenSize !== undefined && b.hiddenSize % (b.numHeads ?? 4) !== 0) {
    problems.push(`builtin.hiddenSize: expected a multiple of builtin.numHeads (${b.numHeads ?? 4}), got ${b.hiddenSize}`);
  }
  if (c.executor === 'torch' && !c.model) {
    problems.push('executor: torch trains a model folder (--model DIR); the built-in tiny model trains with the tfjs executor (--executor tfjs or auto)');
  }
  if (typeof c.numProcesses === 'number' && c.numProcesses > 1 && c.executor === 'tfjs') {
    problems.push(`numProcesses: expected 1 with the tfjs executor, got ${c.numProcesses} (--num-processes): several processes need --executor torch`);
  }
  return problems;
}

/** Validates every field (throws ConfigError listing each problem, naming the field) and fills the defaults. */
export function resolveConfig(input: TrainConfig): ResolvedTrainConfig {
  const problems = configProblems(input);
  if (problems.length) throw new ConfigError(problems);
  const c = input as unknown as Record<string, unknown>;
  const filled = fillDefaults(TRAIN_FIELDS, c, { input: c }) as unknown as ResolvedTrainConfig;
  return { ...filled, maxLength: input.maxLength ?? 0, maxPromptLength: input.maxPromptLength ?? 0, runId: input.runId ?? newRunId(filled.method) };
}

/**
 * The problem with one field's value ("loss.beta", 0.2) under `method`, as resolveConfig would report it
 * (without the "config: FIELD: " prefix), or undefined: the Train… quick pick validates its inputs with it.
 */
export function fieldProblem(path: string, value: unknown, method: MethodName = 'dpo'): string | undefined {
  const probe: Record<string, unknown> = {};
  const keys = path.split('.');
  let o = probe;
  for (const k of keys.slice(0, -1)) o = (o[k] = {}) as Record<string, unknown>;
  o[keys[keys.length - 1]] = value;
  const hit = checkFields(TRAIN_FIELDS, { data: 'x', ...probe }, '', methodLimits(method)).find((p) => p.startsWith(`${path}: `));
  return hit?.slice(path.length + 2);
}
