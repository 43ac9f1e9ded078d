/**
 * A training run SIGKILLed at any moment resumes to the same run: `dap train --json` (dist/cli.js, a real
 * process) is killed at several points of each stage — inside the built-in model's SFT stage (before any
 * checkpoint), right after a stage's final checkpoint (while the next stage or the final model is being
 * written), inside the DPO stage, in the middle of writing a checkpoint, inside and between SPIN
 * iterations, inside a LoRA stage — and `dap train --resume RUN_DIR` then finishes it. Every step loss of
 * both processes equals the uninterrupted run's at the same stage and step, the final model (and LoRA
 * adapter) is byte-identical, the run folder lists as finished, no attempt left a `failed` event, and the
 * loss panel's replay shows each stage's steps once, in order.
 * Also: resuming a finished run is refused before anything is written, and `--resume` of a stage's final
 * checkpoint works.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listRuns } from '../../src/train/runs/listing';
import type { TrainConfig } from '../../src/train/config/index';
import { parseEventLine, type TrainEvent } from '../../src/train/runs/events';
import { runTraining } from '../../src/train/pipeline/index';
import { replayRun } from '../../src/train/runs/folder';
import { applyEvent, newRun } from '../../webview/loss/runModel';
import { ensureWorkerBundle, repoRoot, stepLosses, tinyModelFixture, tinyShape, toyPairs, writeJsonl } from './train-fixtures';

let dir = '';
let modelDir = '';
let data = '';
let cli = '';

before(async () => {
  ({ dir, modelDir } = await tinyModelFixture('crash', 11, 32));
  data = writeJsonl(join(dir, 'toy.pairs.jsonl'), toyPairs(12));
  ensureWorkerBundle(); // builds dist/cli.js with it
  cli = join(repoRoot, 'dist', 'cli.js');
});

/** The settings shared by every run (small: each run takes seconds). */
function config(runId: string, extra: Partial<TrainConfig>): TrainConfig {
  return { data, out: dir, runId, backend: 'wasm', builtin: tinyShape(32), sftEpochs: 3, sftLr: 5e-3, epochs: 2, lr: 5e-3, batchSize: 4,
    maxLength: 32, evalFraction: 0.25, warmupRatio: 0, seed: 3, ...extra };
}

/**
 * When to kill: at the first event `at` matches (`poll`: then also wait until it returns true, polling the disk).
 * `landed`, checked once the process is gone, says whether the kill hit the moment meant (a late kill is retried).
 */
interface KillPoint {
  name: string;
  at: (e: TrainEvent) => boolean;
  poll?: (runDir: string) => boolean;
  landed?: (runDir: string) => boolean;
}

/** Sleeps the calling thread (a poll of the disk that must not wait for the event loop). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Runs `dap train ARGS --json`, SIGKILLing it at `kill` (if given); returns its stdout events and how it ended. */
function dapTrain(args: string[], runDir: string, kill?: KillPoint): Promise<{ events: TrainEvent[]; code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, 'train', ...args, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const events: TrainEvent[] = [];
    let partial = '', stderr = '';
    let killing = false;
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    child.stdout.on('data', (b: Buffer) => {
      const lines = (partial + b.toString()).split('\n');
      partial = lines.pop() as string;
      for (const line of lines) {
        const e = parseEventLine(line, 'stdout');
        events.push(e);
        if (!kill || killing || !kill.at(e)) continue;
        killing = true;
        // A poll blocks this thread, so it reacts within microseconds (the child's output waits in the pipe).
        if (kill.poll) for (const t0 = Date.now(); !kill.poll(runDir) && Date.now() - t0 < 30_000;) sleepSync(0.05);
        child.kill('SIGKILL');
      }
    });
    child.on('close', (code, signal) => resolve({ events, code, signal, stderr }));
  });
}

/**
 * Runs `dap train ARGS` (ARGS of the attempt's run id) until a kill lands at `point`: an attempt whose run
 * finished before the kill (a loaded machine may run the rest of a small run before the kill arrives) or whose
 * kill came after the moment meant (`landed`) is started again under a new run id, 5 attempts at most.
 */
