/**
 * `dap validate FILE [--log LOG]`: checks a task file (and optionally its annotation log against it) and
 * prints every issue as `file:line: field: problem`, then a summary line. A FILE whose first line is a
 * log event (`"v"` and `"kind"`), or that is named `*.annotations.jsonl`, is checked as an annotation log.
 * Exit 1 if any error (an empty task file is one), else 0. Every file is streamed: each issue is printed as
 * its line is read and no item or event is kept. The task file's ids stay in memory up to a budget and
 * spill to temporary partitions past it (core/taskScan.ts; DAP_DATA_IDS_IN_MEMORY sets it), and with --log
 * the log is checked against them (core/logCheck.ts), so memory does not grow with the files.
 */
import { existsSync } from 'node:fs';
import { forEachLogEvent } from '../../core/annotationLog';
import { checkLogAgainstIds } from '../../core/logCheck';
import { overlapProblem } from '../../core/assignment';
import { compiledFileKind, scanCompiledFile } from '../../core/compiledRows';
import { formatIssue, issueError, issueWarning } from '../../core/issues';
import { readJsonlLines } from '../../core/jsonl';
import { isAnnotationLogPath } from '../../core/project';
import { scanTaskFile } from '../../core/taskScan';
import type { DataIssue } from '../../core/types';
import { idsInMemory, parseCommandArgs, taskFileArgument, UsageError, type Command } from '../command';

const usage = `Usage: dap validate FILE [--log LOG]

Checks a task file (or an annotation log) and prints every problem as file:line: field: problem.
  FILE        task JSONL: {"prompt","responses"}, TRL {"prompt"?,"chosen","rejected"} (standard,
              conversational, implicit prompt, UltraFeedback-binarized) or RRHF {"query","responses",
              "scores"}; SFT {"prompt","completion"} or KTO {"prompt","completion","label"} rows (a file
              of one kind); a file of log events (or named *.annotations.jsonl) is checked as an
              annotation log
  --log LOG   also check this annotation log against FILE's items (unknown items, index ranges)
Exit code: 0 when there is no error (warnings allowed), 1 when there is any error (an empty task file is
one), 2 on bad arguments.`;

/**
 * True when `path` is an annotation log: named `*.annotations.jsonl` (so a log whose first line is damaged
 * is still checked as a log), or its first non-blank line looks like a log event.
 */
async function looksLikeLog(path: string): Promise<boolean> {
  if (isAnnotationLogPath(path)) return true;
  for await (const l of readJsonlLines(path)) {
    if (l.oversize) return false; // the task reader reports it
    if (l.text.trim() === '') continue;
    try {
      const v = JSON.parse(l.text) as Record<string, unknown>;
      return v !== null && typeof v === 'object' && 'v' in v && 'kind' in v;
    } catch {
      return false;
    }
  }
  return false;
}

/** A task file with no line to read (empty, or blank lines only) is an error: there is nothing to annotate or train on. */
function emptyFile(file: string): DataIssue {
  return issueError(file, 1, 'file', 'no items: the file is empty (a task file holds one JSON object per line)');
}

function countsLine(errors: number, warnings: number): string {
  return `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`;
}

/**
 * Streams a task file, and then its annotation log `logPath` when given (checked against the file's ids):
 * prints each issue as found, then the summary line; returns the exit code.
 */
async function validateTasksStreaming(file: string, logPath?: string): Promise<number> {
  const { print, counts, errorCount } = issuePrinter();
  const scan = await scanTaskFile(file, {
    onIssue: print,
    itemIssues: (item) => {
      const overlap = overlapProblem(item);
      return overlap ? [issueWarning(file, item.line, 'overlap', `${overlap}; the item is for every annotator`)] : [];
    },
    idsInMemory: idsInMemory(),
    keepIds: logPath !== undefined,
  });
  try {
    if (scan.items === 0 && errorCount() === 0) print(emptyFile(file));
    let summary = `${file}: ${scan.items} valid item${scan.items === 1 ? '' : 's'}`;
    if (logPath !== undefined && scan.ids) {
      const log = await checkLogAgainstIds(logPath, scan.ids, print);
      summary += `; ${logPath}: ${log.events} events, ${log.judgments} current judgments`;
    }
    return counts(summary);
  } finally {
    scan.close();
  }
}

/** Streams an annotation log (no event is kept): prints each line's issues as found, then the summary line. */
async function validateLogStreaming(file: string): Promise<number> {
  const { print, counts } = issuePrinter();
  const events = await forEachLogEvent(file, file, print, () => {});
  return counts(`${file}: annotation log, ${events} event${events === 1 ? '' : 's'}`);
}

/** Prints issues as they come, counting them; counts(summary) prints the summary line and returns the exit code. */
function issuePrinter(): { print: (issue: DataIssue) => void; counts: (summary: string) => number; errorCount: () => number } {
  let errors = 0, warnings = 0;
  return {
    errorCount: () => errors,
    print: (issue) => {
      if (issue.severity === 'error') errors++;
      else warnings++;
      process.stdout.write(`${formatIssue(issue)}\n`);
    },
    counts: (summary) => {
      process.stdout.write(`${summary}; ${countsLine(errors, warnings)}\n`);
      return errors > 0 ? 1 : 0;
    },
  };
}

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { log: { type: 'string' } });
  if (positionals.length !== 1) throw new UsageError('expected exactly one FILE');
  const file = values.log === undefined ? positionals[0] : taskFileArgument(positionals[0]);
  for (const p of [file, values.log]) if (p !== undefined && !existsSync(p)) throw new Error(`${p}: no such file`);
  const isLog = values.log === undefined && (await looksLikeLog(file));
  const compiled = !isLog && values.log === undefined ? await compiledFileKind(file) : null;
  if (isLog) return validateLogStreaming(file);
  if (!compiled) return validateTasksStreaming(file, values.log);
  // SFT / KTO rows carry their own labels (what `dap export` writes and `dap train` reads): checked as such,
  // streamed too (only counts and the distinct prompts are kept).
  const scan = await scanCompiledFile(file, compiled);
  const { print, counts } = issuePrinter();
  scan.issues.forEach(print);
  const what = scan.kind === 'unpaired' ? `KTO row${scan.rows === 1 ? '' : 's'} (${scan.desirable} desirable, ${scan.undesirable} undesirable)` : `SFT row${scan.rows === 1 ? '' : 's'}`;
  return counts(`${file}: ${scan.rows} valid ${what} over ${scan.prompts} prompt${scan.prompts === 1 ? '' : 's'}`);
}

export const command: Command = { name: 'validate', summary: 'Check a task file or annotation log; print file:line: field: problem', usage, run };
