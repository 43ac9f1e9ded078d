/**
 * Opens the built annotator webview (dist/webview/annotator.js/.css) in headless Debian Chromium the
 * way VS Code serves it: same Content-Security-Policy (nonce'd script, styles from the resource origin
 * only), an `acquireVsCodeApi` double that records posted messages and keeps setState's state, host
 * messages delivered as window `message` events, and VS Code Light+/Dark+ theme variables. Kept apart
 * from the shared harness (test/browser/harness.ts) because it reproduces the host's exact CSP
 * (src/host/webviewHtml.ts: styles only from the resource origin or with the nonce, no 'unsafe-inline').
 */
import { chromium, type Browser, type Page } from 'playwright-core';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import type { AnnotatorWebviewState, AnnotatorHostToWebview, AnnotatorWebviewToHost } from '../../webview/protocol/annotator';
import { THEMES as BASE_THEMES, type ThemeKind } from './themes';

export type ThemeName = ThemeKind;

const root = join(import.meta.dirname, '..', '..');
const ORIGIN = 'https://webview.dap.test';

/**
 * Theme variables: the test-infra harness's Light+/Dark+ sets (test/browser/themes.ts) plus the colours
 * it leaves out that @vscode-elements' inputs and the annotator's code highlighting read.
 */
const EXTRA_VARS: Record<ThemeName, Record<string, string>> = {
  light: {
    '--vscode-editorWidget-border': '#c8c8c8',
    '--vscode-button-border': 'rgba(0,0,0,0.1)',
    '--vscode-input-border': '#cecece',
    '--vscode-inputOption-activeBackground': 'rgba(190,230,253,0.6)',
    '--vscode-inputOption-activeBorder': '#005fb8',
    '--vscode-inputValidation-errorBackground': '#f2dede',
    '--vscode-inputValidation-errorBorder': '#be1100',
    '--vscode-inputValidation-infoBackground': '#d6ecf2',
    '--vscode-inputValidation-infoBorder': '#1a85ff',
    '--vscode-settings-dropdownBackground': '#ffffff',
    '--vscode-settings-dropdownForeground': '#3b3b3b',
    '--vscode-settings-dropdownBorder': '#cecece',
    '--vscode-settings-dropdownListBorder': '#c8c8c8',
    '--vscode-settings-textInputBackground': '#ffffff',
    '--vscode-settings-textInputForeground': '#3b3b3b',
    '--vscode-settings-textInputBorder': '#cecece',
    '--vscode-list-focusOutline': '#005fb8',
    '--vscode-list-highlightForeground': '#0066bf',
    '--vscode-button-separator': 'rgba(255,255,255,0.4)',
    '--vscode-testing-iconPassed': '#388a34',
    '--vscode-symbolIcon-keywordForeground': '#0000ff',
    '--vscode-symbolIcon-functionForeground': '#795e26',
    '--vscode-symbolIcon-classForeground': '#267f99',
    '--vscode-symbolIcon-variableForeground': '#001080',
    '--vscode-debugTokenExpression-string': '#a31515',
    '--vscode-debugTokenExpression-number': '#098658',
  },
  dark: {
    '--vscode-editorWidget-border': '#454545',
    '--vscode-button-border': 'rgba(255,255,255,0.07)',
    '--vscode-input-border': '#3c3c3c',
    '--vscode-inputOption-activeBackground': 'rgba(36,137,219,0.51)',
    '--vscode-inputOption-activeBorder': '#2488db',
    '--vscode-inputValidation-errorBackground': '#5a1d1d',
    '--vscode-inputValidation-errorBorder': '#be1100',
    '--vscode-inputValidation-infoBackground': '#063b49',
    '--vscode-inputValidation-infoBorder': '#007acc',
    '--vscode-settings-dropdownBackground': '#3c3c3c',
    '--vscode-settings-dropdownForeground': '#cccccc',
    '--vscode-settings-dropdownBorder': '#3c3c3c',
    '--vscode-settings-dropdownListBorder': '#454545',
    '--vscode-settings-textInputBackground': '#3c3c3c',
    '--vscode-settings-textInputForeground': '#cccccc',
    '--vscode-settings-textInputBorder': '#3c3c3c',
    '--vscode-list-focusOutline': '#0078d4',
    '--vscode-list-highlightForeground': '#2aaaff',
    '--vscode-button-separator': 'rgba(255,255,255,0.4)',
    '--vscode-testing-iconPassed': '#73c991',
    '--vscode-symbolIcon-keywordForeground': '#569cd6',
    '--vscode-symbolIcon-functionForeground': '#dcdcaa',
    '--vscode-symbolIcon-classForeground': '#4ec9b0',
    '--vscode-symbolIcon-variableForeground': '#9cdcfe',
    '--vscode-debugTokenExpression-string': '#ce9178',
    '--vscode-debugTokenExpression-number': '#b5cea8',
  },
};

export function themeVariables(theme: ThemeName): Record<string, string> {
  return { ...BASE_THEMES[theme].variables, ...EXTRA_VARS[theme] };
}



