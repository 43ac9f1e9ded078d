/**
 * Pure helpers of the training commands (no vscode): which data file and annotation log a clicked file
 * means, how many epochs a data set of a given size gets, a streaming line count, and the
 * fine-tuning choices (full or LoRA) of "DAP: Train…".
 */
import { createReadStream } from 'node:fs';
import type { TrainConfig } from '../../train/config';
import { isAnnotationLogPath, taskFileOfLog } from '../../core/project';

/**
 * The data file and its annotation log from a clicked file: a log NAME.annotations.jsonl belongs to the
 * task file NAME.tasks.jsonl (or NAME.jsonl) beside it — the data core's naming rule, reversed.
 */
export function dataOf(file: string): { data: string; log?: string } {
  return isAnnotationLogPath(file) ? { data: taskFileOfLog(file), log: file } : { data: file };
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
