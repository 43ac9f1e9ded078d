/**
 * Component-test harness for the webview bundles: opens a built bundle (dist/webview/NAME.js + NAME.css)
 * in headless Debian Chromium (playwright-core) inside a page shaped like a VS Code webview — strict CSP
 * with a script nonce, `--vscode-*` theme variables and body classes (see ./themes.ts), and an
 * `acquireVsCodeApi()` double that records posted messages and persisted state. Host → webview messages
 * are delivered with window.postMessage, as VS Code does. Assets are served from a fake origin through
 * request routing, so relative URLs in the bundle (fonts, images) resolve to files under dist/webview/.
 */
// (Browser tests pass callbacks to page.evaluate that run in the page: test/tsconfig.json gives
// them the DOM's types.)
import { chromium, type Browser, type Page } from 'playwright-core';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { THEMES, type ThemeKind } from './themes';

export { THEMES, type ThemeKind } from './themes';

const root = resolve(import.meta.dirname, '..', '..');
const distWebview = join(root, 'dist', 'webview');

/** Origin the page is served from; requests never reach the network (all are routed). */
export const WEBVIEW_ORIGIN = 'http://localhost:7357';

/** Chromium flags for these machines (no sandbox as root, no GPU, no background traffic). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const CHROMIUM_PATH = process.env.DAP_CHROMIUM ?? '/usr/bin/chromium';

/** Launches headless Debian Chromium. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} not found: run \`bash scripts/setup-browser.sh\` (installs Debian's chromium)`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

/** Options for {@link openWebview}. */
export interface WebviewOptions {
  /** Theme variables and body class to start with (default 'dark'). */
  theme?: ThemeKind;
  /** What the double's getState() returns at load, as after a webview restore (default undefined). */
  state?: unknown;
  /** Viewport size in CSS pixels (default 1000 × 700). */
  viewport?: { width: number; height: number };
  /** Apply a VS Code-like Content-Security-Policy with a script nonce (default true). */
  csp?: boolean;
  /** Browser to open the page in; by default a new one is launched and closed with the page. */
  browser?: Browser;
  /** Make close() throw when the page had uncaught errors or console errors (default true). */
  failOnErrors?: boolean;
  /** Folder holding NAME.js / NAME.css and their assets (default dist/webview, built when stale). */
  dir?: string;
}

/** An open webview page; `ToHost` / `FromHost` are the webview's message unions. */
export interface WebviewPage<ToHost = unknown, FromHost = unknown> {
  page: Page;
  browser: Browser;
  /** Every message the webview posted with acquireVsCodeApi().postMessage, in order (structured clones). */
  messages(): Promise<ToHost[]>;
  /** Forgets the recorded messages. */
  clearMessages(): Promise<void>;
  /** Waits until a posted message satisfies `match` (checks already-recorded ones first) and returns it. */
  waitForMessage(match: (m: ToHost) => boolean, timeoutMs?: number): Promise<ToHost>;
  /** Delivers a host → webview message (a window `message` event), then waits one animation frame. */
  fromHost(message: FromHost): Promise<void>;
  /** The last state passed to setState (undefined if never called). */
  state(): Promise<unknown>;
  /** Switches theme variables and body class at run time, as VS Code does on a theme change. */
  setTheme(theme: ThemeKind): Promise<void>;
  /** Saves a PNG (creating folders); returns its bytes. */
  screenshot(path: string, options?: { fullPage?: boolean }): Promise<Buffer>;
  /** Uncaught page errors and console errors seen so far (CSP violations show up here). */
  errors(): string[];
  /** Closes the page (and the browser if the harness launched it); throws on page errors unless disabled. */
  close(): Promise<void>;
}

const contentTypes: Record<string, string> = {
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.html': 'text/html',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ttf': 'font/ttf',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
};

