/**
 * `dap review DATA [--log LOG] [--run RUN_DIR | --model DIR] [--k K] [--json] [--top N]`: prints the
 * review lists of likely annotation errors (disagreements with per-annotator agreement with the majority,
 * model-flagged pairs when a model is given, never-won responses) as tables, or one JSON object with --json.
 */
import { parseArgs } from 'node:util';
import { backendFlag, taskFileArgument, type Command } from '../command';
import { existsSync } from 'node:fs';
import { formatIssue } from '../../core/issues';
import { defaultLogPath, loadReview } from '../../core/review/load';
import { formatReport } from '../../core/review/format';
import { DEFAULT_TAU_THRESHOLD } from '../../core/disagreement';
import { NEVER_WON_MIN_ANNOTATORS } from '../../core/agreement';
import { buildReviewReport } from '../../core/review/report';
import { SCORING_DEFAULTS, type ScoreRequest } from '../../train/flagging/scores';

const usage = `Usage: dap review DATA [--log LOG] [--run RUN_DIR | --model DIR] [--k K] [--json] [--top N]

Lists likely annotation errors of a task file DATA and its annotation log (a self-labelled DATA, TRL pairs
or RRHF rows with scores, whose log holds no judgments is reviewed against its rows' own labels: only the
model-flagged list applies):
  disagreements   pairs with opposite choices, rankings with Kendall tau-b below --tau (default ${DEFAULT_TAU_THRESHOLD}),
                  and each annotator's agreement with the majority of the others; each judgment with what
                  that annotator was shown (responses are #1, #2 … in file order; A/B are screen positions)
  model-flagged   pairs whose implicit reward margin contradicts the label (most negative first), when
                  scored with a model:
    --run RUN_DIR   a training run: its final policy and its reference (pairs of the run's held-out split
                    are marked run_heldout; the others run_train, which is circular)
    --k K           k-fold: train K DPO models (each on K-1 folds of the items) and score each held-out fold
                    (from --model DIR, or the built-in model after SFT on the responses)
    --model DIR     alone: reference-free, mean log-prob(chosen) - mean log-prob(rejected) of that model
                    (DIR "builtin": the built-in model after SFT on the responses)
  never won       responses that lost every comparison they were in, judged by ${NEVER_WON_MIN_ANNOTATORS} or more annotators (the
                  loser of one pair judgment is not listed): DPO pushes these down without bound

Options:
  --log LOG        annotation log (default: DATA's sibling NAME.annotations.jsonl)
  --json           print one JSON object (the report) instead of tables
  --top N          keep only the first N entries of each list
  --tau T          Kendall tau-b threshold for ranking disagreements (default ${DEFAULT_TAU_THRESHOLD})
  --beta B         DPO beta for k-fold training and rewards (default ${SCORING_DEFAULTS.beta})
  --epochs N       DPO epochs per fold (default ${SCORING_DEFAULTS.epochs})
  --sft-epochs N   SFT epochs of the built-in base model on every response (default ${SCORING_DEFAULTS.sftEpochs})
  --seed S         seed of the fold split and training (default ${SCORING_DEFAULTS.seed})
  --backend NAME   auto | wasm | cpu | webgpu | tensorflow (default auto)
  --all            keep entries already confirmed in the log
Progress goes to stderr. Exit code 0, or 1 when a file cannot be read, 2 on bad arguments.`;

function fail(message: string): number {
  process.stderr.write(`dap review: ${message}\n\n${usage}\n`);
  return 2;
}

