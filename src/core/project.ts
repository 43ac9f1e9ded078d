/**
 * Loads a task file together with its annotation log and resolves the current judgments: the one-call
 * entry point for the CLI, the review feature and the trainer. Also names the default log path.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { readAnnotationLog, type LoggedEvent } from './annotationLog';
import { resolveJudgments, type LogResolution } from './judgments';
import { readTasks } from './tasks';
import type { DataIssue, TaskItem } from './types';

/**
 * The one naming rule of task files and their logs, used by the CLI, the annotator, the trainer and the
 * review panel alike: NAME is the task file's name without `.jsonl` and without a trailing `.tasks`
 * (`arith.tasks.jsonl` → `arith`, `data.jsonl` → `data`), and its log is the sibling
 * `NAME.annotations.jsonl`.
 */
export function taskStem(tasksPath: string): string {
  return basename(tasksPath).replace(/\.(jsonl|parquet)$/i, '').replace(/\.tasks$/i, '');
}

/** The default log of a task file: its sibling `NAME.annotations.jsonl` (see {@link taskStem}). */
export function defaultLogPath(tasksPath: string): string {
  return join(dirname(tasksPath), `${taskStem(tasksPath)}.annotations.jsonl`);
}

/**
 * The annotation guidelines of a task file: the sibling `NAME.guidelines.md` (see {@link taskStem}), shown
 * in the annotator's Guidelines pane.
 */
export function guidelinesPath(tasksPath: string): string {
  return join(dirname(tasksPath), `${taskStem(tasksPath)}.guidelines.md`);
}

/** True for an annotation log itself (`*.annotations.jsonl`), which is never a task file. */
export function isAnnotationLogPath(file: string): boolean {
  return /\.annotations\.jsonl$/i.test(basename(file));
}

/**
 * The task file of a log `NAME.annotations.jsonl`, the rule reversed: the sibling `NAME.tasks.jsonl` if it
 * exists, else `NAME.jsonl` if it exists, else `NAME.tasks.jsonl` (so a missing file is named in the error).
 */
export function taskFileOfLog(logPath: string): string {
  const stem = join(dirname(logPath), basename(logPath).replace(/\.annotations\.jsonl$/i, ''));
  return [`${stem}.tasks.jsonl`, `${stem}.jsonl`].find((f) => existsSync(f)) ?? `${stem}.tasks.jsonl`;
}

/** A task file, its log and the resolved state. */
export interface LoadedProject {
  tasksPath: string;
  logPath: string;
  items: TaskItem[];
  /** Every log event with its line number, in file order. */
  events: LoggedEvent[];
  resolution: LogResolution;
  /** Issues of the task file, then of the log (reading and resolving). */
  issues: DataIssue[];
}

/** Reads the task file and its log (default: {@link defaultLogPath}) and resolves judgments. */
export async function loadProject(tasksPath: string, logPath: string = defaultLogPath(tasksPath)): Promise<LoadedProject> {
  const tasks = await readTasks(tasksPath);
  const log = await readAnnotationLog(logPath);
  const resolution = resolveJudgments(log.events, tasks.items, logPath);
  return {
    tasksPath,
    logPath,
    items: tasks.items,
    events: log.events,
    resolution,
    issues: [...tasks.issues, ...log.issues, ...resolution.issues],
  };
}
