/**
 * Tests of the webview component harness itself (test/browser/harness.ts) in real headless Chromium,
 * with a tiny hand-written bundle in a temp folder: the acquireVsCodeApi double (messages, state, single
 * acquisition), host → webview delivery, theme variables and switching, the CSP, assets, screenshots.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium, openWebview, THEMES } from './harness';

const dir = mkdtempSync(join(tmpdir(), 'dap-harness-'));
// A stand-in bundle: posts 'ready' with the restored state, echoes host messages back doubled,
// persists what it receives, and tries an inline script (which the CSP must block).
writeFileSync(join(dir, 'echo.js'), `
  const api = acquireVsCodeApi();
  let second = 'none';
  try { acquireVsCodeApi(); second = 'allowed'; } catch (e) { second = e.message; }
  api.postMessage({ type: 'ready', restored: api.getState() ?? null, second });
  window.addEventListener('message', (e) => {
    api.postMessage({ type: 'echo', value: e.data.value * 2 });
    api.setState({ last: e.data.value });
  });
  const s = document.createElement('script');
  s.textContent = 'window.__inlineRan = true';
  document.body.appendChild(s);
  const img = document.createElement('img');
  img.src = 'dot.svg';
  img.id = 'dot';
  document.getElementById('app').appendChild(img);
`);
writeFileSync(join(dir, 'echo.css'), '#app { color: var(--vscode-foreground); }');
writeFileSync(join(dir, 'dot.svg'), '<svg xmlns="http://www.w3.org/2000/svg" width="7" height="5"></svg>');

type ToHost = { type: string; restored?: unknown; second?: string; value?: number };

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('records posted messages, restores state and allows one acquireVsCodeApi()', async () => {
  const wv = await openWebview<ToHost, { value: number }>('echo', { dir, browser, state: { last: 7 }, failOnErrors: false });
  const ready = await wv.waitForMessage((m) => m.type === 'ready');
  assert.deepEqual(ready, { type: 'ready', restored: { last: 7 }, second: 'An instance of the VS Code API has already been acquired' });
  await wv.fromHost({ value: 21 });
  await wv.waitForMessage((m) => m.type === 'echo');
  assert.deepEqual(await wv.messages(), [ready, { type: 'echo', value: 42 }]);
  assert.deepEqual(await wv.state(), { last: 21 });
  await wv.clearMessages();
  assert.deepEqual(await wv.messages(), []);
  await assert.rejects(wv.waitForMessage((m) => m.type === 'never', 100), /no matching message/);
  await wv.close();
});

test('CSP blocks inline scripts without the nonce and reports it; assets load from the bundle folder', async () => {
  const wv = await openWebview<ToHost>('echo', { dir, browser });
  await wv.waitForMessage((m) => m.type === 'ready');
  assert.equal(await wv.page.evaluate(() => (window as unknown as { __inlineRan?: boolean }).__inlineRan), undefined);
  await wv.page.waitForFunction(() => (document.getElementById('dot') as HTMLImageElement).complete);
  assert.equal(await wv.page.evaluate(() => (document.getElementById('dot') as HTMLImageElement).naturalWidth), 7);
  assert.ok(wv.errors().some((e) => /Content Security Policy/i.test(e)), `errors: ${wv.errors().join('\n')}`);
  await assert.rejects(wv.close(), /had errors/);
});

test('sets theme variables and body class, and switches theme at run time', async () => {
  const wv = await openWebview<ToHost>('echo', { dir, browser, theme: 'light', csp: false });
  await wv.waitForMessage((m) => m.type === 'ready');
  const look = () =>
    wv.page.evaluate(() => ({
      cls: document.body.className,
      bg: getComputedStyle(document.documentElement).getPropertyValue('--vscode-editor-background').trim(),
      color: getComputedStyle(document.getElementById('app')!).color,
    }));
  assert.deepEqual(await look(), { cls: 'vscode-light', bg: THEMES.light.variables['--vscode-editor-background'], color: 'rgb(97, 97, 97)' });
  await wv.setTheme('dark');
  assert.deepEqual(await look(), { cls: 'vscode-dark', bg: THEMES.dark.variables['--vscode-editor-background'], color: 'rgb(204, 204, 204)' });
  const png = join(dir, 'shots', 'echo.png');
  const bytes = await wv.screenshot(png);
  assert.deepEqual([...bytes.subarray(1, 4)].map((b) => String.fromCharCode(b)).join(''), 'PNG');
  assert.deepEqual(readFileSync(png), bytes);
  await wv.close(); // csp off: the inline script ran without errors
});
