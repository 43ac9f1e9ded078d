/**
 * A run's folder: runs/RUN_ID/ under the chosen output folder, holding config.json (the resolved config),
 * metrics.jsonl (every event, one JSON object per line, appended as it happens), the data split, reference
 * log-probs, checkpoints/, the final model/ and (LoRA runs) adapter/. `replayRun` reads the events back (for the loss panel).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { appendLineSync } from '../core/appendLine';
import { writeFileAtomicSync } from '../core/atomicWrite';
import { looksTruncatedObject, recoverTrailingObject } from '../core/jsonl';
import type { ResolvedTrainConfig } from './config';
import { isTrainEvent, parseEventLine, type TrainEvent } from './events';

/** Paths inside a run folder. */
export function runPaths(runDir: string) {
  return {
    config: join(runDir, 'config.json'),
    metrics: join(runDir, 'metrics.jsonl'),
    split: join(runDir, 'split.json'),
    sftModel: join(runDir, 'sft-model'),
    finalModel: join(runDir, 'model'),
    /** LoRA runs: the trained adapters in PEFT's layout. */
    adapter: join(runDir, 'adapter'),
    reference: (stage: string) => join(runDir, `reference-logps.${stage}.json`),
    checkpoints: join(runDir, 'checkpoints'),
  };
}

/** The folder of run `runId` under `out` (out/runs/RUN_ID), created. */
export function createRunDir(out: string, runId: string): string {
  const dir = join(out, 'runs', runId);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Writes config.json (atomically). */
export function writeRunConfig(runDir: string, config: ResolvedTrainConfig): void {
  writeFileAtomicSync(runPaths(runDir).config, JSON.stringify(config, null, 2) + '\n');
}

/**
 * Appends one event to metrics.jsonl as one whole line (one O_APPEND write, fsync'd; a torn tail left by a
 * killed writer is isolated: see core/appendLine.ts). Throws naming the file when it cannot (a full disk).
 */
export function appendEvent(runDir: string, event: TrainEvent): void {
  appendLineSync(runPaths(runDir).metrics, JSON.stringify(event) + '\n');
}

/**
 * Reads a run's events back in order. A torn line (a writer killed mid-write: the last line, or any line
 * that is an event cut short) is skipped; a line holding such a fragment followed by a whole event (the
 * next writer's) yields that event; any other bad line is an error naming file:line.
 */
export function replayRun(runDir: string): TrainEvent[] {
  const path = runPaths(runDir).metrics;
  if (!existsSync(path)) throw new Error(`${path}: no metrics.jsonl in this run folder`);
  const lines = readFileSync(path, 'utf8').split('\n');
  const events: TrainEvent[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      events.push(parseEventLine(line, `${path}:${i + 1}`));
    } catch (e) {
      const recovered = recoverTrailingObject(line, (v) => (isTrainEvent(v) ? v : undefined));
      if (recovered) events.push(recovered.value);
      else if (!looksTruncatedObject(line) && lines.slice(i + 1).some((l) => l.trim() !== '')) throw e;
    }
  });
  return events;
}
