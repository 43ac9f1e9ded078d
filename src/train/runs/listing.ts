/**
 * Reading run folders back, for the runs view, the loss panel and review: list the runs under a runs
 * directory with their status from metrics.jsonl's last event, read a run's config, events and newest
 * checkpoint. A run whose last event is not final is "running" when its metrics were written recently
 * (or a live job of this window trains it), else "interrupted" (its process died unrecorded).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isRunFolder, replayRun, runPaths } from './folder';
import type { FailedEvent, FinishedEvent, TrainEvent } from './events';

export type RunFolderStatus = 'running' | 'finished' | 'cancelled' | 'failed' | 'interrupted';

/** What the runs view shows for one run folder. */
export interface RunListing {
  runId: string;
  runDir: string;
  status: RunFolderStatus;
  /** Modification time of metrics.jsonl (ms since epoch). */
  mtimeMs: number;
  /** The config.json object, when readable. */
  config?: Record<string, unknown>;
  finished?: FinishedEvent['summary'];
  failed?: Pick<FailedEvent, 'error' | 'stack' | 'lastCheckpoint'>;
  /** Last step: stage, step, totalSteps and loss. */
  lastStep?: { stage: string; step: number; totalSteps: number; loss?: number };
  /** Log lines (warnings and errors first matter for failed runs). */
  logs: string[];
  /** Newest checkpoint folder announced by a checkpoint event. */
  checkpoint?: string;
  /** The problem reading the run folder, if any (then status is 'failed'). */
  problem?: string;
}

/** Without a final event, a run counts as running if metrics.jsonl changed within this many ms. */
export const STALE_AFTER_MS = 10 * 60 * 1000;

/** The status of a run from its events. */
export function statusOf(events: readonly TrainEvent[], mtimeMs: number, live: boolean, now = Date.now()): RunFolderStatus {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i];
    if (e.type === 'finished') return e.summary.cancelled ? 'cancelled' : 'finished';
    if (e.type === 'failed') return 'failed';
  }
  return live || now - mtimeMs < STALE_AFTER_MS ? 'running' : 'interrupted';
}

/** Reads one run folder; never throws (problems are reported in `problem`). */
export function readRun(runDir: string, runId: string, live = false): RunListing {
  const paths = runPaths(runDir);
  let mtimeMs = 0;
  try {
    mtimeMs = statSync(paths.metrics).mtimeMs;
  } catch {
    mtimeMs = existsSync(runDir) ? statSync(runDir).mtimeMs : 0;
  }
  const listing: RunListing = { runId, runDir, status: 'running', mtimeMs, logs: [] };
  try {
    if (existsSync(paths.config)) listing.config = JSON.parse(readFileSync(paths.config, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    listing.problem = `${paths.config}: ${(e as Error).message}`;
  }
  let events: TrainEvent[] = [];
  try {
    events = existsSync(paths.metrics) ? replayRun(runDir) : [];
  } catch (e) {
    listing.problem = (e as Error).message;
  }
  for (const e of events) {
    if (e.type === 'step') listing.lastStep = { stage: e.stage, step: e.step, totalSteps: e.totalSteps, loss: e.metrics.loss };
    else if (e.type === 'checkpoint') listing.checkpoint = e.path;
    else if (e.type === 'log') listing.logs.push(`[${e.level}] ${e.message}`);
    else if (e.type === 'finished') listing.finished = e.summary;
    else if (e.type === 'failed') listing.failed = { error: e.error, stack: e.stack, lastCheckpoint: e.lastCheckpoint };
  }
  listing.status = listing.problem && !events.length ? 'failed' : statusOf(events, mtimeMs, live);
  return listing;
}

/** Every run folder (see isRunFolder) under `runsDir`, newest first. */
export function listRuns(runsDir: string, liveRunIds: ReadonlySet<string> = new Set()): RunListing[] {
  if (!existsSync(runsDir)) return [];
  const runs: RunListing[] = [];
  for (const entry of readdirSync(runsDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const dir = join(runsDir, entry.name);
    if (!isRunFolder(dir)) continue;
    runs.push(readRun(dir, entry.name, liveRunIds.has(entry.name)));
  }
  return runs.sort((a, b) => b.mtimeMs - a.mtimeMs || b.runId.localeCompare(a.runId));
}
