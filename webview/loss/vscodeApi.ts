/**
 * The loss panel's handle on VS Code: `acquireVsCodeApi()` may be called once per page, so it is wrapped
 * here. The persisted state (run folders, smoothing, stage) lets the host's panel serializer reopen the
 * panel after a window reload.
 */
import type { LossPanelState, LossWebviewToHost } from '../protocol/loss';
import { vscodeApi } from '../shared/vscodeApi';

const api = vscodeApi();

export function post(message: LossWebviewToHost): void {
  api.postMessage(message);
}

export function loadState(): LossPanelState {
  const fallback: LossPanelState = { runDirs: [], smoothing: 0.6, stage: '' };
  const saved = api.getState();
  return saved && typeof saved === 'object' ? { ...fallback, ...(saved as Partial<LossPanelState>) } : fallback;
}

export function saveState(state: LossPanelState): void {
  api.setState(state);
}