async function killAt(runDirOf: (runId: string) => string, argsOf: (runId: string) => string[], runId: string, point: KillPoint): Promise<{ runId: string; runDir: string; events: TrainEvent[] }> {
  for (let attempt = 0; ; attempt++) {
    const id = attempt === 0 ? runId : `${runId}-retry${attempt}`;
    const runDir = runDirOf(id);
    const killed = await dapTrain(argsOf(id), runDir, point);
    if (killed.signal === 'SIGKILL' && (!point.landed || point.landed(runDir))) return { runId: id, runDir, events: killed.events };
    assert.ok(attempt < 4, `${id}: the kill missed its point 5 times (last: ${killed.signal === 'SIGKILL' ? 'killed too late' : `exit ${killed.code}: ${killed.stderr}`})`);
  }
}

/** Checkpoint folders of a run being written (temporaries) or done. */
function checkpointNames(runDir: string): string[] {
  const d = join(runDir, 'checkpoints');
  return existsSync(d) ? readdirSync(d) : [];
}

const step = (stage: string, n: number) => (e: TrainEvent) => e.type === 'step' && e.stage === stage && e.step === n;
const checkpointOf = (stage: string) => (e: TrainEvent) => e.type === 'checkpoint' && e.stage === stage && e.reason === 'final';

/** Files of the finished run compared byte for byte. */
function outputs(runDir: string, lora: boolean): Buffer[] {
  return [join(runDir, 'model', 'model.safetensors'), ...(lora ? [join(runDir, 'adapter', 'adapter_model.safetensors')] : [])].map((f) => readFileSync(f));
}

/**
 * The uninterrupted run of `extra`, then one run per kill point killed there and resumed with
 * `--resume RUN_DIR`: same per-step losses, same outputs, listed as finished, no failed event.
 */
async function crashAndResume(name: string, extra: Partial<TrainConfig>, points: KillPoint[]): Promise<void> {
  const fullEvents: TrainEvent[] = [];
  const full = await runTraining(config(`${name}-full`, extra), { onEvent: (e) => fullEvents.push(e) });
  assert.equal(full.status, 'finished', full.error);
  const expected = new Map(stepLosses(fullEvents).map(([stage, n, loss]) => [`${stage}:${n}`, loss]));
  const lora = extra.lora !== undefined;
  for (const point of points) {
    const configFile = (id: string) => {
      const cfgFile = join(dir, `${id}.json`);
      writeFileSync(cfgFile, JSON.stringify(config(id, extra)));
      return ['--config', cfgFile];
    };
    const { runId, runDir, events: killedEvents } = await killAt((id) => join(dir, 'runs', id), configFile, `${name}-${point.name}`, point);
    const killed = { events: killedEvents };
    const resumed = await dapTrain(['--resume', runDir], runDir);
    assert.equal(resumed.code, 0, `${runId}: resume failed: ${resumed.stderr}`);
    assert.equal(resumed.events.at(-1)?.type, 'finished', runId);
    for (const [stage, n, loss] of stepLosses([...killed.events, ...resumed.events])) {
      assert.equal(loss, expected.get(`${stage}:${n}`), `${runId}: loss of ${stage} step ${n}`);
    }
    const seen = new Set(stepLosses([...killed.events, ...resumed.events]).map(([stage, n]) => `${stage}:${n}`));
    assert.deepEqual([...expected.keys()].filter((k) => !seen.has(k)), [], `${runId}: steps never run`);
    outputs(full.runDir, lora).forEach((bytes, i) => assert.ok(bytes.equals(outputs(runDir, lora)[i]), `${runId}: output ${i} differs from the uninterrupted run`));
    const replayed = replayRun(runDir);
    assert.deepEqual(replayed.filter((e) => e.type === 'failed'), [], `${runId}: a failed event`);
    // The loss panel replays both attempts as one run: each stage's steps once, in order, finished.
    const panel = newRun(runId, runDir, false);
    for (const e of replayed) applyEvent(panel, e);
    assert.equal(panel.status, 'finished');
    for (const stage of panel.stages) assert.deepEqual(stage.steps, stage.steps.map((_, i) => i + 1), `${runId}: panel steps of ${stage.name}`);
    assert.equal(listRuns(join(dir, 'runs')).find((r) => r.runId === runId)?.status, 'finished');
    assert.deepEqual(checkpointNames(runDir).filter((n) => n.startsWith('.')), [], `${runId}: temporaries left in checkpoints/`);
  }
}

