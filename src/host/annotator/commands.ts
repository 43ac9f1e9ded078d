/**
 * The annotator's commands: `dapStudio.annotate` (open the active/selected .jsonl with the annotator),
 * `dapStudio.annotateItem` (open a task file at one item, e.g. from the review panel) and
 * `dapStudio.createGuidelines` (create the task file's NAME.guidelines.md from a template if it is missing,
 * never overwriting one, and open it beside).
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import { createGuidelines } from './guidelines';
import { isAnnotationLog } from './logPath';
import { ANNOTATOR_VIEW_TYPE, type AnnotatorEditorProvider } from './provider';

/** The file a command was invoked on: its argument, the active editor, or the active tab. */
function targetUri(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  const editor = vscode.window.activeTextEditor;
  if (editor) return editor.document.uri;
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (input instanceof vscode.TabInputText || input instanceof vscode.TabInputCustom) return input.uri;
  return undefined;
}

/** Checks a task file choice; returns an error message or undefined. */
function refuse(uri: vscode.Uri): string | undefined {
  const name = path.basename(uri.fsPath);
  if (!/\.(jsonl|parquet)$/i.test(name)) return `DAP Studio: ${name} is not a .jsonl or .parquet task file.`;
  if (isAnnotationLog(name)) return `DAP Studio: ${name} is an annotation log (the annotator's output). Open its task file instead.`;
  return undefined;
}

async function pickTaskFile(arg: unknown): Promise<vscode.Uri | undefined> {
  let uri = targetUri(arg);
  if (!uri || refuse(uri)) {
    const picked = await vscode.window.showOpenDialog({
      canSelectMany: false,
      openLabel: 'Annotate',
      filters: { 'Task files (JSONL, Parquet)': ['jsonl', 'parquet'] },
      defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
    });
    if (!picked?.length) return undefined;
    uri = picked[0];
  }
  const problem = refuse(uri);
  if (problem) {
    void vscode.window.showErrorMessage(problem);
    return undefined;
  }
  return uri;
}

export function registerAnnotatorCommands(context: vscode.ExtensionContext, provider: AnnotatorEditorProvider): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('dapStudio.annotate', async (arg?: unknown) => {
      const uri = targetUri(arg);
      const problem = uri && refuse(uri);
      if (uri && problem && arg instanceof vscode.Uri) {
        void vscode.window.showErrorMessage(problem);
        return;
      }
      const chosen = await pickTaskFile(arg);
      if (chosen) await vscode.commands.executeCommand('vscode.openWith', chosen, ANNOTATOR_VIEW_TYPE);
    }),
    vscode.commands.registerCommand('dapStudio.createGuidelines', async (arg?: unknown) => {
      const uri = await pickTaskFile(arg);
      if (!uri) return;
      let file: string;
      try {
        file = (await createGuidelines(uri.fsPath)).file;
      } catch (e) {
        void vscode.window.showErrorMessage(`DAP Studio: could not create the guidelines of ${path.basename(uri.fsPath)}: ${(e as Error).message}`);
        return;
      }
      await vscode.window.showTextDocument(vscode.Uri.file(file), { viewColumn: vscode.ViewColumn.Beside, preview: false });
    }),
    vscode.commands.registerCommand('dapStudio.annotateItem', async (arg?: unknown, itemId?: unknown) => {
      const uri = arg instanceof vscode.Uri ? arg : typeof arg === 'string' ? vscode.Uri.file(arg) : undefined;
      if (!uri || typeof itemId !== 'string') {
        void vscode.window.showErrorMessage('DAP Studio: dapStudio.annotateItem needs (task file uri, item id).');
        return;
      }
      const problem = refuse(uri);
      if (problem) {
        void vscode.window.showErrorMessage(problem);
        return;
      }
      // An open editor (also a background tab) is revealed at the item; else one opens there.
      if (!(await provider.jumpTo(uri, itemId))) await vscode.commands.executeCommand('vscode.openWith', uri, ANNOTATOR_VIEW_TYPE);
    }),
  );
}
