/**
 * Build hygiene: scripts/build.mjs refuses to build when an entry point it names is missing (a moved or
 * deleted source must be named there, not skipped): run on a copy of the repository's scripts/ with no
 * sources, it exits non-zero, names every missing entry and writes no bundle. The optional Vulkan set-up
 * (run by `npm test`) skips with a clear line, exit 0, where it cannot install (not root, no sudo).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './train-fixtures';

test('the build fails, naming them, when entry points are missing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dap-build-'));
  mkdirSync(join(dir, 'scripts'));
  for (const f of ['build.mjs', 'layers.mjs']) copyFileSync(join(repoRoot, 'scripts', f), join(dir, 'scripts', f));
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
  const r = spawnSync(process.execPath, [join(dir, 'scripts', 'build.mjs')], { cwd: dir, encoding: 'utf8' });
  assert.notEqual(r.status, 0, r.stdout);
  for (const entry of ['src/extension.ts', 'src/cli/main.ts', 'src/train/worker/main.ts', 'webview/annotator/main.ts', 'webview/loss/main.ts', 'webview/review/main.ts']) {
    assert.ok(r.stderr.includes(entry), `${entry} named in: ${r.stderr}`);
  }
  assert.equal(existsSync(join(dir, 'dist')), false, 'nothing was written');
});

test('the Vulkan set-up skips with a clear line, exit 0, when it cannot install (not root, no sudo)', () => {
  // A machine without lavapipe where this user is not root and has no sudo: fake dpkg-query, id and sudo.
  const bin = mkdtempSync(join(tmpdir(), 'dap-nonroot-'));
  const tool = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  tool('dpkg-query', 'exit 1');
  tool('dpkg', 'exit 1');
  tool('id', 'echo 1000');
  tool('sudo', 'exit 1');
  tool('apt-get', 'echo "apt-get must not run" >&2; exit 99');
  const r = spawnSync('bash', [join(repoRoot, 'scripts', 'setup-vulkan.sh')], { encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^setup-vulkan: skipped: .*needs root or sudo/m);
  assert.doesNotMatch(r.stderr, /apt-get must not run/);
});
