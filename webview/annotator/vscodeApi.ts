/**
 * Typed access to the webview API VS Code injects (`acquireVsCodeApi`, callable once per page):
 * posting messages to the host and persisting state across hide/restore and window reloads.
 */
import type { AnnotatorWebviewState, AnnotatorWebviewToHost } from '../protocol/annotator';
import { vscodeApi } from '../shared/vscodeApi';

const api = vscodeApi();

export function post(message: AnnotatorWebviewToHost): void {
  api.postMessage(message);
}

export function loadState(): AnnotatorWebviewState | undefined {
  const s = api.getState() as AnnotatorWebviewState | undefined | null;
  return s && typeof s.index === 'number' ? s : undefined;
}

export function saveState(state: AnnotatorWebviewState): void {
  api.setState(state);
}
