/**
 * A run's folder: runs/RUN_ID/ under the chosen output folder, holding config.json (the resolved config),
 * metrics.jsonl (every event, one JSON object per line, appended as it happens), the data split, reference
 * log-probs, checkpoints/, the final model/ and (LoRA runs) adapter/. This module names those paths, makes
 * the folder, writes its config and events, tells a run folder from a model folder, and reads the events
 * back; it is the one writer of run folders for `dap train`, the worker, the host's job and any executor.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedTrainConfig } from '../config';
import { parseEventLine, type TrainEvent } from './events';

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

/** The folder of run `runId` under the output folder `out`: out/runs/RUN_ID. */
export function runDirOf(out: string, runId: string): string {
  return join(out, 'runs', runId);
}

/** The folder of run `runId` under `out` (out/runs/RUN_ID), created. */
export function createRunDir(out: string, runId: string): string {
  const dir = runDirOf(out, runId);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * True for a run folder: it has metrics.jsonl, or a config.json that is a run's (it names a `method`; a
 * Hugging Face model folder's config.json does not), as a run has from the moment it is made.
 */
export function isRunFolder(dir: string): boolean {
  const paths = runPaths(dir);
  if (existsSync(paths.metrics)) return true;
  try {
    return typeof (JSON.parse(readFileSync(paths.config, 'utf8')) as { method?: unknown }).method === 'string';
  } catch {
    return false;
  }
}

/** Writes config.json. */
export function writeRunConfig(runDir: string, config: ResolvedTrainConfig): void {
  writeFileSync(runPaths(runDir).config, JSON.stringify(config, null, 2) + '\n');
}

/** Appends one event as one line (a single write of a whole line). */
export function appendEvent(runDir: string, event: TrainEvent): void {
  appendFileSync(runPaths(runDir).metrics, JSON.stringify(event) + '\n');
}

/**
 * Reads a run's events back in order. A torn last line (a crash mid-write) is skipped; a bad line elsewhere
 * is an error naming file:line.
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
      const isLast = lines.slice(i + 1).every((l) => l.trim() === '');
      if (!isLast) throw e;
    }
  });
  return events;
}

/** Replays a run's events for the loss panel (empty when metrics.jsonl does not exist yet). */
export function readRunEvents(runDir: string): TrainEvent[] {
  return existsSync(runPaths(runDir).metrics) ? replayRun(runDir) : [];
}
