/**
 * The loss panel's handle on VS Code: `acquireVsCodeApi()` may be called once per page, so it is wrapped
 * here. The persisted state (run folders, smoothing, stage) lets the host's panel serializer reopen the
 * panel after a window reload.
 */
import type { PanelState, PanelWebviewToHost } from '../panelProtocol';
import { vscodeApi } from '../shared/vscodeApi';

const api = vscodeApi();

export function post(message: PanelWebviewToHost): void {
  api.postMessage(message);
}

export function loadState(): PanelState {
  const fallback: PanelState = { runDirs: [], smoothing: 0.6, stage: '' };
  const saved = api.getState();
  return saved && typeof saved === 'object' ? { ...fallback, ...(saved as Partial<PanelState>) } : fallback;
}

export function saveState(state: PanelState): void {
  api.setState(state);
}
