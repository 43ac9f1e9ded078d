/**
 * The VS Code host's training job launcher (src/train/worker/trainingJob.ts) and run-folder reader
 * (src/train/runs/) against the real worker bundle (dist/worker.js) on the sample data with
 * a tiny built-in model: cancel → the worker checkpoints and exits 0 with a `finished` (cancelled) event;
 * a worker killed with SIGKILL → a `failed` event is appended to metrics.jsonl; the runs listing reads
 * both back with the right status; no worker process is left behind. Also the pure helpers of the
 * training commands (data file of a clicked log, epochs for a data size, streaming line count), and the
 * LoRA choice of "DAP: Train…" (or `{"lora": {"r": 8}}` in dapStudio.train.overrides) reaching the worker,
 * and what "Export model" offers for a finished LoRA run (merged model first, then the adapter) and for a
 * cancelled one (its checkpoint's adapter/, with the base model the adapter names).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { TrainingJob } from '../../src/train/worker/trainingJob';
import { exportedMessage, exportSourcesOf, modelFolderOf } from '../../src/train/runs/exports';
import { listRuns, statusOf } from '../../src/train/runs/listing';
import { loraNotesOf } from '../../src/train/runs/lora';
import { FINETUNE_CHOICES, countLines, dataOf, epochsFor, loraFieldsOf } from '../../src/host/training/trainInputs';
import { newRunId } from '../../src/train/config/index';
import type { TrainEvent } from '../../src/train/runs/events';
import { ensureWorkerBundle, sampleTasks, tinyModelFixture, tinyShape, toyPairs, workerBundle, writeJsonl } from './train-fixtures';

const worker = workerBundle;

// Rebuild when any source is newer than the bundle.
before(ensureWorkerBundle);

function tinyConfig(out: string, runId: string) {
  return {
    data: sampleTasks,
    method: 'dpo' as const,
    builtin: tinyShape(64),
    sftEpochs: 1,
    epochs: 1,
    maxSteps: 200,
    backend: 'wasm' as const,
    out,
    runId,
  };
}

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function waitFor(job: TrainingJob, match: (e: TrainEvent) => boolean): Promise<TrainEvent> {
  return new Promise((resolve, reject) => {
    const found = job.events.find(match);
    if (found) return resolve(found);
    const off = job.onEvent((e) => {
      if (match(e)) {
        off();
        resolve(e);
      }
    });
    void job.done.then(() => reject(new Error(`job ended first: ${JSON.stringify(job.events.at(-1))}\n${job.output.join('\n')}`)));
  });
}

test('cancel: the worker writes a checkpoint, reports a cancelled finish and exits 0', async () => {
  const out = mkdtempSync(join(tmpdir(), 'dap-job-'));
  const job = new TrainingJob({ workerPath: worker, config: tinyConfig(out, 'cancel-me'), cancelGraceMs: 30000 });
  await waitFor(job, (e) => e.type === 'step' && e.step >= 3);
  await job.cancel();
  assert.equal(job.exitCode, 0, job.output.join('\n'));
  assert.equal(alive(job.pid), false, 'no worker left');
  const last = job.events.at(-1)!;
  assert.equal(last.type, 'finished');
  assert.equal(last.type === 'finished' && last.summary.cancelled, true);
  const ckpt = job.events.find((e) => e.type === 'checkpoint');
  assert.ok(ckpt && ckpt.type === 'checkpoint' && ckpt.reason === 'cancel' && existsSync(ckpt.path), 'cancel checkpoint on disk');
  // metrics.jsonl on disk holds the same events the host received, in order.
  const onDisk = readFileSync(join(job.runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as TrainEvent);
  assert.deepEqual(onDisk.map((e) => e.type), job.events.map((e) => e.type));
  const [run] = listRuns(join(out, 'runs'));
  assert.equal(run.runId, 'cancel-me');
  assert.equal(run.status, 'cancelled');
  assert.equal(run.config?.method, 'dpo');
  assert.ok(modelFolderOf(run), 'a folder to export');
});

test('a worker killed with SIGKILL: the host records a failed event; the run lists as failed', async () => {
  const out = mkdtempSync(join(tmpdir(), 'dap-job-'));
  const job = new TrainingJob({ workerPath: worker, config: tinyConfig(out, 'killed') });
  await waitFor(job, (e) => e.type === 'step');
  process.kill(job.pid!, 'SIGKILL');
  await job.done;
  assert.equal(job.exitSignal, 'SIGKILL');
  const last = job.events.at(-1)!;
  assert.equal(last.type, 'failed');
  assert.match(last.type === 'failed' ? last.error : '', /exited unexpectedly \(signal SIGKILL\)/);
  const [run] = listRuns(join(out, 'runs'));
  assert.equal(run.status, 'failed');
  assert.match(run.failed?.error ?? '', /SIGKILL/);
});

test('a worker that cannot start its run reports the error as a failed event', async () => {
  const out = mkdtempSync(join(tmpdir(), 'dap-job-'));
  const job = new TrainingJob({ workerPath: worker, config: { ...tinyConfig(out, 'nodata'), data: join(out, 'missing.jsonl') } });
  await job.done;
  const last = job.events.at(-1)!;
  assert.equal(last.type, 'failed');
  assert.match(last.type === 'failed' ? last.error : '', /missing\.jsonl/);
  assert.equal(listRuns(join(out, 'runs'))[0].status, 'failed');
});

test('statusOf: final events decide; otherwise fresh = running, stale = interrupted', () => {
  const now = 1_000_000_000;
  const step: TrainEvent = { type: 'step', ts: '', stage: 'dpo', step: 1, totalSteps: 2, metrics: {} };
  assert.equal(statusOf([step], now - 1000, false, now), 'running');
  assert.equal(statusOf([step], now - 3_600_000, false, now), 'interrupted');
  assert.equal(statusOf([step], now - 3_600_000, true, now), 'running');
  assert.equal(statusOf([step, { type: 'failed', ts: '', error: 'x' }], now, true, now), 'failed');
});

test('dataOf: a log maps back to its task file (NAME.tasks.jsonl first, else NAME.jsonl); other files are data', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dap-inputs-'));
  writeFileSync(join(dir, 'arith.tasks.jsonl'), '');
  assert.deepEqual(dataOf(join(dir, 'arith.annotations.jsonl')), { data: join(dir, 'arith.tasks.jsonl'), log: join(dir, 'arith.annotations.jsonl') });
  writeFileSync(join(dir, 'pairs.jsonl'), '');
  assert.deepEqual(dataOf(join(dir, 'pairs.annotations.jsonl')), { data: join(dir, 'pairs.jsonl'), log: join(dir, 'pairs.annotations.jsonl') });
  assert.deepEqual(dataOf(join(dir, 'pairs.jsonl')), { data: join(dir, 'pairs.jsonl') });
});

test('epochsFor shrinks with the data; countLines counts non-blank lines (CRLF, no final newline) by streaming', async () => {
  assert.deepEqual([1, 100, 101, 500, 501, 5000, 5001].map(epochsFor), [6, 6, 3, 3, 2, 2, 1]);
  const dir = mkdtempSync(join(tmpdir(), 'dap-inputs-'));
  const file = join(dir, 'x.jsonl');
  writeFileSync(file, '{"a":1}\r\n\r\n  \n{"a":2}\n{"a":3}');
  assert.equal(await countLines(file), 3);
  const sample = readFileSync(sampleTasks, 'utf8').split('\n').filter((l) => l.trim()).length;
  assert.equal(await countLines(sampleTasks), sample);
  assert.match(newRunId('dpo', new Date('2026-01-02T03:04:05Z')), /^dpo-20260102-030405-[0-9a-f]{4}$/);
});

test('LoRA: the "DAP: Train…" choice (or {"lora": {"r": 8}} in the overrides setting) reaches the worker, which writes adapter/; Export offers the merged model, then the adapter', async () => {
  assert.deepEqual(FINETUNE_CHOICES.map((c) => c.r), [0, 8, 16]);
  assert.deepEqual(loraFieldsOf(0), {});
  assert.deepEqual(loraFieldsOf(undefined), {});
  const { dir, modelDir } = await tinyModelFixture('job-lora', 3, 32);
  const data = writeJsonl(join(dir, 'pairs.jsonl'), toyPairs(8));
  const config = { data, model: modelDir, method: 'dpo' as const, maxSteps: 2, batchSize: 4, maxLength: 32, backend: 'wasm' as const, out: dir, runId: 'lora', ...loraFieldsOf(8) };
  const job = new TrainingJob({ workerPath: worker, config });
  await job.done;
  assert.equal(job.exitCode, 0, job.output.join('\n'));
  const started = job.events.find((e) => e.type === 'started');
  assert.ok(started?.type === 'started');
  assert.deepEqual(started.config.lora, { r: 8, alpha: 8, targetModules: ['c_attn'] });
  assert.ok(existsSync(join(job.runDir, 'adapter', 'adapter_model.safetensors')) && existsSync(join(job.runDir, 'model', 'model.safetensors')));

  // The runs view and "Export model" read the finished LoRA run back from disk.
  const [run] = listRuns(join(dir, 'runs'));
  assert.equal(run.status, 'finished');
  assert.deepEqual(loraNotesOf(run.config), { short: 'LoRA r=8', long: 'LoRA r=8, α=8, targets c_attn' });
  const sources = exportSourcesOf(run);
  assert.deepEqual(sources.map((s) => [s.kind, s.folder, s.exportName]), [
    ['model', join(job.runDir, 'model'), 'lora-model'],
    ['adapter', join(job.runDir, 'adapter'), 'lora-adapter'],
  ]);
  assert.equal(sources[0].label, 'Merged model (LoRA adapters merged in)', 'the merged model is the default choice');
  assert.equal(sources[1].base, modelDir, 'the adapter names the model folder as its base');
  assert.equal(modelFolderOf(run), join(job.runDir, 'model'));
  const adapterMessage = exportedMessage('lora', sources[1], '/x/lora-adapter');
  assert.ok(adapterMessage.endsWith(`PEFT adapter, not a full model: load it on top of its base model ${modelDir}.`), adapterMessage);
  assert.equal(exportedMessage('lora', sources[0], '/x/lora-model'), 'Exported model of lora to /x/lora-model');
});

test('LoRA checkpoint: a cancelled LoRA run exports its checkpoint adapter/ (no model/) and names the base it needs', async () => {
  const { dir, modelDir } = await tinyModelFixture('job-lora-ckpt', 3, 32);
  const data = writeJsonl(join(dir, 'pairs.jsonl'), toyPairs(8));
  const config = { data, model: modelDir, method: 'dpo' as const, epochs: 200, maxSteps: 400, batchSize: 4, maxLength: 32, backend: 'wasm' as const, out: dir, runId: 'lora-cancel', ...loraFieldsOf(8) };
  const job = new TrainingJob({ workerPath: worker, config, cancelGraceMs: 30000 });
  await waitFor(job, (e) => e.type === 'step' && e.step >= 2);
  await job.cancel();
  assert.equal(job.exitCode, 0, job.output.join('\n'));
  const [run] = listRuns(join(dir, 'runs'));
  assert.equal(run.status, 'cancelled');
  assert.equal(existsSync(join(job.runDir, 'model')), false, 'a cancelled run has no final model');
  const ckpt = run.finished?.checkpoint;
  assert.ok(ckpt && existsSync(join(ckpt, 'adapter', 'adapter_config.json')) && !existsSync(join(ckpt, 'model')), 'the LoRA checkpoint holds adapter/ only');
  const sources = exportSourcesOf(run);
  assert.equal(sources.length, 1);
  assert.deepEqual([sources[0].kind, sources[0].folder, sources[0].base, sources[0].fromCheckpoint], ['adapter', join(ckpt, 'adapter'), modelDir, true]);
  assert.equal(sources[0].exportName, `lora-cancel-${basename(ckpt)}-adapter`);
  assert.equal(modelFolderOf(run), join(ckpt, 'adapter'), 'reveal/export go to the adapter, not a missing model/');
  const message = exportedMessage('lora-cancel', sources[0], '/x/y');
  assert.ok(message.includes(`the LoRA adapter of checkpoint ${basename(ckpt)}`) && message.endsWith(`on top of its base model ${modelDir}.`), message);

  // A full (non-LoRA) checkpoint still exports the checkpoint folder; a missing adapter base is said so.
  const fullCkpt = join(dir, 'full-ckpt');
  mkdirSync(join(fullCkpt, 'model'), { recursive: true });
  const full = exportSourcesOf({ ...run, finished: { ...run.finished!, checkpoint: fullCkpt } });
  assert.deepEqual(full.map((s) => [s.kind, s.folder]), [['checkpoint', fullCkpt]]);
  const noBase = join(dir, 'nobase-ckpt');
  mkdirSync(join(noBase, 'adapter'), { recursive: true });
  writeFileSync(join(noBase, 'adapter', 'adapter_config.json'), JSON.stringify({ r: 8, peft_type: 'LORA' }));
  const [orphan] = exportSourcesOf({ ...run, finished: { ...run.finished!, checkpoint: noBase } });
  assert.equal(orphan.base, undefined);
  assert.match(exportedMessage('r', orphan, '/t'), /load it on top of its base model \(adapter_config\.json names none\)\.$/);
});
