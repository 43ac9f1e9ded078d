/**
 * Whole-file writes killed midway (real SIGKILL of a child process): `dap export --out FILE` keeps the
 * previous good FILE byte for byte; a file rewritten by writeFileAtomicSync and a model folder rewritten
 * by saveModel are always one whole generation (the folder loads, every weight from the same save);
 * stale temporaries of killed writers are removed by the next write; a write refused by the file system
 * leaves the old file and no temporary; a folder moved aside by an interrupted replacement is put back.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildSync } from 'esbuild';
import { writeFileAtomicSync, writeFolderAtomic } from '../../src/core/atomicWrite';
import { initBackend } from '../../src/engine/backend';
import { loadPretrained } from '../../src/engine/checkpoint';

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'dap-atomic-'));
after(() => rmSync(dir, { recursive: true, force: true })); // ~100 MB of written files otherwise left in the temp folder
const external = ['@tensorflow/tfjs-node', 'webgpu'];
const cli = join(dir, 'cli.cjs');
buildSync({ entryPoints: [join(root, 'src/cli/main.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: cli, logLevel: 'error', external });
const writer = join(dir, 'atomicWriter.cjs');
const FILE_BYTES = 24 * 1024 * 1024;
buildSync({ entryPoints: [join(import.meta.dirname, 'fixtures/atomicWriter.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: writer, logLevel: 'error', external });

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Names in `folder` that are temporaries of `name` (`.NAME.tmp-…` / `.NAME.old-…`). */
function temporaries(folder: string, name: string): string[] {
  return readdirSync(folder).filter((n) => n.startsWith(`.${name}.`));
}

/** Waits until `child` prints `lines` lines, then SIGKILLs it `afterMs` later; resolves when it is gone. */
function killAfterLines(child: ChildProcess, lines: number, afterMs: number): Promise<number> {
  return new Promise((resolve) => {
    let seen = 0;
    child.stdout!.on('data', (b: Buffer) => {
      const before = seen;
      seen += b.toString().split('\n').length - 1;
      if (before < lines && seen >= lines) setTimeout(() => child.kill('SIGKILL'), afterMs);
    });
    child.on('close', () => resolve(seen));
  });
}

test('dap export --out FILE killed mid-write keeps the previous FILE whole', async () => {
  // A task file whose TRL export is ~24 MB, so the write takes long enough to be interrupted.
  const tasks = join(dir, 'big.tasks.jsonl');
  const log = join(dir, 'big.annotations.jsonl');
  const long = (tag: string, i: number) => `${tag} ${i} ` + 'lorem ipsum dolor sit amet '.repeat(150);
  writeFileSync(tasks, Array.from({ length: 3000 }, (_, i) => JSON.stringify({ id: `t${i}`, prompt: long('q', i), responses: [long('a', i), long('b', i)] })).join('\n') + '\n');
  writeFileSync(log, Array.from({ length: 3000 }, (_, i) => JSON.stringify({ v: 1, item: `t${i}`, annotator: 'al', kind: 'pair', shown: [0, 1], choice: 'a', ts: '2026-01-01T00:00:00Z' })).join('\n') + '\n');
  const out = join(dir, 'export.jsonl');
  // The whole new export, from an export that was not killed (the export is deterministic).
  const reference = join(dir, 'reference.jsonl');
  const ref = spawnSync(process.execPath, [cli, 'export', tasks, '--format', 'trl', '--out', reference], { encoding: 'utf8' });
  assert.equal(ref.status, 0, ref.stderr);
  const whole = readFileSync(reference);
  const good = 'the previous good export\n';
  writeFileSync(out, good);
  chmodSync(out, 0o640);
  let interrupted = 0;
  for (let attempt = 0; attempt < 12 && interrupted < 3; attempt++) {
    const child = spawn(process.execPath, [cli, 'export', tasks, '--format', 'trl', '--out', out], { stdio: ['ignore', 'ignore', 'pipe'] });
    // Kill as soon as the new content starts to reach the disk (the FILE or a temporary beside it grows).
    const size = () => [out, ...temporaries(dir, 'export.jsonl').map((n) => join(dir, n))].reduce((s, p) => s + (existsSync(p) ? statSync(p).size : 0), 0);
    const base = size();
    const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    let exited = false;
    child.on('exit', () => { exited = true; });
    for (const t0 = Date.now(); !exited && size() <= base + 1024 * 1024 && Date.now() - t0 < 30_000;) sleepSync(0.2);
    child.kill('SIGKILL');
    await closed;
    assert.equal(statSync(out).mode & 0o777, 0o640);
    const now = readFileSync(out);
    if (now.equals(Buffer.from(good))) {
      interrupted++; // killed before its rename: the previous file, byte for byte
      continue;
    }
    // It finished first, or the kill came after its rename (a loaded machine may let it run on): then FILE is the
    // new export, whole — never anything in between. Put the previous file back for the next attempt.
    assert.ok(now.equals(whole), `a killed export must leave the previous file byte for byte, or the whole new one (got ${now.length} bytes of ${whole.length})`);
    writeFileSync(out, good);
  }
  assert.ok(interrupted >= 3, `only ${interrupted} exports were killed mid-write`);
  // The next export removes the killed exports' temporaries and replaces FILE whole, keeping its mode.
  const done = spawnSync(process.execPath, [cli, 'export', tasks, '--format', 'trl', '--out', out], { encoding: 'utf8' });
  assert.equal(done.status, 0, done.stderr);
  assert.deepEqual(temporaries(dir, 'export.jsonl'), []);
  const rows = readFileSync(out, 'utf8').split('\n');
  assert.equal(rows.pop(), '');
  assert.equal(rows.length, 3000);
  assert.ok(readFileSync(out).equals(whole));
  assert.equal(statSync(out).mode & 0o777, 0o640);
});

