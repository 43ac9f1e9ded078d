/**
 * Where a task file's annotation log lives: `NAME.annotations.jsonl` next to the task file (NAME = the
 * file name without `.jsonl` and a trailing `.tasks`: the data core's rule, src/core/project.ts), or the `dapStudio.annotationLogPath` pattern with `${dir}`, `${name}`
 * and `${workspaceFolder}` placeholders (relative results resolve against the task file's folder).
 * Also: which task files of a list have a log (the Review view). No vscode.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { isAnnotationLogPath, taskStem } from '../../core/project';

export const DEFAULT_LOG_PATTERN = '${dir}/${name}.annotations.jsonl';

/** True for an annotation log itself (which must not be opened as a task file). */
export const isAnnotationLog = isAnnotationLogPath;

/** Expands the log path pattern for `taskFile`; unknown placeholders are an error. */
export function annotationLogPath(taskFile: string, pattern: string | undefined, workspaceFolder?: string): string {
  const dir = path.dirname(taskFile);
  const p = pattern && pattern.trim() ? pattern.trim() : DEFAULT_LOG_PATTERN;
  const expanded = p.replace(/\$\{(\w+)\}/g, (whole, key: string) => {
    switch (key) {
      case 'dir':
        return dir;
      case 'name':
        return taskStem(taskFile);
      case 'workspaceFolder':
        if (!workspaceFolder) throw new Error(`dapStudio.annotationLogPath: \${workspaceFolder} used but no folder is open`);
        return workspaceFolder;
      default:
        throw new Error(`dapStudio.annotationLogPath: unknown placeholder ${whole} (use \${dir}, \${name}, \${workspaceFolder})`);
    }
  });
  const resolved = path.resolve(dir, expanded);
  if (path.resolve(resolved) === path.resolve(taskFile)) {
    throw new Error(`dapStudio.annotationLogPath: the log path equals the task file ${taskFile}`);
  }
  return resolved;
}

/**
 * The task files among `candidates` (paths, kept in order) that exist, are not logs themselves, and whose
 * log by `logOf` (annotationLogPath with the user's pattern) exists: the Review view's entries. A task
 * file's name is never guessed from a log's name.
 */
export function taskFilesWithLogs(candidates: readonly string[], logOf: (taskFile: string) => string): string[] {
  return candidates.filter((file) => {
    if (isAnnotationLogPath(file) || !existsSync(file)) return false;
    try {
      return existsSync(logOf(file));
    } catch {
      return false; // a bad dapStudio.annotationLogPath pattern: the annotator names it when the file is opened
    }
  });
}
