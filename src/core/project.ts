/**
 * Loads a task file together with its annotation log and resolves the current judgments: the one-call
 * entry point for the CLI, the review feature and the trainer. Also names the default log path.
 */
import { basename, dirname, join } from 'node:path';
import { readAnnotationLog, type LoggedEvent } from './annotationLog';
import { resolveJudgments, type LogResolution } from './judgments';
import { readTasks } from './tasks';
import type { DataIssue, TaskItem } from './types';

/**
 * The default log of a task file: its sibling `NAME.annotations.jsonl`, where NAME is the file name
 * without `.jsonl` and without a trailing `.tasks` (`arith.tasks.jsonl` → `arith.annotations.jsonl`,
 * `data.jsonl` → `data.annotations.jsonl`).
 */
export function defaultLogPath(tasksPath: string): string {
  const name = basename(tasksPath).replace(/\.jsonl$/i, '').replace(/\.tasks$/i, '');
  return join(dirname(tasksPath), `${name}.annotations.jsonl`);
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
