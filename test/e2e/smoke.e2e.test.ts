/**
 * Smoke test in a real VS Code (code-server): the extension installed from this repository activates —
 * its annotate command is in the command palette under the title its manifest gives, and running it with
 * no file open gets as far as the extension's own "Annotate" open dialog — with no activation error in
 * the extension host's log.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, startVsCode, type VsCodeSession } from './harness';

interface ManifestCommand {
  command: string;
  title: string;
  category?: string;
}
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { contributes: { commands: ManifestCommand[] } };
const annotate = manifest.contributes.commands.find((c) => c.command === 'dapStudio.annotate');
const annotateTitle = annotate && (annotate.category ? `${annotate.category}: ${annotate.title}` : annotate.title);

const folder = mkdtempSync(join(tmpdir(), 'dap-e2e-smoke-'));
let vscode: VsCodeSession | undefined;

before(async () => {
  vscode = await startVsCode({ folder });
});
after(async () => {
  await vscode?.close();
  rmSync(folder, { recursive: true, force: true });
});

test('the annotate command is in the palette and runs in the activated extension', { timeout: 120_000 }, async () => {
  assert.ok(annotateTitle, 'package.json contributes the dapStudio.annotate command');
  const vs = vscode!;
  // Finds the entry (waiting for the extension host to register it) and runs it.
  await vs.runCommand(annotateTitle);
  // No task file is open, so the command's handler asks for one with its own dialog.
  const openButton = vs.page.locator('.quick-input-widget .monaco-button', { hasText: 'Annotate' });
  await openButton.waitFor({ state: 'visible', timeout: 30_000 });
  await vs.page.keyboard.press('Escape');
  const log = vs.extensionHostLog();
  assert.doesNotMatch(log, /Activating extension 'dap-studio\.dap-studio' failed/);
  assert.doesNotMatch(log, /\[error\][^\n]*dap-studio/i);
});
