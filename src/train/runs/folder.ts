/**
 * A run's folder: runs/RUN_ID/ under the chosen output folder, holding config.json (the resolved config),
 * metrics.jsonl (every event, one JSON object per line, appended as it happens), the data split, reference
 * log-probs, checkpoints/, the final model/ and (LoRA runs) adapter/. This module names those paths, makes
 * the folder, writes its config and events, tells a run folder from a model folder, reads the events back,
 * and says where a resume of the run starts (`resumePoint`: its newest whole checkpoint, or the beginning);
 * it is the one writer of run folders for `dap train`, the worker, the host's job and any executor.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { appendLineSync } from '../../core/appendLine';
import { fsyncDirectory, writeFileAtomicSync } from '../../core/atomicWrite';
import { looksTruncatedObject, recoverTrailingObject } from '../../core/jsonl';
import type { ResolvedTrainConfig } from '../config';
import { isTrainEvent, parseEventLine, type TrainEvent } from './trainEvents';

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

/**
 * The folder of run `runId` under `out` (out/runs/RUN_ID), created; the folders that hold each new entry are
 * fsync'd (runs/, and out/ when runs/ is new), so a run whose files were fsync'd is not lost with its folder.
 */
export function createRunDir(out: string, runId: string): string {
  const dir = runDirOf(out, runId);
  const first = mkdirSync(dir, { recursive: true }); // the first folder it made, or undefined
  if (first !== undefined) {
    for (let d = dir; ; d = dirname(d)) {
      fsyncDirectory(dirname(d));
      if (d === first || dirname(d) === d) break;
    }
  }
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

/** Where `dap train --resume RUN_DIR` continues a run. */
export interface ResumePoint {
  /** The newest checkpoint folder whose `checkpoint` event was logged (folders are written whole), if any. */
  checkpoint?: string;
  /** Set when the run already finished (not cancelled): its `finished` event's model folder. */
  finished?: { model?: string; ts: string };
}

/**
 * Reads metrics.jsonl: the newest checkpoint (looked up under this run's checkpoints/, so a moved run
 * folder still resumes) that still holds trainer_state.json, and whether the run's last lifecycle event
 * (started / finished / failed) is a `finished` of a run that was not cancelled.
 */
export function resumePoint(runDir: string): ResumePoint {
  const point: ResumePoint = {};
  for (const e of readRunEvents(runDir)) {
    if (e.type === 'checkpoint') {
      const dir = join(runPaths(runDir).checkpoints, basename(e.path));
      if (existsSync(join(dir, 'trainer_state.json'))) point.checkpoint = dir;
    }
    if (e.type === 'started' || e.type === 'failed') delete point.finished;
    if (e.type === 'finished') {
      if (e.summary.cancelled) delete point.finished;
      else point.finished = { model: e.summary.model, ts: e.ts };
    }
  }
  return point;
}

/** The last step's metrics of `stage` merged with its last eval's, as logged (for a stage resumed at its end). */
export function loggedFinalMetrics(runDir: string, stage: string): Record<string, number> {
  let step: Record<string, number> = {};
  let evaluation: Record<string, number> = {};
  for (const e of readRunEvents(runDir)) {
    if (e.type === 'step' && e.stage === stage) step = e.metrics;
    else if (e.type === 'eval' && e.stage === stage) evaluation = e.metrics;
  }
  return { ...step, ...evaluation };
}

/** Replays a run's events for the loss panel (empty when metrics.jsonl does not exist yet). */
export function readRunEvents(runDir: string): TrainEvent[] {
  return existsSync(runPaths(runDir).metrics) ? replayRun(runDir) : [];
}
