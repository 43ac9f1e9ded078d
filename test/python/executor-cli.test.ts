/**
 * `dap train --executor torch` as a user runs it, on the real stack (torch + transformers + accelerate in
 * the test chroot through scripts/chroot-python, or DAP_PYTHON): the TypeScript side prepares the run,
 * prints the exact launch command, relays Python's events (each once in metrics.jsonl), stops on SIGTERM
 * with a checkpoint and exit 0 within 30 s, resumes to the same losses as an uninterrupted run (also with
 * --max-steps N: to N steps, refused below the checkpoint's step), reports a
 * Python crash with the traceback's last lines, and records a `failed` event when Python is killed.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEventLine, type StepEvent, type TrainEvent } from '../../src/train/runs/events';
import { repoRoot, tinyModelFixture, toyPairs, writeJsonl } from '../unit/train-fixtures';

const python = process.env.DAP_PYTHON ?? join(repoRoot, 'scripts/chroot-python');
const env = { ...process.env, DAP_PYTHON: python, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' };
let dir = '';
let modelDir = '';
let pairs = '';

before(async () => {
  ({ dir, modelDir } = await tinyModelFixture('torch-cli', 3, 32));
  pairs = writeJsonl(join(dir, 'pairs.jsonl'), toyPairs(16));
});

const common = () => [pairs, '--model', modelDir, '--executor', 'torch', '--device', 'cpu', '--mixed-precision', 'no', '--batch-size', '4', '--lr', '1e-3',
  '--max-length', '32', '--eval-fraction', '0.25', '--seed', '5', '--out', dir, '--json'];
const dapArgs = (args: string[]) => ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'train', ...args];
const eventsOf = (stdout: string) => stdout.trim().split('\n').filter((l) => l.startsWith('{')).map((l, i) => parseEventLine(l, `stdout:${i + 1}`));
const metricsOf = (runDir: string) => readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l, i) => parseEventLine(l, `metrics:${i + 1}`));
const losses = (ev: TrainEvent[]) => ev.filter((e): e is StepEvent => e.type === 'step').map((e) => [e.step, e.metrics.loss] as const);

function dap(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, dapArgs(args), { cwd: repoRoot, encoding: 'utf8', env, timeout: 300_000 });
}

/** Starts `dap train` and resolves once `until` holds for an event (or the process ends). */
function start(args: string[], until: (e: TrainEvent) => boolean): { child: ChildProcess; reached: Promise<void>; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, dapArgs(args), { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  let hit: () => void = () => {};
  const reached = new Promise<void>((r) => (hit = r));
  child.stdout!.on('data', (b: Buffer) => {
    stdout += b.toString('utf8');
    for (const l of stdout.split('\n')) if (l.startsWith('{') && until(JSON.parse(l) as TrainEvent)) hit();
  });
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((r) => child.on('close', (code) => { hit(); r({ code, stdout, stderr }); }));
  return { child, reached, done };
}

test('dap env reports the real stack; a run that will not fit is refused with the numbers before any run folder', () => {
  const e = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'env'], { cwd: repoRoot, encoding: 'utf8', env, timeout: 300_000 });
  assert.equal(e.status, 0, e.stderr);
  assert.match(e.stdout, /^python: \S+ 3\.\d+/m);
  assert.match(e.stdout, /^ {2}torch {9}2\.\d+/m);
  assert.match(e.stdout, /^ {2}transformers {2}\d+\./m);
  assert.match(e.stdout, /^ {2}accelerate {4}\d+\./m);
  assert.match(e.stdout, /^device: cpu .*GiB/m);
  assert.match(e.stdout, /^torch executor: usable$/m);
  const r = spawnSync(process.execPath, dapArgs([...common(), '--run-id', 'too-big']), { cwd: repoRoot, encoding: 'utf8', env: { ...env, DAP_MEMORY_BYTES: '100000' }, timeout: 300_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^dap train: this run will not fit in memory: weights \d+\.\d (KiB|MiB) \+ gradients .*= \d+\.\d (KiB|MiB) per process; cpu.* has 97\.7 KiB\. Try: .*--lora-r/);
  assert.ok(!existsSync(join(dir, 'runs', 'too-big')), 'no run folder');
});

