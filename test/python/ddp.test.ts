/**
 * Data parallelism over 2 CPU processes (gloo) through the standard launchers (issue 11 point 6):
 * `python -m torch.distributed.run --nproc-per-node 2 -m dap_train train RUN_DIR` and `accelerate launch
 * --multi_gpu --num_processes 2 -m dap_train ...` — with the file rendezvous and USE_LIBUV=0 that Debian's
 * libuv-less torch build needs (CONTRACT.md §1) — give the same loss curve as 1 process with the same
 * global batch (1e-5), for an even split (batch 4 → 2 + 2, accelerate) and an
 * uneven one with gradient accumulation (batch 3 → 2 + 1, 2 micro-batches per step) that is also cancelled
 * through the host's cancel file (launcher exit 0) and resumed with torchrun (checkpoints gathered with
 * torch.distributed.checkpoint); only rank 0 writes events; SIGTERM to the launcher cancels both ranks at
 * the same step with one checkpoint.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CheckpointEvent, StepEvent, TrainEvent } from '../../src/train/runs/events';
import { eventSchemaErrors } from '../../src/train/runs/eventSchema';
import { metricsOf, prepareRun, runDapTrain, startPython, tempDir, tinyGpt2, writeJsonl } from './fixtures';

const LIBUV_LESS = { USE_LIBUV: '0', TORCH_DISABLE_SHARE_RDZV_TCP_STORE: '1' };
// A fresh rendezvous file per launch: the file of a finished launch is closed and refuses another one.
let launches = 0;
const torchrun = (runDir: string) => ['-m', 'torch.distributed.run', '--nnodes', '1', '--nproc-per-node', '2', '--rdzv-backend', 'c10d',
  '--rdzv-endpoint', join(runDir, `.rendezvous-${++launches}`), '--rdzv-conf', 'store_type=file', '-m', 'dap_train', 'train', runDir];
const accelerate = (runDir: string) => ['-m', 'accelerate.commands.launch', '--multi_gpu', '--num_processes', '2', '--num_machines', '1',
  '--mixed_precision', 'no', '--dynamo_backend', 'no', '--rdzv_backend', 'c10d', '--rdzv_conf', 'store_type=file', '-m', 'dap_train', 'train', runDir];
const curve = (events: TrainEvent[]) => events.filter((e): e is StepEvent => e.type === 'step').map((e) => ({ loss: e.metrics.loss, grad: e.metrics.grad_norm, tokens: e.metrics.num_tokens, acc: e.metrics['rewards/accuracies'] }));

for (const [launcher, batchSize, gradAccum, cancelAt] of [['accelerate launch', 4, 1, 0], ['torchrun', 3, 2, 2]] as const) {
  const resumed = cancelAt > 0 ? `, cancelled at step ${cancelAt} through the cancel file and resumed` : '';
  const launch = launcher === 'torchrun' ? torchrun : accelerate;
  test(`${launcher}: 2 processes = 1 process with the same global batch (batch ${batchSize}, accumulation ${gradAccum}${resumed})`, async () => {
    const dir = tempDir(`ddp-${batchSize}`);
    const model = await tinyGpt2(dir, 13);
    const rows = Array.from({ length: 20 }, (_, i) => ({ prompt: `Q${i}: ${'z'.repeat(i % 5)}`, chosen: ` right ${i % 4}`, rejected: ` wrong${'!'.repeat(i % 3)}` }));
    const data = writeJsonl(join(dir, 'pairs.jsonl'), rows);
    const config = { data, model, method: 'dpo' as const, epochs: 2, batchSize, gradAccum, lr: 1e-2, seed: 6, maxSteps: 5 };
    const one = await prepareRun({ ...config, runId: 'one' }, dir);
    const two = await prepareRun({ ...config, runId: 'two' }, dir);
    const a = await runDapTrain(['train', one.runDir]);
    assert.equal(a.code, 0, a.stderr.slice(-2000));
    const b = await startPython(launch(two.runDir), { env: LIBUV_LESS, events: true,
      onEvent: (e) => { if (cancelAt && e.type === 'step' && e.step === cancelAt) writeFileSync(join(two.runDir, 'cancel'), ''); } }).done;
    assert.equal(b.code, 0, b.stderr.slice(-3000));
    if (cancelAt) {
      // The host's cancel file stops both ranks at one step boundary, and the launcher exits 0 too.
      const ckpt = b.events.find((e): e is CheckpointEvent => e.type === 'checkpoint');
      assert.equal(ckpt?.reason, 'cancel');
      assert.ok(ckpt!.step < 5, `cancelled at step ${ckpt!.step}`);
      assert.ok(!existsSync(join(two.runDir, 'cancel')), 'the request is consumed');
      const c = await startPython([...torchrun(two.runDir), '--resume', ckpt!.path], { env: LIBUV_LESS }).done;
      assert.equal(c.code, 0, c.stderr.slice(-3000));
    }
    const events = metricsOf(two.runDir);
    for (const e of events) assert.deepEqual(eventSchemaErrors(e), []);
    const started = events.filter((e) => e.type === 'started');
    assert.equal(started.length, cancelAt ? 2 : 1, 'only rank 0 writes events');
    assert.equal(started[0].type === 'started' && started[0].processes, 2);
    const x = curve(a.events), y = curve(events);
    assert.equal(y.length, 5);
    assert.equal(x.length, 5);
    x.forEach((s, i) => {
      assert.ok(Math.abs(s.loss - y[i].loss) < 1e-5, `step ${i + 1} loss: 1 process ${s.loss}, 2 processes ${y[i].loss}`);
      assert.ok(Math.abs(s.grad - y[i].grad) < 1e-5, `step ${i + 1} grad_norm: ${s.grad} vs ${y[i].grad}`);
      assert.equal(s.tokens, y[i].tokens);
      assert.ok(Math.abs(s.acc - y[i].acc) < 1e-9);
    });
    assert.ok(existsSync(join(two.runDir, 'model', 'model.safetensors')));
  });
}

test('SIGTERM to the launcher stops both ranks at the same step boundary with one checkpoint', async () => {
  const dir = tempDir('ddp-cancel');
  const model = await tinyGpt2(dir, 14);
  const data = writeJsonl(join(dir, 'pairs.jsonl'), Array.from({ length: 40 }, (_, i) => ({ prompt: `Q${i}:`, chosen: ' y', rejected: ' n' })));
  const { runDir } = await prepareRun({ data, model, epochs: 5, batchSize: 2, lr: 1e-3, runId: 'cancel' }, dir);
  let signalled = 0;
  const run = startPython(torchrun(runDir), { env: LIBUV_LESS, events: true,
    onEvent: (e, child) => {
      if (e.type !== 'step' || e.step !== 2 || signalled) return;
      signalled = Date.now();
      child.kill('SIGTERM');
    } });
  const r = await run.done; // torchrun forwards the signal, the workers finish cleanly, torchrun itself exits 1
  assert.ok(signalled > 0);
  assert.ok((Date.now() - signalled) / 1000 < 30, 'all processes ended within 30 s');
  const events = metricsOf(runDir);
  const ckpts = events.filter((e): e is CheckpointEvent => e.type === 'checkpoint');
  assert.equal(ckpts.length, 1, r.stderr.slice(-2000));
  assert.equal(ckpts[0].reason, 'cancel');
  const fin = events.at(-1);
  assert.ok(fin?.type === 'finished' && fin.summary.cancelled, 'the run ends as cancelled');
  assert.ok(existsSync(join(ckpts[0].path, 'trainer_state.json')));
});
