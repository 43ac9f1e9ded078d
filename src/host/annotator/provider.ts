/**
 * The "DAP Studio Annotator" custom editor (`dapStudio.annotator`, priority "option" for *.jsonl and *.parquet):
 * a readonly custom document per task file (lazy task index + the annotation log beside it) and one
 * webview per editor, driven by an AnnotatorController. The webview is recreated when hidden
 * (retainContextWhenHidden: false) and restores its position from its saved state.
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import { taskFileOfLog } from '../../core/project';
import type { AnnotatorHostToWebview, AnnotatorWebviewToHost } from '../../../webview/protocol/annotator';
import { messageHtml, webviewHtml, webviewOptions } from '../webviewHtml';
import { AnnotatorController } from './controller';
import { openLog, openTasks, type OpenedLog, type OpenedTasks } from './coreAdapter';
import { annotationLogPath, isAnnotationLog } from './logPath';
import { parquetTaskFile } from '../../core/importRows';
import { formatIssue } from '../../core/issues';
import { isParquetPath } from '../../core/parquet';
import { annotatorId, confirmWithEnter, logPathPattern, SECTION } from './settings';

export const ANNOTATOR_VIEW_TYPE = 'dapStudio.annotator';

/** One open task file. */
class TaskDocument implements vscode.CustomDocument {
  constructor(
    readonly uri: vscode.Uri,
    readonly opened: { tasks: OpenedTasks; log: OpenedLog; logFile: string; annotator: string } | { refused: string },
  ) {}
  dispose(): void {
    if ('tasks' in this.opened) {
      this.opened.tasks.close();
      this.opened.log.close();
    }
  }
}

export class AnnotatorEditorProvider implements vscode.CustomReadonlyEditorProvider<TaskDocument> {
  /** Controllers of open editors by document uri (for `dapStudio.annotateItem`). */
  private readonly controllers = new Map<string, AnnotatorController>();
  /** Items to show first when an editor for the uri becomes ready. */
  private readonly pendingJumps = new Map<string, string>();

  constructor(private readonly context: vscode.ExtensionContext) {}

  static register(context: vscode.ExtensionContext): AnnotatorEditorProvider {
    const provider = new AnnotatorEditorProvider(context);
    context.subscriptions.push(
      vscode.window.registerCustomEditorProvider(ANNOTATOR_VIEW_TYPE, provider, {
        webviewOptions: { retainContextWhenHidden: false },
        supportsMultipleEditorsPerDocument: false,
      }),
    );
    return provider;
  }

  /** Shows item `itemId` in the editor of `uri` (now if open, else once it is ready). */
  async jumpTo(uri: vscode.Uri, itemId: string): Promise<void> {
    const controller = this.controllers.get(uri.toString());
    if (controller) await controller.navigate({ kind: 'id', id: itemId });
    else this.pendingJumps.set(uri.toString(), itemId);
  }

  async openCustomDocument(uri: vscode.Uri): Promise<TaskDocument> {
    const file = uri.fsPath;
    if (isAnnotationLog(file)) {
      return new TaskDocument(uri, { refused: `${path.basename(file)} is an annotation log (the output of annotating), not a task file.` });
    }
    const folder = vscode.workspace.getWorkspaceFolder(uri)?.uri.fsPath;
    const logFile = annotationLogPath(file, logPathPattern(), folder);
    let tasks: OpenedTasks;
    if (isParquetPath(file)) {
      // A .parquet file is read through the same import as `dap import` (rows checked as task lines), into a
      // cached JSONL in the extension's storage; the annotation log stays beside the .parquet (NAME.annotations.jsonl).
      const imported = await parquetTaskFile(file, path.join(this.context.globalStorageUri.fsPath, 'parquet'));
      if (imported.issues.length) {
        const first = imported.issues[0];
        void vscode.window.showWarningMessage(`DAP Studio: ${imported.issues.length} bad row(s) in ${path.basename(file)} left out. First: ${formatIssue(first)}`);
      }
      tasks = openTasks(imported.path);
    } else tasks = openTasks(file);
    const [log, annotator] = await Promise.all([openLog(logFile), annotatorId(folder ?? path.dirname(file))]);
    if (log.issues.length) {
      const first = log.issues[0];
      void vscode.window.showWarningMessage(
        `DAP Studio: ${log.issues.length} problem(s) in ${path.basename(logFile)} (skipped, nothing rewritten). First: ${first.file}:${first.line}: ${first.field}: ${first.message}`,
      );
    }
    return new TaskDocument(uri, { tasks, log, logFile, annotator });
  }

  async resolveCustomEditor(document: TaskDocument, panel: vscode.WebviewPanel): Promise<void> {
    const { webview } = panel;
    if ('refused' in document.opened) {
      webview.options = { enableScripts: false };
      const task = taskFileOfLog(document.uri.fsPath);
      webview.html = messageHtml('Not a task file', [
        document.opened.refused,
        `Open the task file (e.g. ${path.basename(task)}) with "DAP: Annotate Preferences" instead; annotation logs are only appended to, never edited here.`,
      ]);
      return;
    }
    const { tasks, log, logFile, annotator } = document.opened;
    const ext = this.context.extensionUri;
    webview.options = webviewOptions(ext);
    webview.html = webviewHtml(webview, ext, 'annotator', `Annotate ${path.basename(document.uri.fsPath)}`);
    const post = (message: AnnotatorHostToWebview) => void webview.postMessage(message);
    const controller = new AnnotatorController({
      tasks: tasks.source,
      sink: log.sink,
      existing: log.events,
      annotator,
      taskFile: document.uri.fsPath,
      post,
      tauThreshold: vscode.workspace.getConfiguration(SECTION).get<number>('review.tauThreshold'),
    });
    const key = document.uri.toString();
    this.controllers.set(key, controller);
    const config = () => ({ annotator, confirmWithEnter: confirmWithEnter(), fileName: path.basename(document.uri.fsPath), logFileName: path.basename(logFile) });

    // Progress while the task index is still being built (large files).
    const timer = setInterval(() => {
      post({ type: 'progress', progress: controller.progress() });
      if (!tasks.source.indexing()) clearInterval(timer);
    }, 400);

    const disposables: vscode.Disposable[] = [
      webview.onDidReceiveMessage(async (msg: AnnotatorWebviewToHost) => {
        if (msg.type === 'ready') {
          post({ type: 'init', config: config() });
          const jump = this.pendingJumps.get(key);
          if (jump !== undefined) {
            this.pendingJumps.delete(key);
            await controller.navigate({ kind: 'id', id: jump });
            return;
          }
        } else if (msg.type === 'trainDpo') {
          await this.train(document.uri);
          return;
        } else if (msg.type === 'openLog') {
          await vscode.window.showTextDocument(vscode.Uri.file(logFile), { preview: true, viewColumn: vscode.ViewColumn.Beside });
          return;
        }
        await controller.handle(msg);
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(`${SECTION}.confirmWithEnter`)) post({ type: 'config', config: config() });
      }),
    ];
    panel.onDidDispose(() => {
      clearInterval(timer);
      this.controllers.delete(key);
      for (const d of disposables) d.dispose();
    });
  }

  /** The toolbar's "Train DPO…" button: runs the training engineer's command when it is installed. */
  private async train(uri: vscode.Uri): Promise<void> {
    const commands = await vscode.commands.getCommands(true);
    if (commands.includes('dapStudio.trainDpo')) await vscode.commands.executeCommand('dapStudio.trainDpo', uri);
    else void vscode.window.showInformationMessage('DAP Studio: training is not available in this build.');
  }
}
