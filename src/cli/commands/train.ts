/**
 * `dap train DATA [options]` or `dap train --config run.json`: runs a training run in the foreground with
 * the same code as the worker (src/train/pipeline/) and prints its events: a progress bar on a TTY,
 * plain lines otherwise, JSON lines with --json. Ctrl-C stops after the current step with a checkpoint.
 */
import { readFileSync } from 'node:fs';
import { ConfigError, resolveConfig, TRAIN_FIELDS, type TrainConfig } from '../../train/config/index';
import { configFromFlagValues, flagOptions, flagUsageLines, joinNegativeValues, TRAIN_FLAGS } from '../../train/config/flags';
import { runTraining } from '../../train/pipeline/index';
import { checkEstimate, chooseExecutor, estimateMemory, ExecutorError, type ExecutorChoice } from '../../train/torch/choose';
import { eventPrinter } from '../progress';
import { parseCommandArgs, UsageError, type Command } from '../command';

const usage = `Usage: dap train DATA [options]
       dap train --config run.json [options]
       dap train --resume runs/RUN_ID   (or runs/RUN_ID/checkpoints/STAGE-step-N)

Trains a model with a Direct Alignment from Preferences method (DPO and relatives).
  DATA                      a file with its own labels: TRL pairs (standard, conversational or implicit-prompt
                            {"chosen","rejected"}), RRHF {"query","responses","scores"} (ranked by score), rankings
                            {"prompt","responses","ranks"}, SFT {"prompt","completion"}, KTO {"prompt","completion","label"};
                            or a task file (any formats, mixed) whose annotation log (--log, default
                            NAME.annotations.jsonl beside it) is compiled first; or that log itself
${flagUsageLines()}
  --config FILE             JSON config (the fields above by their config names, e.g. {"loss": {"beta": 0.1}},
                            and "builtin", "lora" objects); flags override it
  --json                    print events as JSON lines
  --prepare-only            torch executor: write the run folder (config, tokenized data) and print the command
                            that trains it, without running it (for multi-node / Slurm launches)
Every value is checked before anything is created (exit 2 naming the field). A failed run (missing or invalid
data included) prints the error on stderr and keeps its run folder, whose metrics.jsonl ends with the failed
event. Exit code: 0 finished or stopped with a checkpoint, 1 failed, 2 bad arguments or config.`;

const options = { ...flagOptions(), config: { type: 'string' }, json: { type: 'boolean' }, 'prepare-only': { type: 'boolean' } } as const;
const valueFlags = new Set(TRAIN_FLAGS.filter((f) => f.field.kind !== 'boolean').map((f) => f.flag));

/** Merges flag fields over --config's: nested objects (loss, spin, lora, builtin) key by key. */
function mergeConfig(base: Record<string, unknown>, flags: Record<string, unknown>): Record<string, unknown> {
  const out = { ...base };
  for (const [k, v] of Object.entries(flags)) {
    const b = base[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b) ? { ...b, ...v } : v;
  }
  return out;
}

/** Optional objects with a required field (lora.r): flags that set its other fields need that one too. */
function checkFlagGroups(base: Record<string, unknown>, flags: Record<string, unknown>): void {
  for (const [name, f] of Object.entries(TRAIN_FIELDS)) {
    if (f.kind !== 'object' || f.present || !flags[name] || base[name]) continue;
    const given = flags[name] as Record<string, unknown>;
    for (const [sub, sf] of Object.entries(f.fields)) {
      if (!sf.required || given[sub] !== undefined || !sf.flag) continue;
      const others = Object.values(f.fields).filter((o) => !o.required && o.flag).map((o) => `--${o.flag}`);
      throw new UsageError(`${others.join(' and ')} need --${sf.flag} (or "${name}" in --config)`);
    }
  }
}

/**
 * A validation problem as `dap train` prints it: the flag as its subject when the value came from a flag
 * ("--beta: expected a positive number, got 0: …"), else the config field ("config: loss.beta: … (--beta)").
 */
export function problemLine(problem: string, flagPaths: ReadonlySet<string>): string {
  for (const f of TRAIN_FLAGS) {
    const prefix = `${f.path}: `;
    const note = ` (--${f.flag})`;
    if (flagPaths.has(f.path) && problem.startsWith(prefix) && problem.includes(note)) {
      return `--${f.flag}: ${problem.slice(prefix.length).replace(note, '')}`;
    }
  }
  return `config: ${problem}`;
}

/** Dotted paths of the fields an object sets ("loss.beta"). */
function pathsOf(o: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) => (v && typeof v === 'object' && !Array.isArray(v) ? pathsOf(v as Record<string, unknown>, `${prefix}${k}.`) : [`${prefix}${k}`]));
}

/** Builds the TrainConfig from flags (over --config's file); types and ranges are checked by resolveConfig. */
export function configFromArgs(argv: string[]): { config: TrainConfig; json: boolean; prepareOnly: boolean; flagPaths: Set<string> } {
  const { values: v, positionals } = parseCommandArgs(joinNegativeValues(argv, valueFlags), options);
  if (positionals.length > 1) throw new UsageError('expected one DATA file');
  let base: Record<string, unknown> = {};
  if (v.config) {
    try {
      base = JSON.parse(readFileSync(v.config, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new UsageError(`${v.config}: cannot read the config: ${(e as Error).message}`);
    }
    if (!base || typeof base !== 'object' || Array.isArray(base)) throw new UsageError(`${v.config}: expected a JSON object of training-config fields`);
  }
  const flags = configFromFlagValues(v as Record<string, string | boolean | undefined>);
  checkFlagGroups(base, flags);
  const merged = mergeConfig(base, flags);
  const data = positionals[0] ?? (merged.data as string | undefined);
  if (!data && !merged.resume) throw new UsageError('expected a DATA file (or --config with "data", or --resume)');
  return { config: { ...merged, data: data ?? '' } as TrainConfig, json: v.json === true, prepareOnly: v['prepare-only'] === true, flagPaths: new Set(pathsOf(flags)) };
}

async function run(argv: string[]): Promise<number> {
  const { config, json, prepareOnly, flagPaths } = configFromArgs(argv);
  let runId = config.runId;
  let choice: ExecutorChoice | undefined;
  if (!config.resume) {
    try {
      const resolved = resolveConfig(config); // every field checked once, before a run folder exists
      runId = resolved.runId;
      choice = await chooseExecutor(resolved);
      if (prepareOnly && choice.executor !== 'torch') throw new UsageError('--prepare-only prepares a torch run (--executor torch with a model folder)');
      if (choice.executor === 'torch') checkEstimate(await estimateMemory(choice.python, resolved));
    } catch (e) {
      if (e instanceof ConfigError) {
        process.stderr.write(e.problems.map((p) => `dap train: ${problemLine(p, flagPaths)}\n`).join(''));
        return 2;
      }
      if (e instanceof ExecutorError) {
        process.stderr.write(`dap train: ${e.message}\n`);
        return 2;
      }
      throw e;
    }
  }
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
    let outcome;
    try {
      outcome = await runTraining({ ...config, ...(runId ? { runId } : {}) }, { onEvent: print, shouldStop: () => stop, prepareOnly }, choice);
    } catch (e) {
      // A resume the executor cannot do as asked (nothing was written): a bad argument, like the checks above.
      if (!(e instanceof ExecutorError)) throw e;
      process.stderr.write(`dap train: ${e.message}\n`);
      return 2;
    }
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
