/**
 * End-to-end, in a real VS Code (code-server): the annotation log lives on a small tmpfs
 * (`dapStudio.annotationLogPath`) that is full. A judgment by keyboard is not saved: the annotator says so
 * (status "not saved", Retry button, the item stays), VS Code shows an error notification, nothing is in
 * the log; once space is freed, Retry saves the same judgment and the annotator moves on. Skipped with the
 * reason where a tmpfs cannot be mounted.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mountSmallDisk, type SmallDisk } from '../unit/small-disk';
import { ROOT, startVsCode, type VsCodeSession } from './harness';

const folder = mkdtempSync(join(tmpdir(), 'dap-e2e-full-'));
const taskFile = join(folder, 'arith.tasks.jsonl');
copyFileSync(join(ROOT, 'media/samples/arith.tasks.jsonl'), taskFile);
const items = readFileSync(taskFile, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as { id: string });
const mounted = mountSmallDisk(256);
const disk: SmallDisk | undefined = 'skip' in mounted ? undefined : mounted;
const logFile = disk ? join(disk.dir, 'arith.annotations.jsonl') : '';
const root = '[data-testid="annotator-root"]';

let vscode: VsCodeSession | undefined;
before(async () => {
  if (!disk) return;
  vscode = await startVsCode({ folder, settings: { 'dapStudio.annotator': 'e2e-full', 'dapStudio.annotationLogPath': join(disk.dir, '${name}.annotations.jsonl') } });
});
after(async () => {
  await vscode?.close();
  disk?.unmount();
  rmSync(folder, { recursive: true, force: true });
});

test('a full disk: the judgment is "not saved" in the annotator and a notification, and Retry saves it once there is room', { timeout: 300_000 }, async (t) => {
  if (!disk || !vscode) return t.skip('skip' in mounted ? mounted.skip : 'no session');
  const vs = vscode;
  try {
    await vs.runCommand('DAP: Annotate Preferences');
    await vs.page.locator('.quick-input-widget .monaco-button', { hasText: 'Annotate' }).waitFor({ state: 'visible', timeout: 30_000 });
    await vs.enterPathInFileDialog(taskFile);
    const frame = await vs.webviewFrame(root, 60_000);
    await frame.waitForSelector(`${root}[data-item-id="${items[0].id}"]`, { timeout: 30_000 });
    disk.fill();
    await vs.pressInWebview(frame, ['1'], '[data-testid="prompt"]');
    await frame.waitForSelector('[data-testid="save-status"][data-state="error"]', { timeout: 30_000 });
    assert.match((await frame.textContent('[data-testid="save-status"]')) ?? '', /not saved .*the disk is full \(ENOSPC\)/);
    assert.match(await vs.waitForNotification(/judgment NOT saved/), /the disk is full \(ENOSPC\).*Retry/);
    assert.equal(await frame.getAttribute(root, 'data-item-id'), items[0].id, 'the item stays on screen');
    assert.ok(!existsSync(logFile) || readFileSync(logFile, 'utf8') === '', 'nothing in the log');

    disk.free();
    await frame.click('[data-testid="retry-save"]');
    await frame.waitForSelector(`${root}[data-item-id="${items[1].id}"]`, { timeout: 30_000 });
    const lines = readFileSync(logFile, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(lines.map((e) => [e.item, e.kind, e.choice, e.annotator]), [[items[0].id, 'pair', 'a', 'e2e-full']]);
    assert.equal(await frame.locator('[data-testid="retry-save"]').count(), 0);
  } catch (e) {
    const dir = await vs.saveArtifacts('disk-full');
    throw new Error(`${(e as Error).message}\n(screenshot and logs in ${dir})`, { cause: e });
  }
});