/** Runs the writer in MODE on TARGET, SIGKILLing it at random moments; returns the generations acknowledged. */
async function killLoop(mode: string, target: string, kills: number): Promise<number> {
  let acked = 0;
  for (let k = 0; k < kills; k++) {
    const child = spawn(process.execPath, [writer, mode, target, String(FILE_BYTES)], { stdio: ['ignore', 'pipe', 'inherit'] });
    acked += await killAfterLines(child, 1, Math.random() * 40);
  }
  return acked;
}

test('writeFileAtomicSync killed at random moments: the file is always one whole generation', async () => {
  const target = join(dir, 'whole.bin');
  writeFileSync(target, Buffer.alloc(FILE_BYTES, 250));
  for (let k = 0; k < 8; k++) {
    await killLoop('file', target, 1);
    const bytes = readFileSync(target);
    assert.equal(bytes.length, FILE_BYTES);
    assert.ok(bytes.every((b) => b === bytes[0]), `kill ${k}: the file mixes two generations`);
  }
  writeFileAtomicSync(target, 'done');
  assert.deepEqual(temporaries(dir, 'whole.bin'), [], 'the temporaries of the killed writers are removed');
});

test('saveModel killed at random moments: the model folder always loads, every weight from one save', async () => {
  await initBackend('cpu');
  const target = join(dir, 'model');
  let acked = 0;
  for (let k = 0; k < 10; k++) {
    acked += await killLoop('model', target, 1);
    if (!existsSync(target)) continue; // killed before its first save finished: no folder, never a partial one
    const { model } = loadPretrained(target);
    try {
      const values = new Set<number>();
      for (const p of model.params.values()) for (const v of p.variable.dataSync()) values.add(v);
      assert.equal(values.size, 1, `kill ${k}: weights from ${values.size} different saves`);
    } finally {
      model.dispose();
    }
  }
  assert.ok(acked >= 10, `${acked} saves acknowledged`);
  // The next save puts back a folder moved aside by a kill between its two renames and removes the folders a
  // kill left half-removed after the second rename.
  const last = spawnSync(process.execPath, [writer, 'model-once', target], { encoding: 'utf8' });
  assert.equal(last.status, 0, last.stderr);
  assert.deepEqual(temporaries(dirname(target), 'model'), []);
  loadPretrained(target).model.dispose();
});

test('a folder write that fails midway leaves the old folder and no temporary; the error names the folder', async () => {
  const target = join(dir, 'adapter');
  await writeFolderAtomic(target, (tmp) => writeFileSync(join(tmp, 'a.txt'), 'old'));
  await assert.rejects(writeFolderAtomic(target, (tmp) => {
    writeFileSync(join(tmp, 'a.txt'), 'new');
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  }), (e: Error) => e.message === `${target}: not written: the disk is full (ENOSPC); free some space and try again`);
  assert.equal(readFileSync(join(target, 'a.txt'), 'utf8'), 'old');
  assert.deepEqual(readdirSync(target), ['a.txt']);
  assert.deepEqual(temporaries(dir, 'adapter'), []);
  // A replacement killed between its two renames left only the old folder, moved aside: the next write (even one
  // that fails) puts it back first.
  const moved = join(dir, 'sft-model');
  mkdirSync(join(dir, '.sft-model.old-4242-abcd'));
  writeFileSync(join(dir, '.sft-model.old-4242-abcd', 'config.json'), '{}');
  await assert.rejects(writeFolderAtomic(moved, () => { throw new Error('boom'); }), /sft-model: not written: boom/);
  assert.equal(readFileSync(join(moved, 'config.json'), 'utf8'), '{}');
  assert.deepEqual(temporaries(dir, 'sft-model'), []);
});
