/** Registers the annotator: the custom editor provider and its commands. */
import type * as vscode from 'vscode';
import { registerAnnotatorCommands } from './commands';
import { AnnotatorEditorProvider } from './provider';

export function registerAnnotator(context: vscode.ExtensionContext): void {
  const provider = AnnotatorEditorProvider.register(context);
  registerAnnotatorCommands(context, provider);
}
