/**
 * Saved model scores of the review panel, so the model-flagged list survives a window reload without
 * re-scoring (k-fold scoring trains models for minutes): `.dap/review/<task stem>.scores.json` holds the
 * per-response scores, how they were computed, and a snapshot of the annotation log and task file they
 * were computed from. On load the snapshot is compared with the files now: judgments appended since make
 * the scores stale ("scored before N newer judgments"); confirm events do not. Node fs only, no `vscode`.
 */
import { createHash } from 'node:crypto';
import { existsSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { readAnnotationLog } from '../annotationLog';
import { writeFileAtomicSync } from '../atomicWrite';
import { taskStem } from '../project';
import type { ResponseScores } from './types';

/** What a file looked like when the scores were computed. */
export interface FileSnapshot {
  /** Size in bytes (0 when the file did not exist). */
  size: number;
  /** sha256 (hex) of the file's first `size` bytes: an append-only log keeps this prefix. */
  sha256: string;
  /** Log only: events that are not `confirm` (judgments and undos) in those bytes. */
  labelEvents?: number;
}

/** One saved scoring result (`version` 1). */
export interface SavedScores {
  version: 1;
  /** Absolute path of the task file scored. */
  taskFile: string;
  /** Absolute path of the annotation log the labels came from. */
  logFile: string;
  /** What scored the pairs: `run` / `model` folder, or `kfold` with k (and an optional base folder). */
  source: { kind: 'run' | 'model' | 'kfold'; dir?: string; k?: number };
  /** The report's description of the method (shown above the list). */
  flaggedMethod: string;
  /** ISO time the scoring finished. */
  scoredAt: string;
  /** The log and task file as they were when scoring started. */
  log: FileSnapshot;
  task: FileSnapshot;
  scores: ResponseScores[];
}

/** Whether saved scores still match the files. */
export interface ScoresFreshness {
  stale: boolean;
  /** Judgment/undo events appended to the log since scoring (0 when fresh or unknown). */
  newerJudgments: number;
  /** One line for the panel, empty when fresh: "scored before 3 newer judgments — re-score". */
  note: string;
}

/**
 * Where a task file's scores are saved: `<workspace>/.dap/review/<stem>.scores.json`, or next to the
 * task file (`<dir>/.dap/review/...`) without a workspace folder.
 */
export function savedScoresPath(taskFile: string, workspaceFolder?: string): string {
  return join(workspaceFolder ?? dirname(resolve(taskFile)), '.dap', 'review', `${taskStem(taskFile)}.scores.json`);
}

/** sha256 of a file's first `size` bytes (streamed in 1 MiB chunks). */
function prefixHash(path: string, size: number): string {
  const hash = createHash('sha256');
  if (size > 0) {
    const fd = openSync(path, 'r');
    try {
      const buf = Buffer.alloc(Math.min(size, 1 << 20));
      let at = 0;
      while (at < size) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, size - at), at);
        if (n === 0) break;
        hash.update(buf.subarray(0, n));
        at += n;
      }
    } finally {
      closeSync(fd);
    }
  }
  return hash.digest('hex');
}

/** Counts the log's non-confirm events (judgments and undos). */
async function labelEventCount(logFile: string): Promise<number> {
  if (!existsSync(logFile)) return 0;
  const { events } = await readAnnotationLog(logFile);
  return events.filter((e) => e.event.kind !== 'confirm').length;
}

/** Snapshot of a file now (a missing file is size 0). */
export async function snapshotFile(path: string, isLog: boolean): Promise<FileSnapshot> {
  const size = existsSync(path) ? statSync(path).size : 0;
  const snap: FileSnapshot = { size, sha256: prefixHash(path, size) };
  if (isLog) snap.labelEvents = await labelEventCount(path);
  return snap;
}

/** Writes the scores atomically (temp file, fsync, rename: core/atomicWrite.ts), creating `.dap/review/`. */
export async function writeSavedScores(path: string, saved: SavedScores): Promise<void> {
  writeFileAtomicSync(path, JSON.stringify(saved) + '\n');
}

/**
 * Reads saved scores for `taskFile`; undefined when there are none, they are unreadable, or they were
 * saved for another task file (two task files with the same stem in one workspace).
 */
export async function readSavedScores(path: string, taskFile: string): Promise<SavedScores | undefined> {
  if (!existsSync(path)) return undefined;
  try {
    const saved = JSON.parse(await readFile(path, 'utf8')) as SavedScores;
    if (saved.version !== 1 || !Array.isArray(saved.scores) || resolve(saved.taskFile) !== resolve(taskFile)) return undefined;
    return saved;
  } catch {
    return undefined;
  }
}

/** Compares saved scores with the log and task file now (see {@link ScoresFreshness}). */
export async function scoresFreshness(saved: SavedScores, logFile: string): Promise<ScoresFreshness> {
  const task = await snapshotFile(saved.taskFile, false);
  if (task.size !== saved.task.size || task.sha256 !== saved.task.sha256) {
    return { stale: true, newerJudgments: 0, note: 'the task file changed since these scores were computed — re-score' };
  }
  if (resolve(logFile) !== resolve(saved.logFile)) {
    return { stale: true, newerJudgments: 0, note: `scored with another annotation log (${saved.logFile}) — re-score` };
  }
  const size = existsSync(logFile) ? statSync(logFile).size : 0;
  if (size < saved.log.size || prefixHash(logFile, saved.log.size) !== saved.log.sha256) {
    return { stale: true, newerJudgments: 0, note: 'the annotation log was replaced since these scores were computed — re-score' };
  }
  const newer = (await labelEventCount(logFile)) - (saved.log.labelEvents ?? 0);
  if (newer <= 0) return { stale: false, newerJudgments: 0, note: '' };
  return { stale: true, newerJudgments: newer, note: `scored before ${newer} newer judgment${newer === 1 ? '' : 's'} — re-score` };
}
