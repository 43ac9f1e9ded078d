/**
 * DAP Studio's VS Code entry point: wiring only. Each feature registers itself from src/host/.
 */
import type * as vscode from 'vscode';
import { registerAnnotator } from './host/annotator/register';
import { registerReview } from './host/review/reviewCommands';
import { registerTraining } from './host/training/register';

export function activate(context: vscode.ExtensionContext): void {
  registerAnnotator(context);
  registerReview(context);
  registerTraining(context);
}

export function deactivate(): void {}
