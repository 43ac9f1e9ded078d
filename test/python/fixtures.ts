/**
 * Shared set-up of the python tier (test/python/*.test.ts), which drives the real `python -m dap_train`
 * (torch + transformers + accelerate in the test chroot, scripts/chroot-python, or DAP_PYTHON): the
 * interpreter, a run folder prepared by the host's own prepareTorchRun (as `dap train --executor torch`
 * does: CONTRACT.md §2), running the
 * executor as a child process, and the tiny GPT-2 and Llama model folders the parity tests train.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/engine/backend';
import { createBuiltinModel } from '../../src/engine/builtin';
import { loadPretrained, saveModel } from '../../src/engine/checkpoint';
import { loadLoraAdapter } from '../../src/engine/lora';
import { padRows, sequenceLogps } from '../../src/engine/logps';
import { llamaConfigJson, parseConfig } from '../../src/engine/config';
import { createRandomModel } from '../../src/engine/models';
import { byteTokenizerConfigJson, byteTokenizerJson } from '../../src/engine/tokenizer';
import { resolveConfig, type ResolvedTrainConfig, type TrainConfig } from '../../src/train/config';
import { parseEventLine, type TrainEvent } from '../../src/train/runs/trainEvents';
import { createRunDir } from '../../src/train/runs/folder';
import { prepareTorchRun } from '../../src/train/torch/prepare';

export const repoRoot = resolve(import.meta.dirname, '../..');

/** The interpreter under test: DAP_PYTHON, else the repo's chroot wrapper. */
export const python = process.env.DAP_PYTHON ?? join(repoRoot, 'scripts/chroot-python');

/** Environment of every python child: the package on PYTHONPATH, single-threaded BLAS (2-core CI). */
export function pythonEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, PYTHONPATH: join(repoRoot, 'python'), PYTHONUNBUFFERED: '1', OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', ...extra };
}

/** A temp folder for one test file. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `dap-py-${prefix}-`));
}

/** A tiny GPT-2 folder (the built-in shape: byte tokenizer, 1 block, width 32) saved by the engine. */
export async function tinyGpt2(dir: string, seed = 3, maxPositions = 64, numLayers = 1): Promise<string> {
  await initBackend('wasm');
  const out = join(dir, 'gpt2');
  const m = createBuiltinModel(seed, { numLayers, hiddenSize: 32, numHeads: 2, maxPositions });
  await saveModel(m, out);
  m.dispose();
  return out;
}

/** A tiny Llama folder (GQA 4/2 heads, SwiGLU, RoPE, tied head, byte tokenizer) saved by the engine. */
export async function tinyLlama(dir: string, seed = 5, maxPositions = 64): Promise<string> {
  await initBackend('wasm');
  const out = join(dir, 'llama');
  const raw = llamaConfigJson({ vocabSize: 259, maxPositions, hiddenSize: 16, numLayers: 1, numHeads: 4, numKvHeads: 2, intermediateSize: 24,
    tieWordEmbeddings: true, bosTokenId: 256, eosTokenId: 257 });
  const m = createRandomModel(parseConfig({ ...raw, pad_token_id: 258 }, 'config.json'), seed, 0.3);
  await saveModel(m, out);
  m.dispose();
  writeFileSync(join(out, 'tokenizer.json'), JSON.stringify(byteTokenizerJson()));
  writeFileSync(join(out, 'tokenizer_config.json'), JSON.stringify(byteTokenizerConfigJson(), null, 2));
  return out;
}

/** Writes rows as JSON lines. */
export function writeJsonl(path: string, rows: readonly unknown[]): string {
  writeFileSync(path, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return path;
}

/**
 * Prepares RUN_DIR for the torch executor from a TrainConfig with a model folder exactly as `dap train` does:
 * the config resolved (executor torch, CPU, fp32 unless `extra` says otherwise) and the host's own
 * prepareTorchRun (src/train/torch/prepare.ts: config.json, split.json, data/meta.json, tokenized examples).
 */
export async function prepareRun(input: TrainConfig & { model: string }, out: string, extra: Partial<TrainConfig> = {}): Promise<{ runDir: string; config: ResolvedTrainConfig }> {
  const config = resolveConfig({ executor: 'torch', device: 'cpu', mixedPrecision: 'no', ...input, ...extra, out });
  const runDir = createRunDir(resolve(out), config.runId);
  const prepared = await prepareTorchRun(config, runDir);
  return { runDir, config: prepared.config };
}

/** A python child's result: exit status, stdout events, stderr. */
export interface PyResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  events: TrainEvent[];
  stdout: string;
  stderr: string;
}

/**
 * Starts `python ARGS` (cwd = repo root). With `events`, every stdout line must be a training event
 * (parsed as it arrives; `onEvent` sees each one).
 */
export function startPython(args: string[], opts: { env?: Record<string, string>; events?: boolean; onEvent?: (e: TrainEvent, child: ChildProcess) => void } = {}): { child: ChildProcess; done: Promise<PyResult> } {
  const child = spawn(python, args, { cwd: repoRoot, env: pythonEnv(opts.env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '', pending = '';
  const events: TrainEvent[] = [];
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
    if (!opts.events) return;
    pending += s;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (!line.trim()) continue;
      const e = parseEventLine(line, 'python stdout');
      events.push(e);
      opts.onEvent?.(e, child);
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
  const done = new Promise<PyResult>((res) => child.on('close', (code, signal) => res({ code, signal, events, stdout, stderr })));
  return { child, done };
}

/** Runs `python -m dap_train ARGS` to the end. */
export function runDapTrain(args: string[], env: Record<string, string> = {}): Promise<PyResult> {
  return startPython(['-m', 'dap_train', ...args], { env, events: args[0] === 'train' }).done;
}

/** The events of a run folder's metrics.jsonl. */
export function metricsOf(runDir: string): TrainEvent[] {
  return readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').split('\n').filter((l) => l.trim()).map((l) => parseEventLine(l));
}

/** Per-sequence summed log-probs of tokenized examples under a model folder (with a LoRA adapter), on the tfjs engine. */
export function tfjsLogps(modelDir: string, examples: { sequences: { prompt: number[]; completion: number[] }[] }[], adapter?: string): number[] {
  const { model, tokenizer } = loadPretrained(modelDir);
  try {
    if (adapter) loadLoraAdapter(model, adapter);
    const batch = padRows(examples.flatMap((e) => e.sequences.map((s) => ({ promptIds: s.prompt, completionIds: s.completion, truncated: false }))), tokenizer.padId);
    const l = sequenceLogps(model, batch);
    const out = Array.from(l.sum.dataSync());
    tf.dispose([batch.ids, batch.attentionMask, batch.completionMask, l.sum, l.mean, l.count]);
    return out;
  } finally {
    model.dispose();
  }
}

/** The same sums by the torch executor's scorer: `python -m dap_train logps ARGS` (--model, --adapter, --data, --pad-id). */
export async function torchLogps(args: string[]): Promise<number[]> {
  const r = await runDapTrain(['logps', ...args]);
  assert.equal(r.code, 0, r.stderr.slice(-2000));
  return r.stdout.trim().split('\n').flatMap((l) => (JSON.parse(l) as { sequences: { sum: number }[] }).sequences.map((s) => s.sum));
}
