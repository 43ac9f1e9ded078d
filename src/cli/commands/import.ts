/**
 * `dap import FILE --out tasks.jsonl`: brings data from other containers into a JSONL task file.
 * - Parquet (a `.parquet` file, or a Hub dataset folder with `--split`): every row of every layout the task
 *   readers accept (core/importRows.ts), streamed one row group at a time; bad rows are reported as
 *   `file:row N: field: problem` and left out (exit 1 when there were any).
 * - A Label Studio JSON export (Pairwise / Ranker) or Argilla v2 records (`--from label-studio|argilla`, or
 *   detected from the content): the task file plus the annotation log of their judgments (`--log-out`, default
 *   the task file's sibling NAME.annotations.jsonl; never an existing file).
 * Outputs are written to a temporary file, fsync'd and renamed into place: never half-written, never an input.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { validateEvent } from '../../core/events';
import { AtomicLineWriter, ImportRowChecker, importParquet } from '../../core/importRows';
import { formatIssue } from '../../core/issues';
import { fromArgilla, fromLabelStudio, type ImportedWork } from '../../core/labelTools';
import { isParquetPath, parquetFilesOf } from '../../core/parquet';
import { defaultLogPath } from '../../core/project';
import type { DataIssue } from '../../core/types';
import { parseCommandArgs, UsageError, type Command } from '../command';
import { isSameFile } from './export';

const usage = `Usage: dap import FILE --out tasks.jsonl [--split NAME] [--from parquet|label-studio|argilla]
                  [--log-out LOG] [--question NAME]

Converts FILE into a JSONL task file (and, for label-tool exports, its annotation log):
  FILE.parquet         rows of any task layout dap validate accepts (TRL pairs, UltraFeedback, RRHF, KTO, …);
                       a folder of Hub Parquet files (data/SPLIT-*.parquet) needs --split when it has several
  Label Studio export  the JSON export of a Pairwise or Ranker project → tasks + annotation log
  Argilla v2 records   records JSON (dataset.records.to_json) or a to_disk folder, with a RankingQuestion
  --out FILE           the task file to write (required; never one of the inputs)
  --split NAME         the Parquet split to read (train, test_prefs, …)
  --from KIND          parquet | label-studio | argilla (default: from the file name and content)
  --log-out LOG        annotation log of a label-tool export (default: OUT's sibling NAME.annotations.jsonl;
                       must not exist)
  --question NAME      Argilla: the ranking question (default: the dataset's ranking question)
Bad rows are printed as file:row N: field: problem and left out. Exit code 0, 1 if any row was bad or a file
cannot be read, 2 on bad arguments.`;

/** Detects a label-tool export from its JSON: Argilla records have "fields"; Label Studio tasks have "data". */
function detectTool(value: unknown): 'label-studio' | 'argilla' | undefined {
  const first = Array.isArray(value) ? value[0] : undefined;
  if (first && typeof first === 'object' && 'fields' in first) return 'argilla';
  if (first && typeof first === 'object' && 'data' in first) return 'label-studio';
  return undefined;
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: cannot read as JSON: ${(e as Error).message}`);
  }
}

/** An Argilla to_disk folder: its records file and settings (either may be at the top or under .argilla/). */
function argillaFiles(input: string): { records: string; settings?: string } {
  if (!statSync(input).isDirectory()) return { records: input };
  const pick = (names: string[]) => names.map((n) => join(input, n)).find((p) => existsSync(p));
  const records = pick(['records.json', '.argilla/records.json']);
  if (!records) throw new Error(`${input}: no records.json in this Argilla export folder`);
  return { records, settings: pick(['settings.json', '.argilla/settings.json']) };
}

async function importLabelTool(input: string, kind: 'label-studio' | 'argilla' | undefined, out: string, logOut: string, question?: string):
  Promise<{ written: number; events: number; issues: DataIssue[]; skipped: string[] }> {
  const fallbackTs = statSync(input).mtime.toISOString();
  let work: ImportedWork;
  const files = kind === 'argilla' || statSync(input).isDirectory() ? argillaFiles(input) : { records: input };
  const value = readJson(files.records);
  const tool = kind ?? detectTool(value);
  if (tool === 'argilla') work = fromArgilla(value, files.settings ? readJson(files.settings) : undefined, files.records, fallbackTs, question);
  else if (tool === 'label-studio') work = fromLabelStudio(value, files.records, fallbackTs);
  else throw new Error(`${input}: neither a Label Studio export (tasks with "data") nor Argilla records (with "fields"): give --from`);
  const checker = new ImportRowChecker(files.records);
  const issues = work.rows.flatMap((r, i) => checker.check(r, i + 1));
  if (issues.some((i) => i.severity === 'error')) return { written: 0, events: 0, issues, skipped: work.skipped };
  for (const e of work.events) {
    const v = validateEvent(e);
    if (v.problems.length) throw new Error(`${files.records}: item ${e.item}: ${v.problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`);
  }
  const tasks = new AtomicLineWriter(out);
  let log: AtomicLineWriter | undefined;
  try {
    log = new AtomicLineWriter(logOut);
    for (const r of work.rows) tasks.line(JSON.stringify(r));
    for (const e of work.events) log.line(JSON.stringify(e));
    tasks.commit();
    log.commit();
  } catch (e) {
    tasks.abort();
    log?.abort();
    throw e;
  }
  return { written: work.rows.length, events: work.events.length, issues, skipped: work.skipped };
}

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    out: { type: 'string' }, split: { type: 'string' }, from: { type: 'string' }, 'log-out': { type: 'string' }, question: { type: 'string' },
  });
  if (positionals.length !== 1) throw new UsageError('expected exactly one FILE');
  if (!values.out) throw new UsageError('--out FILE is required');
  const from = values.from;
  if (from !== undefined && !['parquet', 'label-studio', 'argilla'].includes(from)) throw new UsageError('--from must be parquet, label-studio or argilla');
  const input = positionals[0];
  if (!existsSync(input)) throw new Error(`${input}: no such file or folder`);
  const out = values.out;
  const parquet = from === 'parquet' || (from === undefined && (isParquetPath(input) || (statSync(input).isDirectory() && !existsSync(join(input, 'records.json')) && !existsSync(join(input, '.argilla')))));
  const inputs = parquet ? parquetFilesOf(input, values.split) : [input];
  for (const i of inputs) if (isSameFile(out, i)) throw new Error(`--out ${out}: refusing to overwrite the input file ${i}`);
  if (existsSync(out) && statSync(out).isDirectory()) throw new Error(`--out ${out}: is a folder`);
  if (parquet) {
    const { written, issues } = await importParquet(inputs, out);
    for (const i of issues) process.stderr.write(`${formatIssue(i)}\n`);
    const errors = issues.filter((i) => i.severity === 'error').length;
    process.stdout.write(`${out}: ${written} row${written === 1 ? '' : 's'} from ${inputs.length} Parquet file${inputs.length === 1 ? '' : 's'}; ${errors} bad row${errors === 1 ? '' : 's'} left out\n`);
    return errors > 0 ? 1 : 0;
  }
  if (values.split !== undefined) throw new UsageError('--split is for Parquet input');
  const logOut = values['log-out'] ?? defaultLogPath(out);
  if (existsSync(logOut)) throw new Error(`--log-out ${logOut}: exists; an import never adds to or replaces an existing annotation log (choose another path)`);
  if (isSameFile(logOut, input)) throw new Error(`--log-out ${logOut}: refusing to overwrite the input file`);
  const r = await importLabelTool(input, from as 'label-studio' | 'argilla' | undefined, out, logOut, values.question);
  for (const i of r.issues) process.stderr.write(`${formatIssue(i)}\n`);
  for (const s of r.skipped) process.stderr.write(`${s}\n`);
  if (r.issues.some((i) => i.severity === 'error')) {
    process.stderr.write('nothing written: fix the rows above\n');
    return 1;
  }
  process.stdout.write(`${out}: ${r.written} items; ${logOut}: ${r.events} judgments (${r.skipped.length} skipped)\n`);
  return 0;
}

export const command: Command = { name: 'import', summary: 'Import Parquet data, or a Label Studio / Argilla export (tasks + annotation log)', usage, run };
