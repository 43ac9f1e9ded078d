/**
 * The training worker as a real child process: forked with tsx, it trains DPO on the sample data with a
 * tiny model, receives `cancel` after a few steps, and must write a checkpoint, end with a `finished`
 * (cancelled) event, append every event to runs/RUN_ID/metrics.jsonl beside config.json, and exit 0.
 * Also: a config file with a bad field fails with exit 1 and a `failed` event naming the field.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TrainEvent } from '../../src/train/runs/events';
import { replayRun } from '../../src/train/runs/folder';
import { repoRoot as root, sampleTasks as tasks, tinyModelFixture } from './train-fixtures';

let dir = '';
let modelDir = '';

before(async () => {
  ({ dir, modelDir } = await tinyModelFixture('worker', 3, 64));
});

/** Forks the worker on a config file; returns its events (IPC) and exit code. */
function runWorker(configPath: string, onEvent: (e: TrainEvent, child: ReturnType<typeof fork>) => void): Promise<{ code: number | null; events: TrainEvent[] }> {
  return new Promise((res, rej) => {
    const child = fork(join(root, 'src/train/worker/main.ts'), [configPath], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env: { ...process.env, DAP_BACKEND: 'wasm' } });
    const events: TrainEvent[] = [];
    child.on('message', (m) => { events.push(m as TrainEvent); onEvent(m as TrainEvent, child); });
    child.on('error', rej);
    child.on('exit', (code) => res({ code, events }));
  });
}

test('worker: cancel after a few steps → checkpoint, finished(cancelled), metrics.jsonl, exit 0', async () => {
  const cfg = join(dir, 'run.json');
  writeFileSync(cfg, JSON.stringify({ data: tasks, model: modelDir, method: 'dpo', out: dir, runId: 'cancel-run', backend: 'wasm',
    lr: 1e-3, batchSize: 4, epochs: 5, maxLength: 64, evalFraction: 0.05, evalEvery: 1000, seed: 1 }));
  let sent = false;
  const { code, events } = await runWorker(cfg, (e, child) => {
    if (e.type === 'step' && e.step >= 3 && !sent) { sent = true; child.send({ type: 'cancel' }); }
  });
  assert.equal(code, 0);
  const steps = events.filter((e) => e.type === 'step');
  assert.ok(steps.length >= 3 && steps.length <= 5, `stopped soon after cancel (${steps.length} steps)`);
  const started = events.find((e) => e.type === 'started');
  assert.ok(started && started.type === 'started' && started.runId === 'cancel-run' && started.config.method === 'dpo');
  const ckpt = events.find((e) => e.type === 'checkpoint');
  assert.ok(ckpt && ckpt.type === 'checkpoint' && ckpt.reason === 'cancel');
  for (const f of ['model/model.safetensors', 'model/config.json', 'optimizer.safetensors', 'trainer_state.json']) assert.ok(existsSync(join(ckpt.path, f)), f);
  const fin = events.at(-1);
  assert.ok(fin && fin.type === 'finished' && fin.summary.cancelled === true);
  const runDir = join(dir, 'runs', 'cancel-run');
  assert.ok(existsSync(join(runDir, 'config.json')));
  const replay = replayRun(runDir);
  assert.deepEqual(replay.map((e) => e.type), events.map((e) => e.type), 'metrics.jsonl holds every event in order');
  const firstStep = steps[0];
  assert.ok(firstStep.type === 'step' && Math.abs(firstStep.metrics.loss - Math.LN2) < 1e-6, 'step-1 DPO loss is ln 2');
});

test('worker: a bad config fails with exit 1 and a failed event naming the field', async () => {
  const cfg = join(dir, 'bad.json');
  writeFileSync(cfg, JSON.stringify({ data: tasks, model: modelDir, method: 'dpo', out: dir, runId: 'bad-run', batchSize: -2 }));
  const res = await new Promise<{ code: number | null; stderr: string }>((r) => {
    const child = fork(join(root, 'src/train/worker/main.ts'), [cfg], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('exit', (code) => r({ code, stderr }));
  });
  assert.equal(res.code, 1);
  assert.match(res.stderr, /batchSize/);
});
