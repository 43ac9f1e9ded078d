/**
 * The one handle on the webview API VS Code injects: `acquireVsCodeApi()` may be called only once per
 * page, so every app's own vscodeApi.ts (which types its messages and validates its saved state) goes
 * through this.
 */
export interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

let api: VsCodeApi | undefined;

/** The page's VS Code API, acquired on first use. */
export function vscodeApi(): VsCodeApi {
  api ??= acquireVsCodeApi();
  return api;
}
