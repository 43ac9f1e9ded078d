/**
 * The "Review" tree view in the DAP Studio activity-bar container: one entry per task file reviewed in
 * this session (plus `.jsonl` task files in the workspace that have an annotation log), each opening the
 * review panel. Its welcome content (package.json viewsWelcome) offers the `dapStudio.review` command.
 */
import * as vscode from 'vscode';
import { basename } from 'node:path';
import { taskFileOfLog } from '../../core/project';

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
    const logs = await vscode.workspace.findFiles('**/*.annotations.jsonl', '**/node_modules/**', 50);
    const tasks = logs.map((u) => taskFileOfLog(u.fsPath));
    return [...new Set([...this.recent, ...tasks])];
  }
}
