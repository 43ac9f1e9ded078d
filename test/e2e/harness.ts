/**
 * End-to-end harness: runs a real VS Code (code-server 4.100.3 = VS Code 1.100.3, installed by
 * scripts/setup-code-server.sh into .vscode-test/code-server/) on a free loopback port with a fresh
 * user-data folder and this repository installed as the extension `dap-studio.dap-studio-0.1.0`, then
 * drives it with headless Debian Chromium through playwright-core. Helpers run commands through the
 * command palette, find webview frames (nested iframes), press keys inside them, reload the window, read
 * notifications, answer modal dialogs, find a test folder's processes, and collect the page's console
 * errors. The server runs in its own process group, killed by close() and at process exit.
 */
import { chromium, type Browser, type Frame, type Page } from 'playwright-core';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../browser/harness';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const CODE_SERVER_ENTRY = join(ROOT, '.vscode-test/code-server/node_modules/code-server/out/node/entry.js');
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { publisher: string; name: string; version: string };
/** Folder name VS Code gives an installed extension: publisher.name-version. */
export const EXTENSION_FOLDER = `${manifest.publisher}.${manifest.name}-${manifest.version}`;

/** Options for {@link startVsCode}. */
export interface VsCodeOptions {
  /** Workspace folder to open (must exist). */
  folder: string;
  /** Extra user settings merged over the harness defaults (trust off, no startup editor, ...). */
  settings?: Record<string, unknown>;
  /** Install this repository as an extension (default true). */
  installExtension?: boolean;
  /** Browser viewport (default 1400 × 900). */
  viewport?: { width: number; height: number };
  /** Milliseconds to wait for the server and the workbench to come up (default 90 000). */
  startTimeoutMs?: number;
}

/** A running code-server with a browser page on its workbench. */
export interface VsCodeSession {
  page: Page;
  browser: Browser;
  port: number;
  folder: string;
  /** The fresh user-data folder (User/settings.json, logs/). */
  userDataDir: string;
  extensionsDir: string;
  /** Opens the command palette (F1), types `title` and runs the entry labelled `title` (Enter); reopens
   * the palette until that entry shows up (extension commands appear once the extension host is up). */
  runCommand(title: string, timeoutMs?: number): Promise<void>;
  /** Labels of the palette entries matching `filter` (palette closed again afterwards). */
  paletteEntries(filter: string, timeoutMs?: number): Promise<string[]>;
  /** The first webview frame (any nesting depth) containing `selector`. */
  webviewFrame(selector: string, timeoutMs?: number): Promise<Frame>;
  /** Types `path` into VS Code's simple file dialog (already shown) and accepts it. The dialog fills its
   * input with the folder asynchronously after it shows, which can overwrite a path typed too early: types
   * until the value sticks, and presses Enter until the dialog closes. */
  enterPathInFileDialog(path: string): Promise<void>;
  /** Clicks near the top-left corner of `selector` (default body) inside `frame` to move focus there,
   * then presses each key in order (playwright key names, e.g. '1', 'Enter', 'Alt+ArrowUp'). */
  pressInWebview(frame: Frame, keys: string[], selector?: string): Promise<void>;
  /** Runs "Developer: Reload Window" and waits until the reloaded workbench is up again (the extension
   * host restarts; webviews come back through their serializers / custom editor providers). */
  reloadWindow(timeoutMs?: number): Promise<void>;
  /** Waits for a notification toast whose text matches `text` and returns its full text. */
  waitForNotification(text: RegExp, timeoutMs?: number): Promise<string>;
  /** Waits for a modal dialog (e.g. a `showWarningMessage(..., { modal: true })`), clicks the button
   * labelled `button` and returns the dialog's message text. */
  answerDialog(button: string | RegExp, timeoutMs?: number): Promise<string>;
  /** Console errors and uncaught errors of the page and its frames, so far. */
  consoleErrors(): string[];
  /** code-server's stdout/stderr so far. */
  serverOutput(): string;
  /** Text of the extension host's log files (where extension activation errors go). */
  extensionHostLog(): string;
  /** Saves a screenshot, the extension host log, the server output, console errors, failed requests and
   * each frame's body under .vscode-test/artifacts/NAME/ (git-ignored) for a failing test; returns that
   * folder. */
  saveArtifacts(name: string): Promise<string>;
  /** Closes the browser, kills the server's process group and removes the temp folders. */
  close(): Promise<void>;
}

/** Pids of the live processes whose working directory is `dir` or inside it and whose command line
 * contains `commandPart` (Linux /proc): e.g. the training workers of one test folder, whichever
 * process started them and whatever else runs on the machine. */
export function processesUnder(dir: string, commandPart: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ');
      if (!cmdline.includes(commandPart)) continue;
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (/^\d+ \(.*\) Z /.test(stat)) continue; // a zombie has exited
      const cwd = readlinkSync(`/proc/${name}/cwd`);
      if (cwd === dir || cwd.startsWith(`${dir}/`)) pids.push(Number(name));
    } catch {
      /* gone meanwhile, or not ours to read */
    }
  }
  return pids;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => ok(port));
    });
  });
}

