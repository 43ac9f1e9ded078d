/**
 * `dap stats TASKS [--log LOG] [--json]`: counts items, annotated items and judgments per annotator, and
 * prints agreement (percent and Cohen's κ for pairs, Kendall τ-b for rankings, agreement with the majority)
 * and the number of never-won responses. Data issues go to stderr.
 */
import { existsSync } from 'node:fs';
import { agreementReport, responseStats, type AgreementReport } from '../../core/agreement';
import { formatIssue } from '../../core/issues';
import { defaultLogPath, loadProjectSummary } from '../../core/project';
import { parseCommandArgs, taskFileArgument, UsageError, type Command } from '../command';

const usage = `Usage: dap stats TASKS [--log LOG] [--json]

Summarizes a task file and its annotation log.
  --log LOG   annotation log (default: TASKS' sibling NAME.annotations.jsonl, NAME = file name without
              .jsonl and without a trailing .tasks)
  --json      print one JSON object instead of text
Data problems are printed to stderr as file:line: field: problem. Exit code 0, 1 if a file cannot be read.`;

/** What `dap stats --json` prints. */
export interface StatsSummary {
  tasks: string;
  log: string;
  items: number;
  annotatedItems: number;
  events: number;
  judgments: number;
  perAnnotator: { annotator: string; judgments: number; pair: number; rank: number; bothBad: number; ties: number }[];
  agreement: AgreementReport;
  neverWon: number;
  issues: { errors: number; warnings: number };
}

function fmt(value: number | null, digits = 3): string {
  return value === null || Number.isNaN(value) ? 'n/a' : value.toFixed(digits);
}

function formatText(s: StatsSummary): string {
  const lines = [
    `tasks: ${s.tasks}`,
    `log:   ${s.log}`,
    `items: ${s.items}, annotated: ${s.annotatedItems}, events: ${s.events}, current judgments: ${s.judgments}`,
    'per annotator:',
    ...s.perAnnotator.map((a) => `  ${a.annotator}: ${a.judgments} judgments (${a.pair} pair, ${a.rank} rank; ${a.ties} tie, ${a.bothBad} both_bad)`),
    `pair agreement: ${s.agreement.pairs.overall.n} common pairs, percent ${fmt(s.agreement.pairs.overall.percent)}, Cohen's kappa ${fmt(s.agreement.pairs.overall.kappa)}`,
    ...s.agreement.pairs.perAnnotatorPair.map((p) => `  ${p.annotators.join(' vs ')}: n=${p.n}, percent ${fmt(p.percent)}, kappa ${fmt(p.kappa)}`),
    `ranking agreement: ${s.agreement.rankings.overall.n} common items, Kendall tau-b ${fmt(s.agreement.rankings.overall.tau)}`,
    ...s.agreement.rankings.perAnnotatorPair.map((p) => `  ${p.annotators.join(' vs ')}: n=${p.n}, tau-b ${fmt(p.tau)}`),
    'agreement with the majority of the others:',
    ...s.agreement.withMajority.map((m) => `  ${m.annotator}: ${m.agree}/${m.n} (${fmt(m.rate)})`),
    `never-won responses: ${s.neverWon}`,
    `issues: ${s.issues.errors} errors, ${s.issues.warnings} warnings`,
  ];
  return `${lines.join('\n')}\n`;
}

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { log: { type: 'string' }, json: { type: 'boolean' } });
  if (positionals.length !== 1) throw new UsageError('expected exactly one TASKS file');
  const tasksPath = taskFileArgument(positionals[0]);
  if (!existsSync(tasksPath)) throw new Error(`${tasksPath}: no such file`);
  const logPath = values.log ?? defaultLogPath(tasksPath);
  if (values.log !== undefined && !existsSync(logPath)) throw new Error(`${logPath}: no such file`);
  const project = await loadProjectSummary(tasksPath, logPath); // streams the task file: memory grows with the log only
  for (const issue of project.issues) process.stderr.write(`${formatIssue(issue)}\n`);
  const { judgments } = project.resolution;
  const perAnnotator = new Map<string, StatsSummary['perAnnotator'][number]>();
  for (const j of judgments) {
    const a = perAnnotator.get(j.annotator) ?? { annotator: j.annotator, judgments: 0, pair: 0, rank: 0, bothBad: 0, ties: 0 };
    a.judgments++;
    a[j.kind]++;
    if (j.bothBad) a.bothBad++;
    else if (j.kind === 'pair' && j.ranking.length === 1) a.ties++;
    perAnnotator.set(j.annotator, a);
  }
  const errors = project.issues.filter((i) => i.severity === 'error').length;
  const summary: StatsSummary = {
    tasks: tasksPath,
    log: logPath,
    items: project.itemCount,
    annotatedItems: new Set(judgments.map((j) => j.item)).size,
    events: project.events.length,
    judgments: judgments.length,
    perAnnotator: [...perAnnotator.values()].sort((x, y) => (x.annotator < y.annotator ? -1 : 1)),
    agreement: agreementReport(judgments),
    neverWon: responseStats(project.items, judgments).filter((r) => r.neverWon).length,
    issues: { errors, warnings: project.issues.length - errors },
  };
  process.stdout.write(values.json ? `${JSON.stringify(summary)}\n` : formatText(summary));
  return 0;
}

export const command: Command = { name: 'stats', summary: 'Items, annotations per annotator, agreement (kappa, tau) and never-won counts', usage, run };
