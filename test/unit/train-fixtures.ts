/**
 * Shared set-up of the training tests (train-*.test.ts, training-job, review-model): the repo paths of
 * the sample data, the tiny model shape, a temp folder holding a freshly saved tiny built-in-shaped
 * model, and a JSONL writer for the data files the tests train on.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { initBackend } from '../../src/engine/backend';
import { createBuiltinModel, type BuiltinShape } from '../../src/engine/builtin';
import { saveModel } from '../../src/engine/checkpoint';

/** The repository root (src/, media/, dist/ are below it). */
export const repoRoot = resolve(import.meta.dirname, '../..');

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