test('a torch run: launch command printed, events relayed once, started says torch', () => {
  const r = dap([...common(), '--max-steps', '3', '--run-id', 'relay']);
  assert.equal(r.status, 0, r.stderr);
  const ev = eventsOf(r.stdout);
  const launch = ev.find((e) => e.type === 'log' && e.message.startsWith('launch: '));
  assert.ok(launch?.type === 'log');
  assert.match(launch.message, new RegExp(`^launch: PYTHONPATH=\\S+python \\S+ -m dap_train train ${join(dir, 'runs', 'relay')}$`));
  const started = ev.find((e) => e.type === 'started');
  assert.ok(started?.type === 'started' && started.executor === 'torch' && started.config.executor === 'torch');
  assert.deepEqual(started.stages, [{ stage: 'dpo', totalSteps: 3 }], 'the stage plan, as the tfjs executor sends it');
  assert.deepEqual(losses(ev).map(([s]) => s), [1, 2, 3]);
  assert.ok(Math.abs(losses(ev)[0][1] - Math.LN2) < 1e-6, 'DPO starts at ln 2');
  assert.equal(ev.at(-1)?.type, 'finished');
  const onDisk = metricsOf(join(dir, 'runs', 'relay'));
  assert.deepEqual(onDisk.map((e) => e.type), ev.map((e) => e.type), 'metrics.jsonl holds each relayed event once');
});

test('SIGTERM: checkpoint and exit 0 within 30 s; --resume continues to the losses of an uninterrupted run', async () => {
  // 40 real steps (12 training pairs, batch 4: 3 steps an epoch; the default 3 epochs would end at step 9, which a fast
  // step rate reached before the SIGTERM sent at step 2 was relayed: no cancel checkpoint).
  const long = ['--epochs', '14', '--max-steps', '40'];
  const full = dap([...common(), ...long, '--run-id', 'full']);
  assert.equal(full.status, 0, full.stderr);
  const run = start([...common(), ...long, '--run-id', 'part'], (e) => e.type === 'step' && e.step >= 2);
  await run.reached;
  const t0 = Date.now();
  run.child.kill('SIGTERM');
  const r = await run.done;
  const seconds = (Date.now() - t0) / 1000;
  assert.equal(r.code, 0, r.stderr);
  assert.ok(seconds < 30, `stopped in ${seconds} s`);
  const ev = eventsOf(r.stdout);
  const ckpt = ev.find((e) => e.type === 'checkpoint' && e.reason === 'cancel');
  assert.ok(ckpt?.type === 'checkpoint' && existsSync(ckpt.path), `cancel checkpoint written; events: ${r.stdout.slice(-3000)}\nstderr: ${r.stderr.slice(-2000)}`);
  const fin = ev.at(-1);
  assert.ok(fin?.type === 'finished' && fin.summary.cancelled);
  const resumed = dap(['--resume', ckpt.path, '--json']);
  assert.equal(resumed.status, 0, resumed.stderr);
  const all = [...losses(ev), ...losses(eventsOf(resumed.stdout))];
  const expected = losses(eventsOf(full.stdout));
  assert.deepEqual(all.map(([s]) => s), expected.map(([s]) => s));
  all.forEach(([s, l], i) => assert.ok(Math.abs(l - expected[i][1]) < 1e-6, `step ${s}: ${l} vs ${expected[i][1]}`));
});