function newestMtime(dir: string): number {
  let newest = 0;
  if (!existsSync(dir)) return newest;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds the bundles when NAME.js is missing or older than its sources (webview/NAME, webview/shared). */
export function ensureWebviewBuilt(name: string): void {
  const js = join(distWebview, `${name}.js`);
  const sourcesChanged = Math.max(
    newestMtime(join(root, 'webview', name)),
    newestMtime(join(root, 'webview', 'shared')),
    existsSync(join(root, 'webview', 'protocol.ts')) ? statSync(join(root, 'webview', 'protocol.ts')).mtimeMs : 0,
  );
  if (!existsSync(js) || statSync(js).mtimeMs < sourcesChanged) {
    execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
  }
  if (!existsSync(js)) throw new Error(`dist/webview/${name}.js was not built (is webview/${name}/main.ts there?)`);
}

/** The page VS Code would give the webview: CSP, theme, the API double, the bundle's CSS and JS. */
function webviewHtml(dir: string, name: string, theme: ThemeKind, state: unknown, csp: boolean, nonce: string): string {
  const t = THEMES[theme];
  const style = Object.entries(t.variables).map(([k, v]) => `${k}: ${v};`).join(' ');
  const policy = `default-src 'none'; img-src ${WEBVIEW_ORIGIN} data: blob:; font-src ${WEBVIEW_ORIGIN} data:; ` +
    `style-src ${WEBVIEW_ORIGIN} 'unsafe-inline'; script-src 'nonce-${nonce}' 'wasm-unsafe-eval'; connect-src ${WEBVIEW_ORIGIN};`;
  const hasCss = existsSync(join(dir, `${name}.css`));
  // The double follows VS Code's contract: acquireVsCodeApi() may be called once per page; messages
  // and state are structured-cloned.
  const apiDouble = `
    (() => {
      const test = { posted: [], state: ${JSON.stringify(state ?? null)}, acquired: false };
      if (test.state === null) test.state = undefined;
      window.__dapTest = test;
      window.acquireVsCodeApi = () => {
        if (test.acquired) throw new Error('An instance of the VS Code API has already been acquired');
        test.acquired = true;
        return Object.freeze({
          postMessage: (m) => { test.posted.push(structuredClone(m)); },
          getState: () => test.state,
          setState: (s) => { test.state = structuredClone(s); return s; },
        });
      };
    })();`;
  return `<!DOCTYPE html>
<html lang="en" style="${style.replace(/"/g, '&quot;')}">
<head>
<meta charset="UTF-8">
${csp ? `<meta http-equiv="Content-Security-Policy" content="${policy}">` : ''}
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${hasCss ? `<link rel="stylesheet" href="${WEBVIEW_ORIGIN}/${name}.css">` : ''}
<title>${name} (component test)</title>
</head>
<body class="${t.bodyClass}" data-vscode-theme-kind="${t.bodyClass}" data-vscode-theme-name="${t.name}">
<div id="app"></div>
<script nonce="${nonce}">${apiDouble}</script>
<script nonce="${nonce}" src="${WEBVIEW_ORIGIN}/${name}.js"></script>
</body>
</html>`;
}

/**
 * Opens dist/webview/NAME.js (+ NAME.css) as a webview page. Resolves once the bundle has run
 * (DOMContentLoaded); wait for the webview's first message with waitForMessage if it posts one.
 */
export async function openWebview<ToHost = unknown, FromHost = unknown>(
  name: string,
  options: WebviewOptions = {},
): Promise<WebviewPage<ToHost, FromHost>> {
  const dir = options.dir ? resolve(options.dir) : distWebview;
  if (!options.dir) ensureWebviewBuilt(name);
  const ownBrowser = !options.browser;
  const browser = options.browser ?? (await launchChromium());
  const page = await browser.newPage({ viewport: options.viewport ?? { width: 1000, height: 700 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console.error: ${m.text()}`);
  });
  const nonce = randomBytes(16).toString('base64');
  const html = webviewHtml(dir, name, options.theme ?? 'dark', options.state, options.csp ?? true, nonce);
  await page.route('**/*', async (route) => {
    const url = new URL(route.request().url());
    if (url.origin !== WEBVIEW_ORIGIN) return route.abort('blockedbyclient');
    if (url.pathname === '/' || url.pathname === '/index.html') {
      return route.fulfill({ status: 200, contentType: 'text/html', body: html });
    }
    const file = resolve(dir, decodeURIComponent(url.pathname.slice(1)));
    if (!file.startsWith(dir + sep) || !existsSync(file) || !statSync(file).isFile()) {
      return route.fulfill({ status: 404, body: 'not found' });
    }
    return route.fulfill({
      status: 200,
      contentType: contentTypes[extname(file)] ?? 'application/octet-stream',
      body: readFileSync(file),
    });
  });
  await page.goto(`${WEBVIEW_ORIGIN}/index.html`, { waitUntil: 'domcontentloaded' });

  type TestGlobals = { __dapTest: { posted: unknown[]; state: unknown } };
  const messages = () => page.evaluate(() => (window as unknown as TestGlobals).__dapTest.posted) as Promise<ToHost[]>;
  return {
    page,
    browser,
    messages,
    clearMessages: () => page.evaluate(() => void ((window as unknown as TestGlobals).__dapTest.posted.length = 0)),
    async waitForMessage(match, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = (await messages()).find(match);
        if (found !== undefined) return found;
        if (Date.now() > deadline) {
          throw new Error(`no matching message within ${timeoutMs} ms; posted: ${JSON.stringify(await messages())}`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async fromHost(message) {
      await page.evaluate((m) => window.postMessage(m, '*'), message as unknown);
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(null))));
    },
    state: () => page.evaluate(() => (window as unknown as TestGlobals).__dapTest.state),
    async setTheme(theme) {
      const t = THEMES[theme];
      await page.evaluate(({ variables, bodyClass, name: themeName }) => {
        const html = document.documentElement;
        html.removeAttribute('style');
        for (const [k, v] of Object.entries(variables)) html.style.setProperty(k, v);
        document.body.classList.remove('vscode-light', 'vscode-dark', 'vscode-high-contrast');
        document.body.classList.add(bodyClass);
        document.body.dataset.vscodeThemeKind = bodyClass;
        document.body.dataset.vscodeThemeName = themeName;
      }, t);
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(null))));
    },
    async screenshot(path, opts = {}) {
      mkdirSync(dirname(resolve(path)), { recursive: true });
      return page.screenshot({ path, fullPage: opts.fullPage ?? false });
    },
    errors: () => [...errors],
    async close() {
      await page.close();
      if (ownBrowser) await browser.close();
      if ((options.failOnErrors ?? true) && errors.length) throw new Error(`webview ${name} had errors:\n${errors.join('\n')}`);
    },
  };
}
