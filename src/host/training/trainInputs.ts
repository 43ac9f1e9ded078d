/**
 * Pure helpers of the training commands (no vscode): which data file and annotation log a clicked file
 * means, whether there is anything to train on yet, how many epochs a data set of a given size gets, a
 * streaming line count, the fine-tuning choices (full or LoRA) of "DAP: Train…", and whether git
 * ignores the runs folder (and adding it to .gitignore).
 */
import { execFile } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { appendFile, readFile } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, sep } from 'node:path';
import type { TrainConfig } from '../../train/config';
import { readAnnotationLog } from '../../core/annotationLog';
import { readJsonlLines } from '../../core/jsonl';
import { ItemStates } from '../../core/judgments';
import { defaultLogPath, isAnnotationLogPath, taskFileOfLog } from '../../core/project';
import { labelledRowKind } from '../../core/compiledRows';

/**
 * The data file and its annotation log from a clicked file: a log NAME.annotations.jsonl belongs to the
 * task file NAME.tasks.jsonl (or NAME.jsonl) beside it — the data core's naming rule, reversed.
 */
export function dataOf(file: string): { data: string; log?: string } {
  return isAnnotationLogPath(file) ? { data: taskFileOfLog(file), log: file } : { data: file };
}

/**
 * Why training on `data` (with `log`, default its sibling log) would have nothing to learn from, in words for
 * people — an empty file, or a task file with no judgments yet — or undefined when there is data (a file
 * whose rows carry their own labels, or a task file with at least one current judgment). Reads the first
 * row and the log only; anything else wrong is the trainer's to report.
 */
export async function nothingToTrainOn(data: string, log?: string): Promise<string | undefined> {
  let first: Record<string, unknown> | null | undefined;
  for await (const l of readJsonlLines(data)) {
    if (l.text.trim() === '') continue;
    try {
      const o = JSON.parse(l.text) as unknown;
      first = o && typeof o === 'object' && !Array.isArray(o) ? (o as Record<string, unknown>) : null;
    } catch {
      first = null;
    }
    break;
  }
  if (first === undefined) return `${basename(data)} is empty: there is nothing to train on.`;
  if (log === undefined && first && labelledRowKind(first) !== null) return undefined; // its rows are the labels
  const logPath = log ?? defaultLogPath(data);
  const noJudgments = `${basename(data)} has no judgments yet: annotate some items first, then train.`;
  if (!existsSync(logPath)) return noJudgments;
  const states = new ItemStates();
  for (const { event } of (await readAnnotationLog(logPath)).events) states.apply(event);
  for (const { judgment } of states.entries()) if (judgment) return undefined;
  return noJudgments;
}

/** Epochs for a data set of `lines` items: small sets need more passes, large ones one. */
export function epochsFor(lines: number): number {
  if (lines <= 100) return 6;
  if (lines <= 500) return 3;
  if (lines <= 5000) return 2;
  return 1;
}

/** Counts non-blank lines by streaming (never loads the file whole). */
export function countLines(file: string): Promise<number> {
  return new Promise((resolveCount, reject) => {
    let count = 0;
    let lineHasText = false;
    createReadStream(file)
      .on('data', (chunk: Buffer | string) => {
        const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        for (let i = 0; i < b.length; i++) {
          const c = b[i];
          if (c === 10) {
            if (lineHasText) count++;
            lineHasText = false;
          } else if (c !== 13 && c !== 32 && c !== 9) lineHasText = true;
        }
      })
      .on('end', () => resolveCount(count + (lineHasText ? 1 : 0)))
      .on('error', reject);
  });
}

/** "DAP: Train…" fine-tuning step (shown only for a model folder): full fine-tuning (r 0) or LoRA of rank r. */
export const FINETUNE_CHOICES: readonly { label: string; r: number; detail: string }[] = [
  { label: 'Full fine-tune', r: 0, detail: 'train every weight (AdamW keeps two copies of each: needs ~4× the model size in memory)' },
  { label: 'LoRA r=8', r: 8, detail: 'train rank-8 adapters on the attention projections only (lora_alpha 8); saves adapter/ and a merged model/' },
  { label: 'LoRA r=16', r: 16, detail: 'train rank-16 adapters on the attention projections only (lora_alpha 8); saves adapter/ and a merged model/' },
];

/** The config fields of a fine-tuning choice: `lora` for r > 0 (PEFT's default alpha), nothing for full fine-tuning. */
export function loraFieldsOf(r: number | undefined): Pick<TrainConfig, 'lora'> {
  return r && r > 0 ? { lora: { r } } : {};
}

/** The top folder of `out` inside `workspaceFolder` (".dap" for WORKSPACE/.dap/runs), or undefined outside it. */
export function topFolderIn(workspaceFolder: string, out: string): string | undefined {
  const rel = relative(workspaceFolder, out);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return undefined;
  return rel.split(sep)[0];
}

/** Whether git ignores `path` (relative to `cwd`): true / false, or undefined when git or a repository is missing. */
export function gitIgnores(cwd: string, path: string): Promise<boolean | undefined> {
  return new Promise((resolve) => {
    try {
      execFile('git', ['check-ignore', '-q', '--', path], { cwd, timeout: 5000, windowsHide: true }, (err) => {
        if (!err) return resolve(true);
        resolve((err as { code?: unknown }).code === 1 ? false : undefined);
      });
    } catch {
      resolve(undefined);
    }
  });
}

/** Appends `folder/` as its own line to `workspaceFolder/.gitignore` (created if missing), in one write. */
export async function addToGitignore(workspaceFolder: string, folder: string): Promise<void> {
  const file = join(workspaceFolder, '.gitignore');
  const before = await readFile(file, 'utf8').catch(() => '');
  await appendFile(file, `${before === '' || before.endsWith('\n') ? '' : '\n'}${folder}/\n`);
}