test('--resume RUN --max-steps N trains a stopped run to N steps: the losses of an uninterrupted N-step run; below the checkpoint refused', async () => {
  const flat = ['--schedule', 'constant', '--warmup-ratio', '0']; // an LR that does not depend on the total steps
  // 40 real steps (see the SIGTERM test); the step it stops at depends on the machine's speed, so N is set from it.
  const run = start([...common(), ...flat, '--epochs', '14', '--max-steps', '40', '--run-id', 'longer'], (e) => e.type === 'step' && e.step >= 2);
  await run.reached;
  run.child.kill('SIGTERM');
  const r = await run.done;
  assert.equal(r.code, 0, r.stderr);
  const part = eventsOf(r.stdout);
  const ckpt = part.find((e) => e.type === 'checkpoint' && e.reason === 'cancel');
  assert.ok(ckpt?.type === 'checkpoint', r.stdout);
  assert.ok(ckpt.step >= 2 && ckpt.step < 37, `cancelled at step ${ckpt.step}`);
  const n = ckpt.step + 3;
  const straight = dap([...common(), ...flat, '--epochs', '14', '--max-steps', String(n), '--run-id', 'straight']);
  assert.equal(straight.status, 0, straight.stderr);
  const runDir = join(dir, 'runs', 'longer');
  const before = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8');
  const low = dap(['--resume', runDir, '--max-steps', String(ckpt.step - 1), '--json']);
  assert.equal(low.status, 2, low.stderr);
  assert.match(low.stderr, new RegExp(`^dap train: resume: --max-steps ${ckpt.step - 1} is below the step of \\S+ \\(${ckpt.step}\\); give at least ${ckpt.step}$`, 'm'));
  assert.equal(readFileSync(join(runDir, 'metrics.jsonl'), 'utf8'), before, 'a refused resume writes nothing');
  const resumed = dap(['--resume', runDir, '--max-steps', String(n), '--json']);
  assert.equal(resumed.status, 0, resumed.stderr);
  const ev = eventsOf(resumed.stdout);
  const launch = ev.find((e) => e.type === 'log' && e.message.startsWith('launch: '));
  assert.ok(launch?.type === 'log' && launch.message.endsWith(` --resume ${ckpt.path} --max-steps ${n}`), launch?.type === 'log' ? launch.message : 'no launch line');
  const started = ev.find((e) => e.type === 'started');
  assert.ok(started?.type === 'started' && started.config.maxSteps === n && started.totalSteps === n);
  assert.ok(ev.filter((e): e is StepEvent => e.type === 'step').every((e) => e.totalSteps === n));
  const fin = ev.at(-1);
  assert.ok(fin?.type === 'finished' && !fin.summary.cancelled);
  const all = [...losses(part), ...losses(ev)];
  const expected = losses(eventsOf(straight.stdout));
  assert.deepEqual(all.map(([s]) => s), Array.from({ length: n }, (_, i) => i + 1));
  all.forEach(([s, l], i) => assert.ok(Math.abs(l - expected[i][1]) < 1e-6, `step ${s}: ${l} vs ${expected[i][1]}`));
  assert.ok(existsSync(join(runDir, 'model', 'model.safetensors')), 'the final model');
});

test('a Python crash is a failed event with the traceback; a killed Python gets a failed event from the TypeScript side', async () => {
  const broken = join(dir, 'broken');
  spawnSync('cp', ['-r', modelDir, broken]);
  writeFileSync(join(broken, 'model.safetensors'), Buffer.from('not a safetensors file'));
  const r = dap([...common(), '--model', broken, '--run-id', 'crash']);
  assert.equal(r.status, 1, r.stderr);
  const failed = eventsOf(r.stdout).at(-1);
  assert.ok(failed?.type === 'failed', r.stdout);
  assert.ok((failed.stack ?? '').split('\n').length >= 2, `traceback lines: ${failed.stack}`);
  const run = start([...common(), '--epochs', '500', '--run-id', 'killed'], (e) => e.type === 'step');
  await run.reached;
  const pids = spawnSync('pgrep', ['-f', `dap_train train ${join(dir, 'runs', 'killed')}`], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
  assert.ok(pids.length >= 1, 'the Python process is found');
  for (const p of pids) process.kill(Number(p), 'SIGKILL');
  const k = await run.done;
  assert.equal(k.code, 1, k.stderr);
  const last = metricsOf(join(dir, 'runs', 'killed')).at(-1);
  assert.ok(last?.type === 'failed');
  assert.match(last.error, /the torch executor exited without a final event \(signal SIGKILL\)/);
});
