/**
 * `dap export TASKS [--log LOG] --format trl|rrhf|sft|kto [--pairs all|best_vs_rest] [--out FILE]`:
 * compiles the current judgments into a training dataset (JSONL) on stdout or into FILE.
 * The rules (ties, both_bad, majority vote) are documented in src/core/compile.ts and the README.
 */
import { existsSync, statSync } from 'node:fs';
import { writeFileAtomicSync } from '../../core/atomicWrite';
import { resolve } from 'node:path';
import { compile, toJsonl, type ExportFormat, type PairMode } from '../../core/compile';
import { formatIssue } from '../../core/issues';
import { defaultLogPath, loadProject } from '../../core/project';
import { parseCommandArgs, taskFileArgument, UsageError, type Command } from '../command';

const usage = `Usage: dap export TASKS [--log LOG] --format trl|rrhf|sft|kto [--pairs all|best_vs_rest] [--out FILE]

Compiles the current judgments of TASKS into a dataset (JSONL):
  trl    TRL preference pairs {"prompt","chosen","rejected"} (conversational prompts stay conversational)
  rrhf   rankings {"prompt","responses","ranks"}, rank 0 = best, ties share a rank
  sft    {"prompt","completion"}: the best response of each item (both-bad items left out)
  kto    {"prompt","completion","label"}: best group true, worst group false, both-bad all false
  --pairs all           every pair of responses in different groups (default)
  --pairs best_vs_rest  only pairs won by the best group
  --log LOG             annotation log (default: TASKS' sibling NAME.annotations.jsonl)
  --out FILE            write to FILE instead of stdout
A tie or both_bad gives no pair. Several annotators: majority vote per pair; a tied vote drops the pair.
Data problems go to stderr. Exit code 0, 1 if a file cannot be read, 2 on bad arguments.`;

const FORMATS: readonly ExportFormat[] = ['trl', 'rrhf', 'sft', 'kto'];

/**
 * True when `out` names the same file as `input`, however spelled: `./x.jsonl` and `x.jsonl`, a symlink or
 * a hard link to it (same device and inode), so `--out` can never overwrite an input.
 */
export function isSameFile(out: string, input: string): boolean {
  if (resolve(out) === resolve(input)) return true;
  try {
    const a = statSync(out);
    const b = statSync(input);
    return a.dev === b.dev && a.ino === b.ino;
  } catch {
    return false; // one of them does not exist: not the same file
  }
}

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    log: { type: 'string' },
    format: { type: 'string' },
    pairs: { type: 'string' },
    out: { type: 'string' },
  });
  if (positionals.length !== 1) throw new UsageError('expected exactly one TASKS file');
  const format = values.format as ExportFormat | undefined;
  if (!format || !FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}`);
  const pairs = values.pairs ?? 'all';
  if (pairs !== 'all' && pairs !== 'all_pairs' && pairs !== 'best_vs_rest') throw new UsageError('--pairs must be all or best_vs_rest');
  const pairMode: PairMode = pairs === 'best_vs_rest' ? 'best_vs_rest' : 'all_pairs';
  const tasksPath = taskFileArgument(positionals[0]);
  if (!existsSync(tasksPath)) throw new Error(`${tasksPath}: no such file`);
  const logPath = values.log ?? defaultLogPath(tasksPath);
  if (!existsSync(logPath)) throw new Error(`${logPath}: no such file (give the annotation log with --log)`);
  for (const input of [tasksPath, logPath]) {
    if (values.out !== undefined && isSameFile(values.out, input)) throw new Error(`--out ${values.out}: refusing to overwrite the input file ${input}`);
  }
  const project = await loadProject(tasksPath, logPath);
  for (const issue of project.issues) process.stderr.write(`${formatIssue(issue)}\n`);
  const rows = compile(format, project.items, project.resolution.judgments, pairMode);
  const text = toJsonl(rows);
  if (values.out !== undefined) {
    writeFileAtomicSync(values.out, text); // temp file + fsync + rename: a kill mid-write keeps the previous FILE
    process.stderr.write(`wrote ${rows.length} ${format} rows to ${values.out}\n`);
  } else process.stdout.write(text);
  return 0;
}

export const command: Command = { name: 'export', summary: 'Compile judgments into TRL pairs, RRHF rankings, SFT or KTO rows', usage, run };