const live = new Set<ChildProcess>();
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    /* already gone */
  }
}
process.on('exit', () => {
  for (const child of live) killGroup(child, 'SIGKILL');
});

async function waitHttpOk(url: string, deadline: number, child: ChildProcess, output: () => string): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`code-server exited with ${child.exitCode}:\n${output()}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`code-server did not answer ${url} in time:\n${output()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function readLogs(dir: string, match: RegExp): string {
  if (!existsSync(dir)) return '';
  let text = '';
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && match.test(entry.name)) {
      const path = join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name);
      text += `--- ${path}\n${readFileSync(path, 'utf8')}\n`;
    }
  }
  return text;
}

/** Starts code-server on `options.folder` and opens its workbench in Chromium. */
export async function startVsCode(options: VsCodeOptions): Promise<VsCodeSession> {
  if (!existsSync(CODE_SERVER_ENTRY)) {
    throw new Error(`code-server is not installed at ${CODE_SERVER_ENTRY}: run \`bash scripts/setup-code-server.sh\``);
  }
  const timeout = options.startTimeoutMs ?? 90_000;
  const deadline = Date.now() + timeout;
  const tmp = mkdtempSync(join(tmpdir(), 'dap-e2e-'));
  const userDataDir = join(tmp, 'user-data');
  const extensionsDir = join(tmp, 'extensions');
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  const settings = {
    'security.workspace.trust.enabled': false,
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'telemetry.telemetryLevel': 'off',
    'extensions.autoUpdate': false,
    'extensions.autoCheckUpdates': false,
    'extensions.ignoreRecommendations': true,
    'update.mode': 'none',
    'git.enabled': false,
    'dapStudio.annotator': 'e2e-tester',
    ...options.settings,
  };
  writeFileSync(join(userDataDir, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
  // An empty config file of its own, so code-server does not write ~/.config/code-server/config.yaml.
  const configFile = join(tmp, 'config.yaml');
  writeFileSync(configFile, '');
  // The repository itself is the installed extension (package.json + dist + media), via a symlink.
  if (options.installExtension ?? true) symlinkSync(ROOT, join(extensionsDir, EXTENSION_FOLDER), 'dir');

  const port = await freePort();
  const args = [
    CODE_SERVER_ENTRY,
    '--config', configFile,
    '--auth', 'none',
    '--bind-addr', `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    // Workspace Trust stays off unless the settings turn it on (a test of restricted mode).
    ...(settings['security.workspace.trust.enabled'] === true ? [] : ['--disable-workspace-trust']),
    '--user-data-dir', userDataDir,
    '--extensions-dir', extensionsDir,
    options.folder,
  ];
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DAP_E2E: '1' } });
  live.add(child);
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));

  let browser: Browser | undefined;
  const errors: string[] = [];
  const failedRequests: string[] = [];
  const close = async () => {
    await browser?.close().catch(() => undefined);
    killGroup(child, 'SIGTERM');
    const exited = new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r)));
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    killGroup(child, 'SIGKILL');
    live.delete(child);
    rmSync(tmp, { recursive: true, force: true });
  };
  try {
    await waitHttpOk(`http://127.0.0.1:${port}/healthz`, deadline, child, () => output);
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: options.viewport ?? { width: 1400, height: 900 } });
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('requestfailed', (r) => failedRequests.push(`${r.failure()?.errorText ?? 'failed'} ${r.url()}`));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console.error: ${m.text()}`);
    });
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(options.folder)}`);
    await page.waitForSelector('.monaco-workbench', { timeout: Math.max(1000, deadline - Date.now()) });
    return session(page, browser, port, options.folder, userDataDir, extensionsDir, errors, failedRequests, () => output, close);
  } catch (e) {
    await close();
    throw e;
  }
}

