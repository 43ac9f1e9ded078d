/**
 * `dap judge TASKS [--log LOG]`: the automatic judge of verifiable items (src/loop/judge.ts) appends its
 * judgment (annotator "verifier") of every verifiable item it has not judged yet to the annotation log.
 * Training, `dap stats` (its model comparison table) and the review panel then read them like anyone's.
 */
import { existsSync } from 'node:fs';
import { formatIssue } from '../../core/issues';
import { defaultLogPath } from '../../core/project';
import { judgeWithVerifier } from '../../train/loop/judge';
import { parseCommandArgs, taskFileArgument, UsageError, type Command } from '../command';

const usage = `Usage: dap judge TASKS [--log LOG]

Judges every verifiable item (the sample task families: arithmetic, conversions, reversing and upper-casing
words; src/core/verify.ts) by checking each response's answer, and appends the judgments as annotator
"verifier" to the annotation log: correct responses above wrong ones, a tie when both are right, both_bad
when both are wrong. Items the verifier already judged, and items it cannot check, are left alone.
  --log LOG   annotation log (default: TASKS' sibling NAME.annotations.jsonl)`;

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { log: { type: 'string' } });
  if (positionals.length !== 1) throw new UsageError('expected exactly one TASKS file');
  const tasksPath = taskFileArgument(positionals[0]);
  if (!existsSync(tasksPath)) throw new Error(`${tasksPath}: no such file`);
  const logPath = values.log ?? defaultLogPath(tasksPath);
  const r = await judgeWithVerifier(tasksPath, logPath);
  for (const issue of r.issues) process.stderr.write(`${formatIssue(issue)}\n`);
  process.stdout.write(`verifier: ${r.written} judgments appended to ${logPath} (${r.already} items judged before, ${r.unverifiable} not verifiable)\n`);
  return 0;
}

export const command: Command = { name: 'judge', summary: 'Judge verifiable items automatically (annotator "verifier") into the annotation log', usage, run };
