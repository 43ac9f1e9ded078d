/**
 * `dap generate --model M [--model M2] --prompts FILE --out TASKS`: sampled responses per prompt (one
 * model: K to rank; two models: pairs for a blind comparison) written as a task file, with a progress bar
 * and ETA; a rerun continues where it stopped (src/loop/generateTasks.ts).
 */
import { formatIssue } from '../../core/issues';
import { formatDuration } from '../../core/duration';
import { generateTasks, type GenerateProgress } from '../../train/loop/generateTasks';
import { pythonOf } from '../../train/torch/env';
import { backendFlag, integerFlag, numberFlag, parseCommandArgs, UsageError, type Command } from '../command';

const usage = `Usage: dap generate --model M [--model M2] --prompts FILE --out TASKS [options]

Samples responses and writes them as a task file to annotate, rank or judge. One model: N responses per
prompt (items to rank or pick from). Two models: N pair items per prompt with one response of each, for a
blind comparison (the annotator hides model names until an item is judged; dap stats reports the win rate
of the second model over the first).
  --model M            builtin | a Hugging Face model folder | a run folder (runs/RUN_ID: its model/);
                       each response records it as "model" (builtin, the folder as given, or the run id)
  --prompts FILE       any file with prompts: task files (every format), SFT/KTO rows, {"prompt"} rows
  --out TASKS          the task file to write; if it exists, prompts already there are skipped and new
                       items are appended (never rewritten), so a rerun continues where it stopped
  --n K                responses per prompt per model (default 4 with one model, 1 with two)
  --temperature T      sampling temperature, 0 = greedy (default 1)
  --top-p P            nucleus sampling mass (default 1)
  --max-new-tokens N   longest response in tokens (default 64)
  --seed S             seed (default 0); sample j of a prompt uses the same seed for every model
  --batch-size N       prompts per batch (default 16)
  --backend B          tfjs backend: auto|tensorflow|webgpu|wasm|cpu (default auto)
  --executor E         tfjs (default: the in-process engine) | torch (transformers' model.generate in
                       Python, on CUDA/MPS when there is one; sampled output differs from tfjs, greedy matches)
  --python PY          the torch executor's interpreter (default $DAP_PYTHON, else python3)
  --device D           the torch executor's device: auto (cuda, mps, cpu) or a torch device (default auto)
Ctrl-C stops after the current batch; what is written stays. Exit code 0, 1 on errors, 2 bad arguments.`;

function progressLine(p: GenerateProgress, width = 20): string {
  const filled = Math.round((width * p.done) / Math.max(1, p.total));
  const rate = p.seconds > 0 ? p.tokens / p.seconds : 0;
  return `generate [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.done}/${p.total} prompts ${Math.round(rate)} tok/s ETA ${formatDuration(p.etaSeconds)}`;
}

async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseCommandArgs(argv, {
    model: { type: 'string', multiple: true }, prompts: { type: 'string' }, out: { type: 'string' }, n: { type: 'string' },
    temperature: { type: 'string' }, 'top-p': { type: 'string' }, 'max-new-tokens': { type: 'string' }, seed: { type: 'string' },
    'batch-size': { type: 'string' }, backend: { type: 'string' }, executor: { type: 'string' }, python: { type: 'string' }, device: { type: 'string' },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}" (give the prompts with --prompts)`);
  const models = v.model ?? [];
  if (models.length < 1 || models.length > 2) throw new UsageError('expected --model once (responses to rank) or twice (a comparison)');
  if (!v.prompts) throw new UsageError('expected --prompts FILE');
  if (!v.out) throw new UsageError('expected --out TASKS');
  backendFlag(v.backend);
  const executor = v.executor ?? 'tfjs';
  if (executor !== 'tfjs' && executor !== 'torch') throw new UsageError(`--executor: expected tfjs or torch, got "${executor}"`);
  if (executor === 'tfjs' && (v.python !== undefined || v.device !== undefined)) throw new UsageError('--python and --device are options of --executor torch');
  const tty = process.stdout.isTTY === true;
  let stop = false;
  const onSigint = () => {
    if (stop) process.exit(130);
    stop = true;
    process.stderr.write('\nstopping after this batch; rerun the same command to continue\n');
  };
  process.on('SIGINT', onSigint);
  try {
    const result = await generateTasks({
      models, prompts: v.prompts, out: v.out,
      n: integerFlag('n', v.n, models.length === 1 ? 4 : 1),
      temperature: numberFlag('temperature', v.temperature) ?? 1,
      topP: numberFlag('top-p', v['top-p']) ?? 1,
      maxNewTokens: integerFlag('max-new-tokens', v['max-new-tokens'], 64),
      seed: integerFlag('seed', v.seed, 0),
      batchSize: integerFlag('batch-size', v['batch-size'], 16),
      backend: v.backend ?? 'auto',
      torch: executor === 'torch' ? { python: pythonOf(v.python), device: v.device ?? 'auto' } : undefined,
      shouldStop: () => stop,
      onProgress: (p) => process.stdout.write(tty ? `\r${progressLine(p)}` : `${progressLine(p)}\n`),
    });
    if (tty) process.stdout.write('\n');
    for (const issue of result.issues) process.stderr.write(`${formatIssue(issue)}\n`);
    const names = result.models.map((m) => m.name).join(' vs ');
    process.stdout.write(`${result.stopped ? 'stopped' : 'done'}: ${result.written} items written, ${result.skipped} already there, ${result.prompts} prompts (${names}) → ${result.out}\n`);
    return result.issues.some((i) => i.severity === 'error') ? 1 : 0;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

export const command: Command = { name: 'generate', summary: 'Sample responses from one model (to rank) or two (a blind comparison) into a task file', usage, run };
