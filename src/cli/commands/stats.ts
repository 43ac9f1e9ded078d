/**
 * `dap stats TASKS [--log LOG] [--json]`: counts items, annotated items and judgments per annotator, and
 * prints agreement (percent and Cohen's κ for pairs, Kendall τ-b for rankings, agreement with the majority;
 * shares printed as percentages), the never-won responses (the review's rule), position bias, and — for a
 * file comparing two models (responses with `model`, as `dap generate --model A --model B` writes) — the win
 * rate of B over A with its 95% interval, per annotator and overall. Data issues go to stderr, as found.
 * Memory is bounded, not proportional to the files (core/projectStats.ts: a log over the budget is resolved
 * in hash partitions spilled to temporary files, the task file's ids past a budget too: core/taskScan.ts);
 * DAP_STATS_PARTITION_BYTES sets the budget in log bytes, DAP_DATA_IDS_IN_MEMORY the one in ids. A partitioned
 * log is read on a second thread while the task file is read (DAP_STATS_LOG_THREAD=0: one after the other).
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { NEVER_WON_MIN_ANNOTATORS } from '../../core/agreement';
import { compiledFileKind, scanCompiledFile } from '../../core/compiledRows';
import { formatIssue } from '../../core/issues';
import type { ModelComparison, WinRateRow } from '../../core/modelComparison';
import type { PositionBiasRow } from '../../core/positionBias';
import { defaultLogPath } from '../../core/project';
import { projectStats, type ProjectStats } from '../../core/projectStats';
import { AUTOMATIC_JUDGES } from '../../core/verifierJudge';
import { idsInMemory, parseCommandArgs, taskFileArgument, UsageError, type Command } from '../command';

const usage = `Usage: dap stats TASKS [--log LOG] [--json]

Summarizes a task file and its annotation log, or a file of SFT / KTO rows (their own labels): judgments,
agreement, never-won responses, position bias (how often the first-shown response wins) and, when the items
compare two models (responses carrying "model", e.g. from dap generate --model A --model B), the win rate of
B over A with a 95% interval.
  --log LOG   annotation log (default: TASKS' sibling NAME.annotations.jsonl, NAME = file name without
              .jsonl and without a trailing .tasks)
  --json      print one JSON object instead of text
Data problems are printed to stderr as file:line: field: problem. Exit code 0, 1 if a file cannot be read.`;

/** What `dap stats --json` prints: the report of core/projectStats.ts with the files and the issue counts. */
export interface StatsSummary extends Omit<ProjectStats, 'partitions'> {
  tasks: string;
  log: string;
  issues: { errors: number; warnings: number };
}

function fmt(value: number | null, digits = 3): string {
  return value === null || Number.isNaN(value) ? 'n/a' : value.toFixed(digits);
}

/** A share as people read it: 0.815 → "81.5%". */
function percent(value: number | null): string {
  return value === null || Number.isNaN(value) ? 'n/a' : `${(100 * value).toFixed(1)}%`;
}

/** "  bob: first shown won 61/100 = 61.0% [51.2%, 70.0%], binomial p = 0.035" */
function biasLine(r: PositionBiasRow): string {
  return `  ${r.annotator}: first shown won ${r.firstWins}/${r.n} = ${percent(r.rate)} [${percent(r.low)}, ${percent(r.high)}], binomial p = ${fmt(r.pValue)}`;
}

function winLine(r: WinRateRow): string {
  return `  ${r.annotator}: ${percent(r.rate)} [${percent(r.low)}, ${percent(r.high)}] (wins ${r.wins}, losses ${r.losses}, ties ${r.ties}; both bad ${r.bothBad}, not counted)`;
}

/** The model-comparison lines of dap stats. */
export function formatComparison(m: ModelComparison): string[] {
  return [
    `models: win rate of B "${m.b}" over A "${m.a}" (ties count half; 95% Wilson interval), ${m.items} items, ${m.judgedItems} judged:`,
    winLine({ ...m.overall, annotator: 'overall (per item)' }),
    ...m.perAnnotator.map(winLine),
    'position bias in this comparison:',
    ...(m.positionBias.overall.n > 0 ? [...m.positionBias.perAnnotator, m.positionBias.overall].map(biasLine) : ['  (no decisive human pair judgments)']),
  ];
}