async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        log: { type: 'string' },
        run: { type: 'string' },
        model: { type: 'string' },
        k: { type: 'string' },
        json: { type: 'boolean', default: false },
        top: { type: 'string' },
        tau: { type: 'string' },
        beta: { type: 'string' },
        epochs: { type: 'string' },
        'sft-epochs': { type: 'string' },
        seed: { type: 'string' },
        backend: { type: 'string' },
        all: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    return fail((e as Error).message);
  }
  const { values: v, positionals } = parsed;
  if (v.help) {
    process.stdout.write(usage + '\n');
    return 0;
  }
  if (positionals.length !== 1) return fail('expected exactly one DATA file');
  const num = (name: string, text: string | undefined, fallback: number, integer = false): number => {
    if (text === undefined) return fallback;
    const x = Number(text);
    if (!Number.isFinite(x) || (integer && !Number.isInteger(x))) throw new Error(`--${name}: expected a number, got "${text}"`);
    return x;
  };
  let top: number, tau: number, beta: number, epochs: number, sftEpochs: number, seed: number, k: number | undefined;
  try {
    top = num('top', v.top, Infinity, true);
    tau = num('tau', v.tau, DEFAULT_TAU_THRESHOLD);
    beta = num('beta', v.beta, SCORING_DEFAULTS.beta);
    epochs = num('epochs', v.epochs, SCORING_DEFAULTS.epochs, true);
    sftEpochs = num('sft-epochs', v['sft-epochs'], SCORING_DEFAULTS.sftEpochs, true);
    seed = num('seed', v.seed, SCORING_DEFAULTS.seed, true);
    k = v.k === undefined ? undefined : num('k', v.k, 2, true);
  } catch (e) {
    return fail((e as Error).message);
  }
  if (k !== undefined && k < 2) return fail('--k: expected K >= 2');
  if (top < 0) return fail(`--top: expected N >= 0, got ${top}`);
  if (!(beta > 0)) return fail(`--beta: expected a number > 0, got ${beta}`);
  if (epochs < 1) return fail(`--epochs: expected N >= 1, got ${epochs}`);
  if (sftEpochs < 0) return fail(`--sft-epochs: expected N >= 0, got ${sftEpochs}`);
  try {
    backendFlag(v.backend);
  } catch (e) {
    return fail((e as Error).message);
  }
  if (v.run && (v.model || k !== undefined)) return fail('--run cannot be combined with --model or --k');
  let taskFile: string;
  try {
    taskFile = taskFileArgument(positionals[0]);
  } catch (e) {
    return fail((e as Error).message);
  }
  const logFile = v.log ?? defaultLogPath(taskFile);
  // A log named with --log must exist (a typo would otherwise review an empty log); the default may be absent.
  for (const file of v.log === undefined ? [taskFile] : [taskFile, logFile]) {
    if (!existsSync(file)) {
      process.stderr.write(`dap review: ${file}: no such file\n`);
      return 1;
    }
  }
  let loaded: Awaited<ReturnType<typeof loadReview>>;
  try {
    loaded = await loadReview(taskFile, logFile, { tauThreshold: tau });
  } catch (e) {
    process.stderr.write(`dap review: ${(e as Error).message}\n`);
    return 1;
  }
  const { input, issues } = loaded;
  for (const issue of issues) process.stderr.write(formatIssue(issue) + '\n');

  let request: ScoreRequest | undefined;
  if (v.run) request = { kind: 'run', dir: v.run, beta };
  else if (k !== undefined) request = { kind: 'kfold', k, model: v.model, beta, epochs, seed };
  else if (v.model) request = { kind: 'reference_free', model: v.model, seed };
  // The engine (tfjs) is loaded only when a model is asked for: the lists alone start fast.
  const scoreForReview = request ? (await import('../../train/flagging/index')).scoreForReview : undefined;
  const scored = request && scoreForReview
    ? await scoreForReview(input, request, {
        backend: v.backend ?? 'auto',
        onProgress: (m: string) => process.stderr.write(`review: ${m}\n`),
        train: { sftEpochs },
      })
    : undefined;

  const report = buildReviewReport(input, {
    tauThreshold: tau,
    top,
    includeConfirmed: v.all,
    scores: scored?.scores,
    scoresMethod: scored?.method,
  });
  process.stdout.write(v.json ? JSON.stringify(report) + '\n' : formatReport(report));
  return 0;
}

export const reviewCommand: Command = {
  name: 'review',
  summary: 'List likely annotation errors: disagreements, model-flagged pairs, never-won responses',
  usage,
  run,
};
