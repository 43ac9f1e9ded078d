/**
 * The "Review" tree view in the DAP Studio activity-bar container: one entry per task file reviewed in
 * this session, plus every `.jsonl` task file of the workspace whose annotation log exists, where "its log"
 * is the annotator's own rule (core/project.ts's NAME.annotations.jsonl beside it, or the
 * `dapStudio.annotationLogPath` pattern): the view never derives a task file's name from a log's, so it
 * cannot list a file that does not exist. Each entry opens the review panel. Its welcome content
 * (package.json viewsWelcome) offers the `dapStudio.review` command.
 */
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { annotationLogPath, taskFilesWithLogs } from '../annotator/logPath';
import { logPathPattern } from '../annotator/settings';

/** Task files looked at per refresh (workspace order). */
const MAX_TASK_FILES = 500;

export class ReviewTreeProvider implements vscode.TreeDataProvider<string> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly recent: string[] = [];

  /** Adds a reviewed task file to the top of the list. */
  remember(taskFile: string): void {
    const at = this.recent.indexOf(taskFile);
    if (at >= 0) this.recent.splice(at, 1);
    this.recent.unshift(taskFile);
    this.changed.fire();
  }

  /** Lists the workspace again (a log was created or deleted). */
  refresh(): void {
    this.changed.fire();
  }

  getTreeItem(taskFile: string): vscode.TreeItem {
    const item = new vscode.TreeItem(basename(taskFile), vscode.TreeItemCollapsibleState.None);
    item.description = vscode.workspace.asRelativePath(taskFile);
    item.tooltip = `Review likely annotation errors in ${taskFile}`;
    item.iconPath = new vscode.ThemeIcon('checklist');
    item.command = { command: 'dapStudio.review', title: 'Review', arguments: [vscode.Uri.file(taskFile)] };
    return item;
  }

  async getChildren(element?: string): Promise<string[]> {
    if (element) return [];
    const files = await vscode.workspace.findFiles('**/*.jsonl', '{**/node_modules/**,**/.dap/**,**/.git/**}', MAX_TASK_FILES);
    const logOf = (taskFile: string) =>
      annotationLogPath(taskFile, logPathPattern(), vscode.workspace.getWorkspaceFolder(vscode.Uri.file(taskFile))?.uri.fsPath);
    const found = taskFilesWithLogs(files.map((u) => u.fsPath).sort(), logOf);
    return [...new Set([...this.recent.filter((f) => existsSync(f)), ...found])];
  }
}