function formatText(s: StatsSummary): string {
  const lines = [
    `tasks: ${s.tasks}`,
    `log:   ${s.log}`,
    `items: ${s.items}, annotated: ${s.annotatedItems}, events: ${s.events}, current judgments: ${s.judgments}`,
    'per annotator:',
    ...s.perAnnotator.map((a) => `  ${a.annotator}: ${a.judgments} judgments (${a.pair} pair, ${a.rank} rank; ${a.ties} tie, ${a.bothBad} both_bad)`),
    `pair agreement: ${s.agreement.pairs.overall.n} common pairs, agree ${percent(s.agreement.pairs.overall.percent)}, Cohen's kappa ${fmt(s.agreement.pairs.overall.kappa)}`,
    ...s.agreement.pairs.perAnnotatorPair.map((p) => `  ${p.annotators.join(' vs ')}: n=${p.n}, agree ${percent(p.percent)}, kappa ${fmt(p.kappa)}`),
    `ranking agreement: ${s.agreement.rankings.overall.n} common items, Kendall tau-b ${fmt(s.agreement.rankings.overall.tau)}`,
    ...s.agreement.rankings.perAnnotatorPair.map((p) => `  ${p.annotators.join(' vs ')}: n=${p.n}, tau-b ${fmt(p.tau)}`),
    'agreement with the majority of the others:',
    ...s.agreement.withMajority.map((m) => `  ${m.annotator}: ${m.agree}/${m.n} (${percent(m.rate)})`),
    `never won (lost every comparison, judged by ${NEVER_WON_MIN_ANNOTATORS}+ annotators): ${s.neverWonItems} items, ${s.neverWon} responses`,
    'position bias (first-shown response wins, decisive pair judgments; 50% = none):',
    ...(s.positionBias.overall.n > 0 ? [...s.positionBias.perAnnotator, s.positionBias.overall].map(biasLine) : ['  (no decisive pair judgments)']),
    ...(s.models ? formatComparison(s.models) : []),
    `issues: ${s.issues.errors} errors, ${s.issues.warnings} warnings`,
  ];
  return `${lines.join('\n')}\n`;
}

/** What `dap stats --json` prints for a file of SFT or KTO rows (their labels are their own: no log, no agreement). */
export interface CompiledStatsSummary {
  tasks: string;
  kind: 'sft' | 'unpaired';
  rows: number;
  prompts: number;
  desirable: number;
  undesirable: number;
  issues: { errors: number; warnings: number };
}

async function compiledStats(path: string, kind: 'sft' | 'unpaired', json: boolean): Promise<number> {
  const scan = await scanCompiledFile(path, kind);
  for (const issue of scan.issues) process.stderr.write(`${formatIssue(issue)}\n`);
  const errors = scan.issues.filter((i) => i.severity === 'error').length;
  const s: CompiledStatsSummary = { tasks: path, kind, rows: scan.rows, prompts: scan.prompts, desirable: scan.desirable, undesirable: scan.undesirable,
    issues: { errors, warnings: scan.issues.length - errors } };
  const text = [
    `tasks: ${path}`,
    kind === 'unpaired'
      ? `KTO rows: ${s.rows} over ${s.prompts} prompts: ${s.desirable} desirable (label true), ${s.undesirable} undesirable (label false)`
      : `SFT rows: ${s.rows} over ${s.prompts} prompts`,
    'labels: the rows\' own (no annotation log, no agreement)',
    `issues: ${errors} errors, ${s.issues.warnings} warnings`,
  ].join('\n');
  process.stdout.write(json ? `${JSON.stringify(s)}\n` : `${text}\n`);
  return 0;
}

/**
 * The log reader thread's bundle beside this one (dist/statsLogWorker.js), when there is a second core to run
 * it on and DAP_STATS_LOG_THREAD is not 0; else undefined (the log is read after the task file).
 */
function logWorker(): string | undefined {
  const path = join(typeof __dirname !== 'undefined' ? __dirname : process.cwd(), 'statsLogWorker.js');
  return process.env.DAP_STATS_LOG_THREAD !== '0' && availableParallelism() > 1 && existsSync(path) ? path : undefined;
}

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { log: { type: 'string' }, json: { type: 'boolean' } });
  if (positionals.length !== 1) throw new UsageError('expected exactly one TASKS file');
  const tasksPath = taskFileArgument(positionals[0]);
  if (!existsSync(tasksPath)) throw new Error(`${tasksPath}: no such file`);
  const compiled = values.log === undefined ? await compiledFileKind(tasksPath) : null;
  if (compiled) return compiledStats(tasksPath, compiled, values.json === true);
  const logPath = values.log ?? defaultLogPath(tasksPath);
  if (values.log !== undefined && !existsSync(logPath)) throw new Error(`${logPath}: no such file`);
  let errors = 0, warnings = 0;
  const partitionBytes = Number(process.env.DAP_STATS_PARTITION_BYTES) || undefined;
  const stats = await projectStats(tasksPath, logPath, { partitionBytes, idsInMemory: idsInMemory(), automaticJudges: AUTOMATIC_JUDGES, logWorker: logWorker(), onIssue: (issue) => {
    if (issue.severity === 'error') errors++;
    else warnings++;
    process.stderr.write(`${formatIssue(issue)}\n`);
  } });
  const { partitions: _partitions, ...report } = stats; // how it was computed is not part of the report
  const summary: StatsSummary = { tasks: tasksPath, log: logPath, ...report, issues: { errors, warnings } };
  process.stdout.write(values.json ? `${JSON.stringify(summary)}\n` : formatText(summary));
  return 0;
}

export const command: Command = { name: 'stats', summary: 'Items, annotations per annotator, agreement (kappa, tau) and never-won counts', usage, run };