export interface AnnotatorPage {
  page: Page;
  /** Messages the webview posted, in order (structured clones). */
  messages(): Promise<AnnotatorWebviewToHost[]>;
  clearMessages(): Promise<void>;
  /** Waits until the webview has posted a message matching `type`, and returns the latest such. */
  waitForMessage<T extends AnnotatorWebviewToHost['type']>(type: T, count?: number): Promise<Extract<AnnotatorWebviewToHost, { type: T }>>;
  /** Delivers a host → webview message the way VS Code does (a window `message` event), then lets it render. */
  fromHost(message: AnnotatorHostToWebview): Promise<void>;
  /** CSP violations reported by the page so far. */
  cspViolations(): Promise<string[]>;
  /** State last saved with setState. */
  savedState(): Promise<AnnotatorWebviewState | undefined>;
  /** Reloads the page as VS Code recreates a hidden webview: same saved state, fresh page. */
  recreate(): Promise<void>;
  close(): Promise<void>;
}

let browserPromise: Promise<Browser> | undefined;

/** One Chromium per test process (closed by closeBrowser). */
function browser(): Promise<Browser> {
  browserPromise ??= chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return browserPromise;
}

export async function closeBrowser(): Promise<void> {
  if (browserPromise) await (await browserPromise).close();
  browserPromise = undefined;
}

function pageHtml(theme: ThemeName, state: AnnotatorWebviewState | undefined): string {
  const nonce = 'dGVzdC1ub25jZQ' + Math.floor(Math.random() * 1e9);
  const t = BASE_THEMES[theme];
  const vars = Object.entries(themeVariables(theme))
    .map(([k, v]) => `${k}: ${v};`)
    .join('\n');
  return `<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'nonce-${nonce}'; style-src ${ORIGIN} 'nonce-${nonce}'; img-src ${ORIGIN} data:; font-src ${ORIGIN};">
<style nonce="${nonce}">html { ${vars} }</style>
<link rel="stylesheet" href="${ORIGIN}/annotator.css" nonce="${nonce}">
<script nonce="${nonce}">
  window.__posted = [];
  window.__csp = [];
  document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
  let state = ${JSON.stringify(state ?? null)};
  window.__state = () => state;
  window.acquireVsCodeApi = () => ({
    postMessage: (m) => window.__posted.push(JSON.parse(JSON.stringify(m))),
    getState: () => state,
    setState: (s) => { state = JSON.parse(JSON.stringify(s)); },
  });
</script>
</head><body class="${t.bodyClass}"><div id="app"></div>
<script nonce="${nonce}" src="${ORIGIN}/annotator.js"></script></body></html>`;
}

/** The browser globals used inside page.evaluate (this file compiles without the DOM lib). */
type BrowserGlobals = { postMessage(m: unknown, target: string): void; requestAnimationFrame(cb: () => void): number };
type W = { __posted: AnnotatorWebviewToHost[]; __csp: string[]; __state: () => AnnotatorWebviewState | null };

/** Opens the annotator page; resolves once the webview has posted `ready`. */
export async function openAnnotatorPage(opts: { theme?: ThemeName; state?: AnnotatorWebviewState; width?: number; height?: number } = {}): Promise<AnnotatorPage> {
  const js = join(root, 'dist/webview/annotator.js');
  if (!existsSync(js)) execFileSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'ignore' });
  const context = await (await browser()).newContext({ viewport: { width: opts.width ?? 1100, height: opts.height ?? 720 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  let state = opts.state;
  await page.route(`${ORIGIN}/**`, async (route) => {
    const url = new URL(route.request().url());
    if (url.pathname === '/') return route.fulfill({ contentType: 'text/html', body: pageHtml(opts.theme ?? 'dark', state) });
    const file = join(root, 'dist/webview', url.pathname.slice(1));
    if (!existsSync(file)) return route.fulfill({ status: 404, body: '' });
    return route.fulfill({ contentType: file.endsWith('.css') ? 'text/css' : 'text/javascript', body: readFileSync(file) });
  });
  const load = async () => {
    await page.goto(`${ORIGIN}/`);
    await page.waitForFunction(() => (globalThis as unknown as W).__posted.some((m) => m.type === 'ready'));
  };
  await load();
  const api: AnnotatorPage = {
    page,
    messages: () => page.evaluate(() => (globalThis as unknown as W).__posted),
    clearMessages: () => page.evaluate(() => void ((globalThis as unknown as W).__posted.length = 0)),
    async waitForMessage(type, count = 1) {
      await page.waitForFunction(([t, n]) => (globalThis as unknown as W).__posted.filter((m) => m.type === t).length >= n, [type, count] as const, { timeout: 5000 });
      const all = await api.messages();
      return all.filter((m) => m.type === type).pop() as never;
    },
    async fromHost(message) {
      await page.evaluate((m) => (globalThis as unknown as BrowserGlobals).postMessage(m, '*'), message);
      await page.evaluate(() => {
        const g = globalThis as unknown as BrowserGlobals;
        return new Promise((r) => g.requestAnimationFrame(() => g.requestAnimationFrame(() => r(null))));
      });
    },
    cspViolations: () => page.evaluate(() => (globalThis as unknown as W).__csp),
    savedState: async () => (await page.evaluate(() => (globalThis as unknown as W).__state())) ?? undefined,
    async recreate() {
      state = await api.savedState();
      await load();
    },
    async close() {
      await context.close();
      if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
    },
  };
  return api;
}
