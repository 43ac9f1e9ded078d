/**
 * The "DAP Studio Annotator" custom editor (`dapStudio.annotator`, priority "option" for *.jsonl and *.parquet):
 * a readonly custom document per task file (lazy task index + the annotation log beside it) and one
 * webview per editor, driven by an AnnotatorController. The webview is recreated when hidden
 * (retainContextWhenHidden: false) and restores its position from its saved state.
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import { existsSync, unwatchFile, watchFile } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { guidelinesPath, taskFileOfLog } from '../../core/project';
import type { AnnotatorHostToWebview, AnnotatorWebviewToHost } from '../../../webview/protocol/annotator';
import { messageHtml, webviewHtml, webviewOptions } from '../webviewHtml';
import { AnnotatorController } from './controller';
import { followLog, openLog, openTasks, type OpenedLog, type OpenedTasks } from './coreAdapter';
import { annotationLogPath, isAnnotationLog } from './logPath';
import { parquetTaskFile } from '../../core/importRows';
import { formatIssue } from '../../core/issues';
import { isParquetPath } from '../../core/parquet';
import { annotatorId, confirmWithEnter, logPathPattern, SECTION, showOtherJudgments } from './settings';

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
  /** Open editors by document uri (for `dapStudio.annotateItem`): the panel, its controller, and whether
   *  its webview is up (a hidden one is torn down: retainContextWhenHidden is false). */
  private readonly editors = new Map<string, { panel: vscode.WebviewPanel; controller: AnnotatorController; live: boolean }>();
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

  /**
   * Shows item `itemId` in the editor of `uri`. An open editor is revealed and jumps there: at once when its
   * webview is up and visible, else when the webview it recreates on reveal says `ready` (a message sent to a
   * hidden editor would be lost and the recreated view would restore its old item). Returns false when no
   * editor of `uri` is open: the jump then waits for the editor the caller opens.
   */
  async jumpTo(uri: vscode.Uri, itemId: string): Promise<boolean> {
    const key = uri.toString();
    const open = this.editors.get(key);
    if (!open) {
      this.pendingJumps.set(key, itemId);
      return false;
    }
    if (open.panel.visible && open.live) {
      open.panel.reveal(open.panel.viewColumn);
      await open.controller.navigate({ kind: 'id', id: itemId });
    } else {
      this.pendingJumps.set(key, itemId);
      open.live = false;
      open.panel.reveal(open.panel.viewColumn);
    }
    return true;
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
    // Tell the annotator's tab from the text editor's of the same file: its own icon, and its own title where
    // VS Code lets a custom editor set one (1.106+; older versions keep the file name).
    panel.iconPath = { light: vscode.Uri.joinPath(ext, 'media', 'icons', 'annotate-light.svg'), dark: vscode.Uri.joinPath(ext, 'media', 'icons', 'annotate-dark.svg') };
    panel.title = `Annotate: ${path.basename(document.uri.fsPath)}`;
    const post = (message: AnnotatorHostToWebview) => void webview.postMessage(message);
    let notifying = false; // one notification at a time, however many saves fail meanwhile
    const controller = new AnnotatorController({
      tasks: tasks.source,
      sink: log.sink,
      existing: log.events,
      annotator,
      taskFile: document.uri.fsPath,
      post,
      onNotSaved: (message) => {
        if (notifying) return;
        notifying = true;
        void vscode.window
          .showErrorMessage(`DAP Studio: judgment NOT saved — ${message}. It is kept in the annotator: press Retry there once this is fixed.`)
          .then(() => { notifying = false; });
      },
      tauThreshold: vscode.workspace.getConfiguration(SECTION).get<number>('review.tauThreshold'),
      showOthers: showOtherJudgments(),
    });
    const key = document.uri.toString();
    const editor = { panel, controller, live: false };
    this.editors.set(key, editor);
    const config = () => ({ annotator, confirmWithEnter: confirmWithEnter(), fileName: path.basename(document.uri.fsPath), logFileName: path.basename(logFile) });

    // The guidelines beside the task file, sent again whenever the file changes (or appears).
    const guidelinesFile = guidelinesPath(document.uri.fsPath);
    const sendGuidelines = async (): Promise<void> => {
      const markdown = existsSync(guidelinesFile) ? await readFile(guidelinesFile, 'utf8').catch(() => null) : null;
      if (editor.live) post({ type: 'guidelines', fileName: path.basename(guidelinesFile), markdown });
    };
    const onGuidelines = (): void => void sendGuidelines();
    watchFile(guidelinesFile, { interval: 1000, persistent: false }, onGuidelines);

    // Judgments other annotators append meanwhile (this editor's own are applied as it writes them).
    const follower = followLog(logFile, log.size, (e) => e.annotator !== annotator, (events) => controller.applyExternal(events));

    // Progress while the task index is still being built (large files).
    const timer = setInterval(() => {
      post({ type: 'progress', progress: controller.progress() });
      if (!tasks.source.indexing()) clearInterval(timer);
    }, 400);

    const disposables: vscode.Disposable[] = [
      webview.onDidReceiveMessage(async (msg: AnnotatorWebviewToHost) => {
        if (msg.type === 'ready') {
          editor.live = true;
          post({ type: 'init', config: config() });
          void sendGuidelines();
          const jump = this.pendingJumps.get(key);
          if (jump !== undefined) {
            this.pendingJumps.delete(key);
            await controller.navigate({ kind: 'id', id: jump });
            return;
          }
        } else if (msg.type === 'trainDpo') {
          await this.train(document.uri);
          return;
        } else if (msg.type === 'createGuidelines') {
          await vscode.commands.executeCommand('dapStudio.createGuidelines', document.uri);
          return;
        } else if (msg.type === 'openLog') {
          await vscode.window.showTextDocument(vscode.Uri.file(logFile), { preview: true, viewColumn: vscode.ViewColumn.Beside });
          return;
        }
        await controller.handle(msg);
      }),
      panel.onDidChangeViewState(() => {
        if (!panel.visible) editor.live = false; // torn down; the next `ready` brings it back
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(`${SECTION}.confirmWithEnter`)) post({ type: 'config', config: config() });
        if (e.affectsConfiguration(`${SECTION}.showOtherJudgments`)) {
          controller.setShowOthers(showOtherJudgments());
          if (editor.live) void controller.show(controller.index);
        }
      }),
    ];
    panel.onDidDispose(() => {
      clearInterval(timer);
      follower.close();
      unwatchFile(guidelinesFile, onGuidelines);
      if (this.editors.get(key) === editor) this.editors.delete(key);
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
