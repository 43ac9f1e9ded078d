/**
 * Which executor a run uses (config `executor`): `tfjs` as asked; `torch` only when the configured Python
 * has torch + transformers + accelerate (else an ExecutorError naming what is missing and the pip command —
 * never a silent fallback); `auto` = torch when a model folder is trained and that Python is usable, tfjs
 * otherwise (the built-in model, no Python), with the reason said. The probe's usable answer is kept between
 * runs (envCache.ts). Also the pre-run memory estimate
 * (`PY -m dap_train estimate`, CONTRACT.md §7): a run that will not fit is refused with the numbers and
 * what would fit. Both run before a run folder exists.
 */
import { spawn } from 'node:child_process';
import type { ResolvedTrainConfig } from '../config/index';
import { pythonOf, pythonProcessEnv, type TorchEnv } from './env';
import { cachedTorchEnv } from './envCache';

/** The run cannot start as configured (torch asked but unusable, or it will not fit in memory); nothing was created. */
export class ExecutorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExecutorError';
  }
}

/** The executor a run uses, with the probe (torch) and why (shown in the run's log). */
export interface ExecutorChoice {
  executor: 'tfjs' | 'torch';
  python: string;
  env?: TorchEnv;
  reason: string;
}

/** Picks the executor (see the file comment); `probe` is the environment probe (kept answers; injected by tests of the rule only). */
export async function chooseExecutor(c: Pick<ResolvedTrainConfig, 'executor' | 'model' | 'python'>, probe: (python: string) => Promise<TorchEnv> = cachedTorchEnv): Promise<ExecutorChoice> {
  const python = pythonOf(c.python);
  if (c.executor === 'tfjs') return { executor: 'tfjs', python, reason: 'executor tfjs (asked)' };
  if (c.executor === 'auto' && !c.model) return { executor: 'tfjs', python, reason: 'executor auto: tfjs (the built-in model trains with TensorFlow.js)' };
  const env = await probe(python);
  const lacks = `${python} ${env.error ? `cannot run the torch executor (${env.error})` : `lacks ${env.missing.join(', ')}`}`;
  if (env.usable) return { executor: 'torch', python, env, reason: `executor ${c.executor === 'auto' ? 'auto: ' : ''}torch (${python}: torch ${env.packages.torch}, transformers ${env.packages.transformers}, accelerate ${env.packages.accelerate})` };
  if (c.executor === 'torch') {
    throw new ExecutorError(`executor torch: ${lacks}${env.install ? `; install with: ${env.install}` : ''} (or choose another interpreter with --python / dapStudio.python / DAP_PYTHON, or --executor tfjs)`);
  }
  return { executor: 'tfjs', python, env, reason: `executor auto: tfjs (${lacks}${env.install ? `; for the torch executor: ${env.install}` : ''})` };
}

/** The memory estimate's answer (CONTRACT.md §7). */
export interface MemoryEstimate {
  params: number;
  trainableParams: number;
  bytes: Record<'weights' | 'gradients' | 'optimizer' | 'activations' | 'reference' | 'total', number>;
  device: { type: string; name: string; memoryBytes: number };
  fits: boolean;
  suggestions: (string | { change: string; totalBytes?: number })[];
}

/** The `estimate` arguments of a resolved config. */
export function estimateArgs(c: ResolvedTrainConfig): string[] {
  return ['-m', 'dap_train', 'estimate', '--model', c.model ?? '', '--method', c.method, '--batch-size', String(c.batchSize), '--max-length', String(c.maxLength),
    '--grad-accum', String(c.gradAccum), '--mixed-precision', c.mixedPrecision, '--reference', c.reference, '--num-processes', String(c.numProcesses), '--device', c.device,
    ...(c.gradientCheckpointing ? ['--gradient-checkpointing'] : []),
    ...(c.lora ? ['--lora-r', String(c.lora.r), ...(c.lora.targetModules.length ? ['--lora-targets', c.lora.targetModules.join(',')] : [])] : []),
    // DAP_MEMORY_BYTES: check against this budget instead of the whole device (e.g. a GPU shared with other jobs).
    ...(process.env.DAP_MEMORY_BYTES ? ['--memory-bytes', process.env.DAP_MEMORY_BYTES] : [])];
}

/** 1.23 GiB, 45.6 MiB, 7.8 KiB. */
const gib = (b: number) => (b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(2)} GiB` : b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(1)} MiB` : `${(b / 1024).toFixed(1)} KiB`);

/** "weights 0.46 GiB + gradients … = 1.9 GiB per process, cuda NVIDIA … has 79.1 GiB". */
export function formatEstimate(e: MemoryEstimate): string {
  const parts = (['weights', 'gradients', 'optimizer', 'activations', 'reference'] as const).filter((k) => e.bytes[k] > 0).map((k) => `${k} ${gib(e.bytes[k])}`);
  const device = e.device.name && e.device.name !== e.device.type ? `${e.device.type} ${e.device.name}` : e.device.type;
  return `${parts.join(' + ')} = ${gib(e.bytes.total)} per process; ${device} has ${gib(e.device.memoryBytes)}`;
}

/** Runs the estimate; undefined when the probe cannot answer (the run then starts and Python reports an out-of-memory itself). */
export function estimateMemory(python: string, c: ResolvedTrainConfig, timeoutMs = 120_000): Promise<MemoryEstimate | undefined> {
  return new Promise((resolveEstimate) => {
    const child = spawn(python, estimateArgs(c), { env: pythonProcessEnv(), stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
    child.on('error', () => { clearTimeout(timer); resolveEstimate(undefined); });
    child.on('close', (code) => {
      clearTimeout(timer);
      try {
        const e = JSON.parse(out.trim().split('\n').pop() ?? '') as MemoryEstimate;
        resolveEstimate(code === 0 && typeof e.fits === 'boolean' && e.bytes ? e : undefined);
      } catch {
        resolveEstimate(undefined);
      }
    });
  });
}

/** Refuses a run whose estimate does not fit, with the numbers and what would. */
export function checkEstimate(e: MemoryEstimate | undefined): void {
  if (!e || e.fits) return;
  const tips = e.suggestions.map((s) => (typeof s === 'string' ? s : `${s.change}${s.totalBytes !== undefined ? ` (${gib(s.totalBytes)})` : ''}`));
  throw new ExecutorError(`this run will not fit in memory: ${formatEstimate(e)}.${tips.length ? ` Try: ${tips.join('; ')}.` : ' Try LoRA (--lora-r 8), a smaller --batch-size or --max-length, or --gradient-checkpointing.'}`);
}
