/**
 * Shared set-up of the training tests (train-*.test.ts, training-job, review-model): the repo paths of
 * the sample data, the tiny model shape, a temp folder holding a freshly saved tiny built-in-shaped
 * model, a JSONL writer for the data files the tests train on, cancel-then-resume for the resume tests, and
 * the worker bundle (dist/worker.js) rebuilt when a source is newer, for the tests that fork it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { initBackend } from '../../src/engine/backend';
import { createBuiltinModel, type BuiltinShape } from '../../src/engine/builtin';
import { saveModel } from '../../src/engine/checkpoint';
import { runTraining } from '../../src/train/pipeline/index';
import type { TrainConfig } from '../../src/train/config';
import type { StepEvent, TrainEvent } from '../../src/train/runs/events';

/** The repository root (src/, media/, dist/ are below it). */
export const repoRoot = resolve(import.meta.dirname, '../..');

/** dist/worker.js, the worker process the host forks (training and review scoring). */
export const workerBundle = join(repoRoot, 'dist', 'worker.js');

/** Builds the bundles when dist/worker.js is missing or older than any source of src/ it is built from. */
export function ensureWorkerBundle(): void {
  const sources = (readdirSync(join(repoRoot, 'src'), { recursive: true, encoding: 'utf8' }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => join(repoRoot, 'src', f));
  const newest = Math.max(...sources.map((f) => statSync(f).mtimeMs));
  if (!existsSync(workerBundle) || statSync(workerBundle).mtimeMs < newest) {
    execFileSync(process.execPath, [join(repoRoot, 'scripts', 'build.mjs')], { cwd: repoRoot, stdio: 'inherit' });
  }
}

/** The shipped sample task file (its annotation log lies beside it). */
export const sampleTasks = join(repoRoot, 'media/samples/arith.tasks.jsonl');

/** The smallest model shape the training tests use: one block, width 32, two heads. */
export function tinyShape(maxPositions: number): BuiltinShape {
  return { numLayers: 1, hiddenSize: 32, numHeads: 2, maxPositions };
}

/** A temp folder for one test file and the tiny model saved in it. */
export interface TinyModelFixture {
  /** The temp folder (os.tmpdir()/dap-PREFIX-XXXXXX): runs and data files go here. */
  dir: string;
  /** dir/tiny: a model folder (config.json + model.safetensors) as `--model` takes it. */
  modelDir: string;
}

/**
 * Initialises the WASM backend, makes a temp folder `dap-PREFIX-*` and saves a tiny built-in-shaped model
 * with weights from `seed` in it. Each test file passes its own seed, so their runs stay as they were.
 */
export async function tinyModelFixture(prefix: string, seed: number, maxPositions: number): Promise<TinyModelFixture> {
  await initBackend('wasm');
  const dir = mkdtempSync(join(tmpdir(), `dap-${prefix}-`));
  const modelDir = join(dir, 'tiny');
  const m = createBuiltinModel(seed, tinyShape(maxPositions));
  await saveModel(m, modelDir);
  m.dispose();
  return { dir, modelDir };
}

/** Writes rows as JSON lines (one object a line, final newline) and returns the path. */
export function writeJsonl(path: string, rows: readonly unknown[]): string {
  writeFileSync(path, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return path;
}

/** n learnable toy pairs: prompt `Qi:`, chosen ` yes`, rejected ` no`. */
export function toyPairs(n: number): { prompt: string; chosen: string; rejected: string }[] {
  return Array.from({ length: n }, (_, i) => ({ prompt: `Q${i}:`, chosen: ' yes', rejected: ' no' }));
}

/** Each optimizer step of a run as [stage, step, loss], to compare two runs step by step. */
export function stepLosses(events: readonly TrainEvent[]): [string, number, number][] {
  return events.filter((e): e is StepEvent => e.type === 'step').map((e) => [e.stage, e.step, e.metrics.loss]);
}

/**
 * Runs `config` and cancels it at the first step event for which `stopAt` is true (the run must end
 * cancelled with a checkpoint), then resumes from that checkpoint to the end. Returns the events of both
 * parts in order, the run folder and the checkpoint.
 */
export async function cancelThenResume(config: TrainConfig, stopAt: (step: StepEvent) => boolean): Promise<{ events: TrainEvent[]; runDir: string; checkpoint: string }> {
  const events: TrainEvent[] = [];
  let stop = false;
  const part = await runTraining(config, { onEvent: (e) => { events.push(e); if (e.type === 'step' && stopAt(e)) stop = true; }, shouldStop: () => stop });
  assert.equal(part.status, 'cancelled', part.error);
  const checkpoint = part.summary?.checkpoint;
  assert.ok(checkpoint, 'a cancelled run leaves a checkpoint');
  const resumed = await runTraining({ data: config.data, resume: checkpoint }, { onEvent: (e) => events.push(e) });
  assert.equal(resumed.status, 'finished', resumed.error);
  assert.equal(resumed.runDir, part.runDir, 'resume continues the same run folder');
  return { events, runDir: part.runDir, checkpoint };
}
