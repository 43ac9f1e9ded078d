/**
 * What a command acts on, from its arguments: the data file (a URI or path argument, else the active
 * editor or annotator tab, else an open dialog) and run folders (a Runs-view item plus the multi-selection,
 * a path, or a URI).
 */
import * as vscode from 'vscode';
import { RunItem } from './runsTree';

/**
 * The data file a command acts on: its argument, else the active editor's or annotator tab's file when its
 * extension is one of `extensions` (Train takes a .parquet task file too; see trainInputs.ts), else an open dialog.
 */
export async function dataFileOf(arg: unknown, openLabel = 'Train on this data', extensions: readonly string[] = ['jsonl']): Promise<string | undefined> {
  if (arg instanceof vscode.Uri) return arg.fsPath;
  if (typeof arg === 'string' && arg) return arg;
  const fits = (uri: vscode.Uri | undefined) => !!uri && extensions.some((ext) => uri.fsPath.toLowerCase().endsWith(`.${ext}`));
  const active = vscode.window.activeTextEditor?.document.uri;
  if (active && fits(active)) return active.fsPath;
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (input instanceof vscode.TabInputCustom && fits(input.uri)) return input.uri.fsPath;
  const picked = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'Preference data': [...extensions] }, openLabel });
  return picked?.[0]?.fsPath;
}

/** Run folders from a command argument: a RunItem (+ the multi-selection), a path, or the active panel. */
export function runDirsOf(arg: unknown, selection?: unknown): string[] {
  const one = (a: unknown): string | undefined => (a instanceof RunItem ? a.run.runDir : typeof a === 'string' ? a : a instanceof vscode.Uri ? a.fsPath : undefined);
  const many = Array.isArray(selection) ? selection.map(one).filter((d): d is string => !!d) : [];
  if (many.length) return many;
  const single = one(arg);
  return single ? [single] : [];
}