test('built-in model, SFT then DPO: killed anywhere, resumed to the same losses and weights', async () => {
  await crashAndResume('dpo', { method: 'dpo', checkpointEvery: 0 }, [
    { name: 'sft-step', at: step('sft', 4) }, // no checkpoint yet: the resume starts the run again in its folder
    { name: 'after-sft', at: checkpointOf('sft') }, // saving sft-model/, precomputing the reference
    { name: 'dpo-step', at: step('dpo', 2) }, // only the SFT stage's final checkpoint exists (checkpoint-every 0)
    { name: 'after-dpo', at: checkpointOf('dpo') }, // writing model/
  ]);
});

test('DPO with periodic checkpoints: killed while a checkpoint folder is being written, the previous one is used', async () => {
  await crashAndResume('periodic', { method: 'dpo', checkpointEvery: 2 }, [
    {
      name: 'mid-checkpoint', at: step('dpo', 4),
      // Kill once the folder exists under its temporary name (or, if that was missed, once it was renamed) …
      poll: (runDir) => checkpointNames(runDir).some((n) => n.startsWith('.dpo-step-000004.tmp-') || n === 'dpo-step-000004'),
      // … and count the attempt only when the kill left the temporary (it landed mid-write).
      landed: (runDir) => checkpointNames(runDir).some((n) => n.startsWith('.dpo-step-000004.tmp-')),
    },
  ]);
});

test('SPIN: killed inside and between iterations, resumed to the same losses and weights', async () => {
  await crashAndResume('spin', { method: 'spin', spin: { iterations: 2, maxNewTokens: 6 }, epochs: 1 } as Partial<TrainConfig>, [
    { name: 'iter1-step', at: step('spin-1', 1) },
    { name: 'after-iter1', at: checkpointOf('spin-1') }, // saving spin/iter-1/model, generating iteration 2's pairs
    { name: 'iter2-step', at: step('spin-2', 1) },
  ]);
});

test('LoRA on a model folder: killed inside the stage and while the outputs are written, resumed to the same adapter and model', async () => {
  await crashAndResume('lora', { method: 'dpo', model: modelDir, lora: { r: 4 }, checkpointEvery: 2, epochs: 3 } as Partial<TrainConfig>, [
    { name: 'step', at: step('dpo', 3) },
    { name: 'after-final', at: checkpointOf('dpo') },
  ]);
});

test('resuming a finished run is refused before anything is written; --resume of a final checkpoint finishes the run', async () => {
  const runDir = join(dir, 'runs', 'dpo-full');
  const before = readFileSync(join(runDir, 'metrics.jsonl'));
  for (const target of [runDir, join(runDir, 'checkpoints', readdirSync(join(runDir, 'checkpoints')).filter((n) => n.startsWith('dpo-')).sort().at(-1) as string)]) {
    const r = spawnSync(process.execPath, [cli, 'train', '--resume', target], { encoding: 'utf8' });
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stderr, /the run already finished .*nothing to resume/);
  }
  assert.ok(readFileSync(join(runDir, 'metrics.jsonl')).equals(before), 'metrics.jsonl untouched');
  // A run killed before it saved its config (only metrics.jsonl) says so.
  const early = join(dir, 'runs', 'early');
  mkdirSync(early, { recursive: true });
  writeFileSync(join(early, 'metrics.jsonl'), '');
  const r = spawnSync(process.execPath, [cli, 'train', '--resume', early], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /early: the run stopped before it saved config\.json \(nothing was trained yet\); nothing to resume — start it again/);
  // A run killed after its final checkpoint, resumed from that checkpoint folder by name.
  const configFile = (id: string) => {
    const cfgFile = join(dir, `${id}.json`);
    writeFileSync(cfgFile, JSON.stringify(config(id, { method: 'dpo', checkpointEvery: 0 })));
    return ['--config', cfgFile];
  };
  const { runDir: killedDir, events } = await killAt((id) => join(dir, 'runs', id), configFile, 'by-name', { name: 'final', at: checkpointOf('dpo') });
  const killed = { events };
  const final = killed.events.find(checkpointOf('dpo'));
  assert.ok(final?.type === 'checkpoint');
  const resumed = await dapTrain(['--resume', final.path], killedDir);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.ok(readFileSync(join(killedDir, 'model', 'model.safetensors')).equals(readFileSync(join(runDir, 'model', 'model.safetensors'))));
});
