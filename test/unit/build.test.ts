/**
 * scripts/build.mjs refuses to build when an entry point it names is missing (a moved or deleted source
 * must be named there, not skipped): run on a copy of the repository's scripts/ with no sources, it exits
 * non-zero, names every missing entry and writes no bundle.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './train-fixtures';

test('the build fails, naming them, when entry points are missing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dap-build-'));
  mkdirSync(join(dir, 'scripts'));
  copyFileSync(join(repoRoot, 'scripts', 'build.mjs'), join(dir, 'scripts', 'build.mjs'));
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
  const r = spawnSync(process.execPath, [join(dir, 'scripts', 'build.mjs')], { cwd: dir, encoding: 'utf8' });
  assert.notEqual(r.status, 0, r.stdout);
  for (const entry of ['src/extension.ts', 'src/cli/main.ts', 'src/train/worker/main.ts', 'webview/annotator/main.ts', 'webview/loss/main.ts', 'webview/review/main.ts']) {
    assert.ok(r.stderr.includes(entry), `${entry} named in: ${r.stderr}`);
  }
  assert.equal(existsSync(join(dir, 'dist')), false, 'nothing was written');
});
