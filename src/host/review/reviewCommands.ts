/**
 * Registers the review feature with VS Code: the `dapStudio.review` command (args: optional task file
 * Uri/path and optional run or model folder), the panel serializer that restores review panels after a
 * window reload, and the "Review" view's entries in the DAP Studio activity-bar container.
 */
import { isAnnotationLogPath, taskFileOfLog } from '../../core/project';
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { isRunFolder } from '../../train/runs/folder';
import { readRun } from '../../train/runs/listing';
import { ReviewPanel, type ReviewTarget } from './reviewPanel';
import { ReviewTreeProvider } from './reviewTree';

/** A path from a command argument: a Uri, a path string, or `{ fsPath }` / `{ runDir }` / `{ run: { runDir } }` objects from other views. */
function pathOf(arg: unknown): string | undefined {
  if (arg instanceof vscode.Uri) return arg.fsPath;
  if (typeof arg === 'string' && arg !== '') return arg.startsWith('file:') ? vscode.Uri.parse(arg).fsPath : arg;
  if (arg && typeof arg === 'object') {
    // Also the Runs view's RunItem ({ run: { runDir } }).
    const o = arg as { fsPath?: unknown; runDir?: unknown; dir?: unknown; resourceUri?: unknown; run?: { runDir?: unknown } };
    for (const v of [o.fsPath, o.runDir, o.dir, o.run?.runDir]) if (typeof v === 'string') return v;
    if (o.resourceUri instanceof vscode.Uri) return o.resourceUri.fsPath;
  }
  return undefined;
}

/** The task file to review: the argument, else the active editor's .jsonl, else ask. */
async function pickTaskFile(arg: unknown): Promise<string | undefined> {
  const given = pathOf(arg);
  if (given) return isAnnotationLogPath(given) ? taskFileOfLog(given) : given;
  const active = vscode.window.activeTextEditor?.document.uri ?? activeCustomEditorUri();
  if (active?.fsPath.endsWith('.jsonl')) return isAnnotationLogPath(active.fsPath) ? taskFileOfLog(active.fsPath) : active.fsPath;
  const picked = await vscode.window.showOpenDialog({
    canSelectMany: false,
    filters: { 'Task files': ['jsonl'] },
    openLabel: 'Review annotations of this task file',
  });
  return picked?.[0]?.fsPath;
}

/** The Uri of the active tab when it is a custom editor (the annotator), if any. */
function activeCustomEditorUri(): vscode.Uri | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  return input instanceof vscode.TabInputCustom ? input.uri : undefined;
}

/** Wires the review command, panel restore and tree view. Call once from activate(). */
export function registerReview(context: vscode.ExtensionContext): void {
  const tree = new ReviewTreeProvider();
  // A new or deleted log adds or removes its task file (default log names; a custom pattern: on refresh).
  const logWatcher = vscode.workspace.createFileSystemWatcher('**/*.annotations.jsonl', false, true, false);
  /** Reviews the task file a run trained on, with that run's policy and reference scoring the pairs. */
  const openForRun = async (runDir: string): Promise<void> => {
    const config = readRun(runDir, basename(runDir)).config ?? {};
    if (typeof config.data !== 'string' || !existsSync(config.data)) {
      void vscode.window.showErrorMessage(`DAP review: the run's data file ${String(config.data)} is not there any more.`);
      return;
    }
    const target: ReviewTarget = { taskFile: config.data, scoreDir: runDir };
    if (typeof config.log === 'string') target.logFile = config.log;
    ReviewPanel.show(context, target);
    tree.remember(config.data);
  };
  context.subscriptions.push(
    vscode.commands.registerCommand('dapStudio.review', async (taskArg?: unknown, runArg?: unknown) => {
      // A run folder alone (e.g. from the loss panel's "Review likely annotation errors") reviews its data.
      const first = pathOf(taskArg);
      if (first && isRunFolder(first)) return openForRun(first);
      const taskFile = await pickTaskFile(taskArg);
      if (!taskFile) return;
      if (!existsSync(taskFile)) {
        void vscode.window.showErrorMessage(`DAP review: task file not found: ${taskFile}`);
        return;
      }
      const target: ReviewTarget = { taskFile };
      const scoreDir = pathOf(runArg);
      if (scoreDir) target.scoreDir = scoreDir;
      ReviewPanel.show(context, target);
      tree.remember(taskFile);
    }),
    vscode.commands.registerCommand('dapStudio.reviewWithRun', async (runArg?: unknown) => {
      const runDir = pathOf(runArg);
      if (runDir && isRunFolder(runDir)) await openForRun(runDir);
      else void vscode.window.showErrorMessage('DAP review: pick a finished training run.');
    }),
    ReviewPanel.registerSerializer(context),
    vscode.window.registerTreeDataProvider('dapStudio.reviewView', tree),
    logWatcher,
    logWatcher.onDidCreate(() => tree.refresh()),
    logWatcher.onDidDelete(() => tree.refresh()),
  );
}
