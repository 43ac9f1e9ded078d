/**
 * `dap train DATA [options]` or `dap train --config run.json`: runs a training run in the foreground with
 * the same code as the worker (src/train/pipeline.ts) and prints its events: a progress bar on a TTY,
 * plain lines otherwise, JSON lines with --json. Ctrl-C stops after the current step with a checkpoint.
 */
import { readFileSync } from 'node:fs';
import { METHODS, type MethodName } from '../../train/losses/index';
import type { TrainConfig } from '../../train/config';
import { runTraining } from '../../train/pipeline';
import { eventPrinter } from '../../train/progress';
import { backendFlag, numberFlag, parseCommandArgs, UsageError, type Command } from '../command';

const usage = `Usage: dap train DATA [options]
       dap train --config run.json [options]
       dap train --resume runs/RUN_ID   (or runs/RUN_ID/checkpoints/STAGE-step-N)

Trains a model with a Direct Alignment from Preferences method (DPO and relatives).
  DATA                 a file with its own labels: TRL pairs (standard, conversational or implicit-prompt
                       {"chosen","rejected"}), RRHF {"query","responses","scores"} (ranked by score), rankings
                       {"prompt","responses","ranks"}, SFT {"prompt","completion"}, KTO {"prompt","completion","label"};
                       or a task file (any formats, mixed) whose annotation log (--log, default
                       NAME.annotations.jsonl beside it) is compiled first; or that log itself
  --log LOG            annotation log of a task file
  --method M           ${METHODS.join('|')} (default dpo)
  --model DIR          Hugging Face model folder (safetensors); default: the built-in tiny model, SFT on the
                       data's responses first, then the method
  --beta B             β (implicit-reward temperature; simpo's β, orpo's λ)
  --label-smoothing E  ε for cdpo/robust
  --epochs N           passes over the training split (default 3)
  --lr LR              peak learning rate (default 1e-4 built-in model, 5e-7 model folder)
  --batch-size N       pairs (examples) per micro-batch (default 8)
  --grad-accum N       micro-batches per optimizer step (default 1)
  --max-steps N        stop after N optimizer steps
  --max-length N       longest prompt + completion in tokens
  --eval-fraction F    share of prompts held out for evaluation (default 0.1)
  --reference R        precomputed (default) | live
  --checkpoint-every N write a checkpoint every N steps (always at the end and on Ctrl-C)
  --sft-epochs N       epochs of the built-in model's SFT stage (default 12)
  --spin-iterations N  SPIN iterations (default 2)
  --lora-r N           train LoRA adapters of rank N instead of all weights (the method's stage; the built-in
                       model's SFT stage stays full); writes RUN/adapter (PEFT) and RUN/model (merged)
  --lora-alpha A       lora_alpha: updates scaled by A/N (default 8, as PEFT)
  --lora-targets LIST  comma-separated module names (default c_attn for GPT-2, q_proj,v_proj for Llama)
  --out DIR            folder for runs/RUN_ID (default .)
  --run-id ID          run folder name
  --backend B          auto|tensorflow|webgpu|wasm|cpu (default auto)
  --seed S             seed (default 0)
  --resume RUN|CKPT    continue a run (killed, cancelled or failed) from its newest checkpoint, or from the
                       checkpoint folder given; a run killed before its first checkpoint starts again in its
                       folder; a finished run is refused
  --config FILE        JSON config (fields of TrainConfig); flags override it
  --json               print events as JSON lines
A failed run (missing or invalid data included) prints the error on stderr and keeps its run folder, whose
metrics.jsonl ends with the failed event. Exit code: 0 finished or stopped with a checkpoint, 1 failed,
2 bad arguments.`;

const options = {
  log: { type: 'string' }, method: { type: 'string' }, model: { type: 'string' }, beta: { type: 'string' },
  'label-smoothing': { type: 'string' }, epochs: { type: 'string' }, lr: { type: 'string' }, 'batch-size': { type: 'string' },
  'grad-accum': { type: 'string' }, 'max-steps': { type: 'string' }, 'max-length': { type: 'string' }, 'eval-fraction': { type: 'string' },
  reference: { type: 'string' }, 'checkpoint-every': { type: 'string' }, 'sft-epochs': { type: 'string' }, 'spin-iterations': { type: 'string' },
  out: { type: 'string' }, 'run-id': { type: 'string' }, backend: { type: 'string' }, seed: { type: 'string' }, resume: { type: 'string' },
  'lora-r': { type: 'string' }, 'lora-alpha': { type: 'string' }, 'lora-targets': { type: 'string' },
  config: { type: 'string' }, json: { type: 'boolean' },
} as const;

