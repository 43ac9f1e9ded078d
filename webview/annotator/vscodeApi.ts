/**
 * Typed access to the webview API VS Code injects (`acquireVsCodeApi`, callable once per page):
 * posting messages to the host and persisting state across hide/restore and window reloads.
 */
import type { AnnotatorWebviewState, WebviewToHost } from '../protocol';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

const api: VsCodeApi = acquireVsCodeApi();

export function post(message: WebviewToHost): void {
  api.postMessage(message);
}

export function loadState(): AnnotatorWebviewState | undefined {
  const s = api.getState() as AnnotatorWebviewState | undefined | null;
  return s && typeof s.index === 'number' ? s : undefined;
}

export function saveState(state: AnnotatorWebviewState): void {
  api.setState(state);
}
