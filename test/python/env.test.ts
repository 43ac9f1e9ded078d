/**
 * The environment probe and the memory estimate (issue 11 point 7) on real interpreters: the chroot's
 * Python reports torch / transformers / accelerate versions, the CPU with its memory and its torch build
 * (no libuv in Debian's); an interpreter without torch (the host's python3) still answers, with what is
 * missing and the pip command. The estimate counts the parameters transformers builds from config.json
 * (equal to the engine's count), sizes weights / gradients / AdamW state, shrinks trainable state under
 * LoRA, and refuses a budget it exceeds with suggestions that fit. The executor choice keeps a usable probe
 * answer between runs (src/train/torch/envCache.ts) and probes again when the interpreter changes, after a
 * failed run, after a day, and always for an interpreter that could not run torch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPretrained } from '../../src/engine/checkpoint';
import { chooseExecutor } from '../../src/train/torch/choose';
import { CACHE_TTL_MS, forgetTorchEnv, rememberTorchEnv, torchEnvCachePath } from '../../src/train/torch/envCache';
import { python, pythonEnv, repoRoot, runDapTrain, startPython, tempDir, tinyGpt2 } from './fixtures';

test('dap_train env on the torch interpreter: versions, devices with memory, nothing missing', async () => {
  const r = await runDapTrain(['env']);
  assert.equal(r.code, 0, r.stderr);
  const env = JSON.parse(r.stdout);
  assert.deepEqual(env.missing, []);
  assert.equal(env.usable, true);
  assert.equal(env.install, null);
  for (const p of ['torch', 'transformers', 'accelerate', 'safetensors']) assert.match(env.packages[p], /^\d+\.\d+/, p);
  const cpu = env.devices.at(-1);
  assert.equal(cpu.type, 'cpu');
  assert.ok(cpu.memoryBytes > 1e8 && cpu.cores >= 1, JSON.stringify(cpu));
  assert.equal(typeof env.torchBuild.libuv, 'boolean');
  assert.match(env.python.version, /^3\.\d+/);
});

test('dap_train env on a python without torch says what is missing and how to install it', (t) => {
  const host = spawnSync('python3', ['-c', 'import torch'], { encoding: 'utf8' });
  if (host.error || host.status === 0) return t.skip('no python3 without torch on this machine');
  const out = execFileSync('python3', ['-m', 'dap_train', 'env'], { env: pythonEnv(), encoding: 'utf8', cwd: repoRoot });
  const env = JSON.parse(out);
  assert.equal(env.usable, false);
  assert.ok(env.missing.includes('torch'), JSON.stringify(env.missing));
  assert.match(env.install, /-m pip install .*torch/);
  assert.equal(env.devices.at(-1).type, 'cpu');
  assert.equal(env.torchBuild, null);
});

test('dap_train estimate: parameters as the engine counts them, state sizes, LoRA, and a budget it does not fit', async () => {
  const dir = tempDir('estimate');
  const model = await tinyGpt2(dir, 1, 128, 4);
  const { model: m } = loadPretrained(model);
  const params = m.parameterCount();
  m.dispose();
  // Every estimate through the CLI's own main(), in one interpreter (each start costs torch's import);
  // TIGHT = 80 % of the first estimate's total.
  const cases = [[], ['--lora-r', '2'], ['--reference', 'live'], ['--gradient-checkpointing'], ['--memory-bytes', 'TIGHT']];
  const base = ['estimate', '--model', model, '--batch-size', '4', '--max-length', '128', '--device', 'cpu'];
  const script = [
    'import contextlib, io, json, sys', 'from dap_train.__main__ import main', 'first = None',
    'for c in json.loads(sys.argv[1]):',
    '    buf = io.StringIO()',
    '    with contextlib.redirect_stdout(buf):',
    '        main([str(int(first * 0.8)) if a == "TIGHT" else a for a in c])',
    '    out = json.loads(buf.getvalue())',
    '    first = first or out["bytes"]["total"]',
    '    print(json.dumps(out))',
  ].join('\n');
  const r = await startPython(['-c', script, JSON.stringify(cases.map((c) => [...base, ...c]))]).done;
  assert.equal(r.code, 0, r.stderr);
  const outs = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  const [full, lora, live, ckpt, tight] = outs as never as { params: number; trainableParams: number; sequencesPerMicroBatch: number; fits: boolean;
    bytes: Record<string, number>; suggestions: { fits: boolean; totalBytes: number }[] }[];
  assert.equal(full.params, params);
  assert.equal(full.trainableParams, params);
  assert.equal(full.sequencesPerMicroBatch, 8, '4 pairs = 8 sequences in one pass');
  assert.deepEqual([full.bytes.weights, full.bytes.gradients, full.bytes.optimizer], [4 * params, 4 * params, 8 * params]);
  assert.equal(full.bytes.total, Object.entries(full.bytes).filter(([k]) => k !== 'total').reduce((a, [, v]) => a + v, 0));
  assert.equal(full.fits, true);
  assert.equal(lora.trainableParams, 4 * 2 * (32 + 96), 'r·(in + out) of each layer\'s c_attn');
  assert.equal(live.bytes.reference, 4 * params);
  assert.ok(ckpt.bytes.activations < full.bytes.activations);
  assert.equal(tight.fits, false);
  assert.ok(tight.suggestions.some((s) => s.fits && s.totalBytes < full.bytes.total), JSON.stringify(tight.suggestions));
});

test('the executor choice probes once and keeps a usable answer; probes again after a change of the interpreter, a failed run or a day; never keeps an unusable one', async () => {
  const dir = tempDir('env-cache');
  process.env.DAP_CACHE_DIR = join(dir, 'cache');
  const model = await tinyGpt2(dir, 2);
  const log = join(dir, 'calls');
  // Interpreters that record each start, then run the real one.
  const counted = (name: string, real: string) => {
    const p = join(dir, name);
    writeFileSync(p, `#!/bin/sh\necho "$*" >> '${log}'\nexec '${real}' "$@"\n`);
    chmodSync(p, 0o755);
    return p;
  };
  const probes = () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('dap_train env')).length : 0);
  const py = counted('torch-python', python);
  const first = await chooseExecutor({ executor: 'auto', model, python: py });
  assert.equal(first.executor, 'torch', first.reason);
  assert.equal(probes(), 1);
  assert.ok(existsSync(torchEnvCachePath()));
  const second = await chooseExecutor({ executor: 'auto', model, python: py });
  assert.equal(probes(), 1, 'the second run reuses the answer');
  assert.deepEqual(second.env, first.env);
  assert.equal(second.reason, first.reason);
  const later = new Date(Date.now() + 10_000);
  utimesSync(py, later, later); // the interpreter was replaced
  await chooseExecutor({ executor: 'torch', model, python: py });
  assert.equal(probes(), 2);
  forgetTorchEnv(py); // what a failed torch run does
  await chooseExecutor({ executor: 'torch', model, python: py });
  assert.equal(probes(), 3);
  rememberTorchEnv(py, first.env!, Date.now() - CACHE_TTL_MS - 1); // an answer older than a day
  await chooseExecutor({ executor: 'torch', model, python: py });
  assert.equal(probes(), 4);
  await chooseExecutor({ executor: 'torch', model, python: py });
  assert.equal(probes(), 4);
  const host = spawnSync('python3', ['-c', 'import torch'], { encoding: 'utf8' });
  if (host.error || host.status === 0) return; // no python3 without torch here
  const bare = counted('bare-python', 'python3');
  for (const k of [1, 2]) {
    const c = await chooseExecutor({ executor: 'auto', model, python: bare });
    assert.equal(c.executor, 'tfjs');
    assert.match(c.reason, /lacks torch/);
    assert.equal(probes(), 4 + k, 'an interpreter without torch is probed every time (installing torch counts at once)');
  }
});