/** Builds the TrainConfig from flags (over --config's file). */
export function configFromArgs(argv: string[]): { config: TrainConfig; json: boolean } {
  const { values: v, positionals } = parseCommandArgs(argv, options);
  if (positionals.length > 1) throw new UsageError('expected one DATA file');
  let base: Partial<TrainConfig> = {};
  if (v.config) {
    try {
      base = JSON.parse(readFileSync(v.config, 'utf8')) as Partial<TrainConfig>;
    } catch (e) {
      throw new Error(`${v.config}: cannot read the config: ${(e as Error).message}`);
    }
  }
  if (v.method !== undefined && !(METHODS as readonly string[]).includes(v.method)) throw new UsageError(`--method: expected one of ${METHODS.join(', ')}`);
  if (v.reference !== undefined && v.reference !== 'live' && v.reference !== 'precomputed') throw new UsageError('--reference: expected live or precomputed');
  backendFlag(v.backend);
  const data = positionals[0] ?? base.data;
  if (!data && !v.resume) throw new UsageError('expected a DATA file (or --config with "data", or --resume)');
  const loss = { ...base.loss };
  if (v.beta !== undefined) loss.beta = numberFlag('beta', v.beta);
  if (v['label-smoothing'] !== undefined) loss.labelSmoothing = numberFlag('label-smoothing', v['label-smoothing']);
  const set = <K extends keyof TrainConfig>(k: K, val: TrainConfig[K] | undefined) => (val === undefined ? {} : { [k]: val });
  const config: TrainConfig = {
    ...base,
    data: data ?? '',
    ...set('log', v.log), ...set('method', v.method as MethodName | undefined), ...set('model', v.model),
    ...(Object.keys(loss).length ? { loss } : {}),
    ...set('epochs', numberFlag('epochs', v.epochs, true)), ...set('lr', numberFlag('lr', v.lr)),
    ...set('batchSize', numberFlag('batch-size', v['batch-size'], true)), ...set('gradAccum', numberFlag('grad-accum', v['grad-accum'], true)),
    ...set('maxSteps', numberFlag('max-steps', v['max-steps'], true)), ...set('maxLength', numberFlag('max-length', v['max-length'], true)),
    ...set('evalFraction', numberFlag('eval-fraction', v['eval-fraction'])), ...set('reference', v.reference as TrainConfig['reference']),
    ...set('checkpointEvery', numberFlag('checkpoint-every', v['checkpoint-every'], true)), ...set('sftEpochs', numberFlag('sft-epochs', v['sft-epochs'], true)),
    ...set('out', v.out), ...set('runId', v['run-id']), ...set('backend', v.backend as TrainConfig['backend']),
    ...set('seed', numberFlag('seed', v.seed, true)), ...set('resume', v.resume),
  };
  const iters = numberFlag('spin-iterations', v['spin-iterations'], true);
  if (iters !== undefined) config.spin = { ...config.spin, iterations: iters };
  const loraR = numberFlag('lora-r', v['lora-r'], true);
  const loraAlpha = numberFlag('lora-alpha', v['lora-alpha']);
  const loraTargets = v['lora-targets']?.split(',').map((t) => t.trim()).filter((t) => t !== '');
  if (loraTargets !== undefined && loraTargets.length === 0) throw new UsageError('--lora-targets: expected module names like q_proj,v_proj');
  if (loraR !== undefined || loraAlpha !== undefined || loraTargets !== undefined) {
    if (loraR === undefined && !base.lora) throw new UsageError('--lora-alpha and --lora-targets need --lora-r (or "lora" in --config)');
    config.lora = { ...base.lora, ...(loraR !== undefined ? { r: loraR } : {}), ...(loraAlpha !== undefined ? { alpha: loraAlpha } : {}),
      ...(loraTargets ? { targetModules: loraTargets } : {}) } as TrainConfig['lora'];
  }
  return { config, json: v.json === true };
}

async function run(argv: string[]): Promise<number> {
  const { config, json } = configFromArgs(argv);
  const print = eventPrinter(process.stdout, json ? 'json' : process.stdout.isTTY ? 'tty' : 'plain');
  let stop = false;
  const onSigint = () => {
    if (stop) process.exit(130);
    stop = true;
    process.stderr.write('\nstopping after this step (a checkpoint will be written); press Ctrl-C again to abort\n');
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  try {
    const outcome = await runTraining(config, { onEvent: print, shouldStop: () => stop });
    if (outcome.status !== 'failed') return 0;
    // The run folder stays (its metrics.jsonl ends with the failed event, as the Runs view shows it); say so on stderr too.
    process.stderr.write(`dap train: ${outcome.error}\n(the failure is recorded in ${outcome.runDir}/metrics.jsonl)\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
}

export const command: Command = { name: 'train', summary: 'Train a model with DPO, IPO, SLiC-HF, RRHF, SPIN, ORPO, SimPO, KTO, …', usage, run };
