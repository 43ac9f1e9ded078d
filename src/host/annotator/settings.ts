/**
 * The annotator's settings: `dapStudio.annotator` (id written in every event; default git user.name,
 * then the OS user name), `dapStudio.annotationLogPath` (log path pattern), `dapStudio.confirmWithEnter` and
 * `dapStudio.showOtherJudgments`.
 */
import * as vscode from 'vscode';
import { execFile } from 'node:child_process';
import * as os from 'node:os';

export const SECTION = 'dapStudio';

/** `git config user.name` in `cwd`, or undefined (no git, not set, or slower than 3 s). */
function gitUserName(cwd: string | undefined): Promise<string | undefined> {
  return new Promise((resolve) => {
    try {
      execFile('git', ['config', 'user.name'], { cwd, timeout: 3000, windowsHide: true }, (err, stdout) => {
        const name = err ? '' : stdout.trim();
        resolve(name || undefined);
      });
    } catch {
      resolve(undefined);
    }
  });
}

/** Annotator id for events written from `folder`. */
export async function annotatorId(folder: string | undefined): Promise<string> {
  const configured = vscode.workspace.getConfiguration(SECTION).get<string>('annotator', '').trim();
  if (configured) return configured;
  const git = await gitUserName(folder);
  if (git) return git;
  try {
    return os.userInfo().username || 'annotator';
  } catch {
    return 'annotator';
  }
}

export function logPathPattern(): string {
  return vscode.workspace.getConfiguration(SECTION).get<string>('annotationLogPath', '');
}

/** `dapStudio.showOtherJudgments`: other annotators' judgments before judging an item (adjudication). */
export function showOtherJudgments(): boolean {
  return vscode.workspace.getConfiguration(SECTION).get<boolean>('showOtherJudgments', false);
}

export function confirmWithEnter(): boolean {
  return vscode.workspace.getConfiguration(SECTION).get<boolean>('confirmWithEnter', false);
}
