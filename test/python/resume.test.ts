/**
 * Cancel, resume and failure on the torch executor (issue 11 point 5): SIGTERM during a run makes it
 * write a checkpoint at the next step boundary and exit 0 (well within 30 s), `--resume CKPT` continues
 * to exactly the losses and final weights of an uninterrupted run (fp32, CPU; across an epoch boundary),
 * and a crash ends metrics.jsonl with a `failed` event carrying the Python traceback's last lines (exit 1);
 * a run folder that breaks the contract names the file and field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CheckpointEvent, FailedEvent, FinishedEvent, StepEvent, TrainEvent } from '../../src/train/runs/events';
import { eventSchemaErrors } from '../../src/train/runs/eventSchema';
import { metricsOf, prepareRun, runDapTrain, startPython, tempDir, tinyLlama, writeJsonl } from './fixtures';

const losses = (events: TrainEvent[]) => events.filter((e): e is StepEvent => e.type === 'step').map((e) => [e.step, e.metrics.loss, e.metrics.grad_norm]);

test('SIGTERM checkpoints at the next step and exits 0; --resume reproduces the uninterrupted run', async () => {
  const dir = tempDir('resume');
  const model = await tinyLlama(dir, 8);
  const rows = Array.from({ length: 14 }, (_, i) => ({ prompt: `P${i}:`, chosen: ` good ${i % 3}`, rejected: ` bad${'?'.repeat(i % 4)}` }));
  const data = writeJsonl(join(dir, 'pairs.jsonl'), rows);
  const config = { data, model, method: 'dpo' as const, epochs: 2, batchSize: 3, gradAccum: 2, lr: 5e-3, seed: 4, schedule: 'cosine' as const };
  const full = await prepareRun({ ...config, runId: 'full' }, dir);
  const cut = await prepareRun({ ...config, runId: 'cut' }, dir);

  const straight = await runDapTrain(['train', full.runDir]);
  assert.equal(straight.code, 0, straight.stderr.slice(-2000));
  const total = straight.events.filter((e) => e.type === 'step').length;
  assert.ok(total >= 4, `${total} steps`);

  let signalled = 0;
  const first = startPython(['-m', 'dap_train', 'train', cut.runDir], {
    events: true,
    onEvent: (e, child) => { if (e.type === 'step' && e.step === 2 && !signalled) { signalled = Date.now(); child.kill('SIGTERM'); } },
  });
  const part = await first.done;
  const exitedAfter = (Date.now() - signalled) / 1000;
  assert.equal(part.code, 0, part.stderr.slice(-2000));
  assert.ok(signalled > 0, 'the run was signalled');
  assert.ok(exitedAfter < 30, `exited ${exitedAfter} s after SIGTERM`);
  const ckpt = part.events.find((e): e is CheckpointEvent => e.type === 'checkpoint');
  assert.equal(ckpt?.reason, 'cancel');
  const fin = part.events.at(-1) as FinishedEvent;
  assert.equal(fin.type, 'finished');
  assert.equal(fin.summary.cancelled, true);
  assert.equal(fin.summary.checkpoint, ckpt!.path);
  assert.ok(ckpt!.step < total, 'cancelled before the end');
  const state = JSON.parse(readFileSync(join(ckpt!.path, 'trainer_state.json'), 'utf8'));
  assert.equal(state.step, ckpt!.step);

  const resumed = await runDapTrain(['train', cut.runDir, '--resume', ckpt!.path]);
  assert.equal(resumed.code, 0, resumed.stderr.slice(-2000));
  const started = resumed.events.find((e) => e.type === 'started');
  assert.equal(started?.type === 'started' && started.startStep, ckpt!.step);
  const all = metricsOf(cut.runDir);
  for (const e of all) assert.deepEqual(eventSchemaErrors(e), []);
  assert.deepEqual(losses(all), losses(straight.events), 'the same loss and gradient norm at every step');
  assert.deepEqual(readFileSync(join(cut.runDir, 'model', 'model.safetensors')), readFileSync(join(full.runDir, 'model', 'model.safetensors')),
    'bit-identical final weights');
});

test('a crash gives a failed event with the traceback\'s last lines and exit 1; contract errors name file and field', async () => {
  const dir = tempDir('crash');
  const model = await tinyLlama(dir, 9);
  const data = writeJsonl(join(dir, 'pairs.jsonl'), Array.from({ length: 6 }, (_, i) => ({ prompt: `P${i}:`, chosen: ' a', rejected: ' b' })));
  const { runDir } = await prepareRun({ data, model, epochs: 1, batchSize: 2, runId: 'crash' }, dir);
  // A token id beyond the model's 259-row embedding makes torch raise inside the forward pass.
  const file = join(runDir, 'data', 'dpo.train.jsonl');
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  const bad = JSON.parse(lines[0]);
  bad.sequences[0].completion[0] = 100000;
  writeFileSync(file, [JSON.stringify(bad), ...lines.slice(1)].join('\n') + '\n');
  const r = await runDapTrain(['train', runDir]);
  assert.equal(r.code, 1);
  const failed = metricsOf(runDir).at(-1) as FailedEvent;
  assert.equal(failed.type, 'failed');
  assert.deepEqual(eventSchemaErrors(failed), []);
  assert.match(failed.error, /IndexError: index out of range/);
  assert.match(failed.stack!, /Traceback \(most recent call last\)|File ".*\.py", line \d+/);
  assert.match(failed.stack!, /IndexError: index out of range/);
  assert.ok(failed.stack!.split('\n').length <= 20, 'the last lines only');
  assert.deepEqual(r.events.at(-1), failed, 'the same event on stdout');

  const cfgPath = join(runDir, 'config.json');
  const cfg = JSON.parse(readFileSync(cfgPath, 'utf8'));
  delete cfg.batchSize;
  writeFileSync(cfgPath, JSON.stringify(cfg));
  const r2 = await runDapTrain(['train', runDir]);
  assert.equal(r2.code, 1);
  const f2 = metricsOf(runDir).at(-1) as FailedEvent;
  assert.equal(f2.error, `${cfgPath}: batchSize: missing`);
});
