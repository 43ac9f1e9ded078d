/**
 * The webview's typed handle on VS Code: `acquireVsCodeApi()` may be called once per page, so it is
 * wrapped here and shared. Persists the panel's UI state (tab, filters, sort) across hide/restore.
 */
import type { ReviewWebviewToHost } from '../protocol/review';
import { vscodeApi } from '../shared/vscodeApi';

/** UI state kept by VS Code across hide/restore of the panel. */
export interface ReviewUiState {
  /** Which list is shown. */
  tab: 'never_won' | 'disagreement' | 'model_flagged' | 'team';
  /** Free-text filter over item id, prompt and response texts. */
  query: string;
  /** Only show entries involving this annotator ('' = all). */
  annotator: string;
  /** Never-won list: only items where every response lost or was judged both bad. */
  allLostOnly: boolean;
  /** Sort key per list. */
  sort: 'severity' | 'line';
}

const api = vscodeApi();

export function post(message: ReviewWebviewToHost): void {
  api.postMessage(message);
}

export function loadState(): ReviewUiState {
  const fallback: ReviewUiState = { tab: 'disagreement', query: '', annotator: '', allLostOnly: false, sort: 'severity' };
  const saved = api.getState();
  return saved && typeof saved === 'object' ? { ...fallback, ...(saved as Partial<ReviewUiState>) } : fallback;
}

/**
 * Saves the UI state, plus what is reviewed (task file, log: from the latest report) so that the host's
 * panel serializer can reopen the panel after a window reload.
 */
export function saveState(state: ReviewUiState, target?: { taskFile: string; logFile: string }): void {
  api.setState({ ...state, target });
}