function session(
  page: Page,
  browser: Browser,
  port: number,
  folder: string,
  userDataDir: string,
  extensionsDir: string,
  errors: string[],
  failedRequests: string[],
  output: () => string,
  close: () => Promise<void>,
): VsCodeSession {
  const input = page.locator('.quick-input-widget input');
  const extensionHostLog = () => readLogs(join(userDataDir, 'logs'), /exthost.*\.log$/i);
  const rows = page.locator('.quick-input-widget .quick-input-list .monaco-list-row');

  async function openPalette(filter: string, timeoutMs: number): Promise<void> {
    await page.locator('.monaco-workbench').click({ position: { x: 5, y: 5 }, force: true }).catch(() => undefined);
    await page.keyboard.press('F1');
    await input.waitFor({ state: 'visible', timeout: timeoutMs });
    await input.fill(`>${filter}`);
  }
  async function rowLabels(): Promise<string[]> {
    return rows.evaluateAll((els) => els.map((e) => (e.querySelector('.label-name')?.textContent ?? e.getAttribute('aria-label') ?? '').trim()));
  }

  return {
    page,
    browser,
    port,
    folder,
    userDataDir,
    extensionsDir,
    async runCommand(title, timeoutMs = 60_000) {
      // The palette's list is computed when it opens: commands contributed by an extension appear only
      // once the extension host has registered them, so reopen until the entry is there.
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        await openPalette(title, timeoutMs);
        await page.waitForTimeout(300);
        const labels = await rowLabels();
        const index = labels.indexOf(title);
        if (index >= 0) {
          for (let i = 0; i < index; i++) await input.press('ArrowDown');
          await input.press('Enter');
          return;
        }
        await page.keyboard.press('Escape');
        if (Date.now() > deadline) throw new Error(`command "${title}" not in the palette; entries: ${JSON.stringify(labels)}`);
        await page.waitForTimeout(500);
      }
    },
    async paletteEntries(filter, timeoutMs = 10_000) {
      await openPalette(filter, timeoutMs);
      await page.waitForTimeout(300); // let the list settle after filtering
      const labels = await rowLabels();
      await page.keyboard.press('Escape');
      return labels;
    },
    async enterPathInFileDialog(path) {
      const input = page.locator('.quick-input-widget input');
      for (let attempt = 0; attempt < 6; attempt++) {
        await input.fill(path);
        await page.waitForTimeout(500);
        if ((await input.inputValue()) !== path) continue;
        await input.press('Enter');
        await page.waitForTimeout(1000);
        if (!(await input.isVisible())) return;
      }
      throw new Error(`the file dialog did not accept ${path}`);
    },
    async webviewFrame(selector, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        for (const frame of page.frames()) {
          if (frame === page.mainFrame()) continue;
          const found = await frame.$(selector).catch(() => null);
          if (found) return frame;
        }
        if (Date.now() > deadline) throw new Error(`no webview frame contains ${selector} (frames: ${page.frames().map((f) => f.url()).join(', ')})`);
        await page.waitForTimeout(200);
      }
    },
    async pressInWebview(frame, keys, selector = 'body') {
      // A click moves keyboard focus into the (nested) webview iframe, as for a user.
      await frame.click(selector, { position: { x: 2, y: 2 } });
      for (const key of keys) await page.keyboard.press(key);
    },
    async reloadWindow(timeoutMs = 90_000) {
      const deadline = Date.now() + timeoutMs;
      await page.evaluate(() => ((window as unknown as { __dapBeforeReload: boolean }).__dapBeforeReload = true));
      await this.runCommand('Developer: Reload Window');
      // The old page's marker disappears with the reload; then the new workbench must be there.
      for (;;) {
        const reloaded = await page
          .evaluate(() => !(window as unknown as { __dapBeforeReload?: boolean }).__dapBeforeReload && !!document.querySelector('.monaco-workbench'))
          .catch(() => false); // the execution context is destroyed while the page navigates
        if (reloaded) return;
        if (Date.now() > deadline) throw new Error('the window did not reload in time');
        await page.waitForTimeout(250);
      }
    },
    async waitForNotification(text, timeoutMs = 30_000) {
      const toast = page.locator('.notifications-toasts .notification-list-item', { hasText: text }).first();
      await toast.waitFor({ state: 'visible', timeout: timeoutMs });
      return ((await toast.locator('.notification-list-item-message').textContent()) ?? '').trim();
    },
    async answerDialog(button, timeoutMs = 30_000) {
      const dialog = page.locator('.monaco-dialog-box');
      await dialog.waitFor({ state: 'visible', timeout: timeoutMs });
      const message = ((await dialog.locator('.dialog-message-container').innerText()) ?? '').trim();
      await dialog.locator('.dialog-buttons .monaco-button', { hasText: button }).first().click();
      await dialog.waitFor({ state: 'hidden', timeout: timeoutMs });
      return message;
    },
    consoleErrors: () => [...errors],
    serverOutput: output,
    extensionHostLog,
    async saveArtifacts(name) {
      const dir = join(ROOT, '.vscode-test', 'artifacts', name);
      mkdirSync(dir, { recursive: true });
      await page.screenshot({ path: join(dir, 'screenshot.png') }).catch(() => undefined);
      writeFileSync(join(dir, 'exthost.log'), extensionHostLog());
      writeFileSync(join(dir, 'server.log'), output());
      writeFileSync(join(dir, 'console-errors.txt'), errors.join('\n'));
      writeFileSync(join(dir, 'failed-requests.txt'), failedRequests.join('\n'));
      // Each frame's address and the start of its body: which webview is blank, and why.
      const frames: string[] = [];
      for (const frame of page.frames()) {
        const body = await frame.evaluate(() => document.body?.outerHTML.slice(0, 2000) ?? '(no body)').catch((e: Error) => `(unreadable: ${e.message})`);
        frames.push(`--- ${frame.url()}\n${body}`);
      }
      writeFileSync(join(dir, 'frames.txt'), frames.join('\n'));
      return dir;
    },
    close,
  };
}
