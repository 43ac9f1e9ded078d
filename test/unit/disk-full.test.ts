/**
 * A full disk, for real: a small tmpfs (small-disk.ts; skipped with the reason where it cannot be mounted).
 * The annotation log's appends (sync and async) keep succeeding until the disk is full, then fail saying so
 * — every acknowledged event reads back and the failed one saves once space is freed; the annotator's host
 * logic answers `notSaved`; a whole-file write keeps the previous file and leaves no temporary; (nothing applied, the item stays) and saves the retried judgment; a training run
 * whose disk fills fails with a clear `failed` event, keeps its last good checkpoint whole (equal to the
 * same checkpoint of a run on a roomy disk) and resumes to the same model once there is room.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendEvent, appendEventSync, readAnnotationLog } from '../../src/core/annotationLog';
import { writeFileAtomicSync } from '../../src/core/atomicWrite';
import type { AnnotationEvent } from '../../src/core/types';
import { loadPretrained } from '../../src/engine/checkpoint';
import { readHeader } from '../../src/engine/safetensors';
import { AnnotatorController } from '../../src/host/annotator/controller';
import { openLog, openTasks } from '../../src/host/annotator/coreAdapter';
import type { TrainConfig } from '../../src/train/config/index';
import type { TrainEvent } from '../../src/train/runs/events';
import { runTraining } from '../../src/train/pipeline/index';
import { readTrainerState } from '../../src/train/stage/checkpoints';
import type { AnnotatorHostToWebview as HostToWebview } from '../../webview/protocol/annotator';
import { mountSmallDisk, type SmallDisk } from './small-disk';
import { tinyModelFixture, toyPairs, writeJsonl } from './train-fixtures';

const disks: SmallDisk[] = [];
after(() => disks.forEach((d) => d.unmount()));

function disk(kb: number): SmallDisk | string {
  const d = mountSmallDisk(kb);
  if ('skip' in d) return d.skip;
  disks.push(d);
  return d;
}

const event = (item: string): AnnotationEvent => ({ v: 1, item, annotator: 'ann', kind: 'pair', shown: [0, 1], choice: 'a', ts: '2026-01-01T00:00:00.000Z', note: 'n'.repeat(300) });

test('annotation log on a full disk: appends fail saying so, nothing acknowledged is lost, the failed one saves later', async (t) => {
  const d = disk(256);
  if (typeof d === 'string') return t.skip(d);
  const log = join(d.dir, 'tasks.annotations.jsonl');
  const acked: string[] = [];
  for (let i = 0; i < 20; i++) {
    appendEventSync(log, event(`before-${i}`));
    acked.push(`before-${i}`);
  }
  d.fill();
  let failure: Error | undefined;
  let failedItem = '';
  for (let i = 0; i < 200 && !failure; i++) {
    const item = `full-${i}`;
    try {
      if (i % 2 === 0) appendEventSync(log, event(item));
      else await appendEvent(log, event(item));
      acked.push(item); // the last page of the log may still have had room
    } catch (e) {
      failure = e as Error;
      failedItem = item;
    }
  }
  assert.ok(failure, 'an append on a full disk must fail');
  assert.equal(failure.message, `${log}: not saved: the disk is full (ENOSPC); free some space and try again`);
  const whileFull = await readAnnotationLog(log);
  assert.deepEqual(whileFull.events.map((e) => e.event.item), acked, 'every acknowledged event reads back, in order');
  assert.deepEqual(whileFull.issues.filter((i) => i.severity === 'error'), []);
  d.free();
  await appendEvent(log, event(failedItem)); // the retry
  const read = await readAnnotationLog(log);
  assert.deepEqual(read.events.map((e) => e.event.item), [...acked, failedItem]);
  assert.deepEqual(read.issues.filter((i) => i.severity === 'error'), [], 'a short write left at most a torn-line warning');
});

test('a whole-file write on a full disk fails naming the file; the previous file stays and no temporary is left', async (t) => {
  const d = disk(256);
  if (typeof d === 'string') return t.skip(d);
  const file = join(d.dir, 'export.jsonl');
  writeFileAtomicSync(file, 'the previous export\n');
  d.fill();
  assert.throws(() => writeFileAtomicSync(file, 'x'.repeat(200_000)), (e: Error) => e.message === `${file}: not written: the disk is full (ENOSPC); free some space and try again`);
  assert.equal(readFileSync(file, 'utf8'), 'the previous export\n');
  assert.deepEqual(readdirSync(d.dir).filter((n) => n.startsWith('.export.jsonl.')), []);
});

test('annotator on a full disk: the judgment is answered notSaved (nothing applied, same item); the retry saves it', async (t) => {
  const d = disk(256);
  if (typeof d === 'string') return t.skip(d);
  const dir = mkdtempSync(join(tmpdir(), 'dap-full-annot-'));
  const taskFile = writeJsonl(join(dir, 'tasks.jsonl'), [{ id: 'q1', prompt: 'p1', responses: ['a', 'b'] }, { id: 'q2', prompt: 'p2', responses: ['c', 'd'] }]);
  const logFile = join(d.dir, 'tasks.annotations.jsonl');
  const log = await openLog(logFile);
  const posted: HostToWebview[] = [];
  const reasons: string[] = [];
  const c = new AnnotatorController({ tasks: openTasks(taskFile).source, sink: log.sink, existing: log.events, annotator: 'ann', taskFile, post: (m) => posted.push(m),
    now: () => new Date('2026-01-01T00:00:00.000Z'), onNotSaved: (m) => reasons.push(m) });
  await c.handle({ type: 'ready' });
  const first = posted.at(-1);
  assert.ok(first?.type === 'item' && first.item?.id === 'q1');
  const judge = { type: 'judge' as const, requestId: 7, itemId: 'q1', judgment: { kind: 'pair' as const, shown: first.item.shown, choice: 'b' as const }, ms: 900, advance: true };
  d.fill();
  posted.length = 0;
  await c.handle(judge);
  assert.deepEqual(posted, [{ type: 'notSaved', requestId: 7, itemId: 'q1', message: `${logFile}: not saved: the disk is full (ENOSPC); free some space and try again` }]);
  assert.equal(reasons.length, 1);
  assert.equal(c.progress().done, 0, 'nothing applied');
  assert.equal(c.index, 0, 'still on the same item');
  assert.ok(!existsSync(logFile) || readFileSync(logFile, 'utf8') === '', 'nothing written');
  d.free();
  posted.length = 0;
  await c.handle({ ...judge, requestId: 8 }); // what the webview's Retry posts
  assert.deepEqual(posted.map((m) => m.type), ['saved', 'item']);
  assert.equal(c.progress().done, 1);
  const saved = (await readAnnotationLog(logFile)).events.map((e) => e.event);
  assert.deepEqual(saved, [{ v: 1, item: 'q1', annotator: 'ann', ts: '2026-01-01T00:00:00.000Z', kind: 'pair', shown: first.item.shown, choice: 'b', ms: 900 }]);
});

test('training on a disk that fills: a clear failed event, the last good checkpoint whole, and a resume to the same model', async (t) => {
  const d = disk(900);
  if (typeof d === 'string') return t.skip(d);
  const { dir, modelDir } = await tinyModelFixture('full-train', 9, 32);
  const data = writeJsonl(join(dir, 'toy.pairs.jsonl'), toyPairs(12));
  const config = (out: string): TrainConfig => ({ data, model: modelDir, method: 'dpo', out, runId: 'r', backend: 'wasm', lr: 5e-3, batchSize: 4, epochs: 3,
    maxLength: 32, evalFraction: 0.25, warmupRatio: 0, seed: 2, checkpointEvery: 1 });
  const roomy = await runTraining(config(dir));
  assert.equal(roomy.status, 'finished', roomy.error);

  const events: TrainEvent[] = [];
  const full = await runTraining(config(d.dir), { onEvent: (e) => events.push(e) });
  assert.equal(full.status, 'failed');
  assert.match(full.error ?? '', /: not (written|saved): the disk is full \(ENOSPC\); free some space and try again/);
  const failed = events.at(-1);
  assert.ok(failed?.type === 'failed', 'the failed event reaches the caller even when metrics.jsonl cannot take it');
  assert.ok(failed.lastCheckpoint, 'a checkpoint was written before the disk filled');
  const ckpt = failed.lastCheckpoint;
  const state = readTrainerState(ckpt);
  assert.ok(state.step >= 1 && state.step < 9, `failed at step ${state.step}`);
  const same = join(roomy.runDir, 'checkpoints', ckpt.split('/').at(-1) as string);
  for (const f of ['model/model.safetensors', 'optimizer.safetensors', 'optimizer.safetensors.json', 'trainer_state.json']) {
    assert.ok(readFileSync(join(ckpt, f)).equals(readFileSync(join(same, f))), `${f} of the last good checkpoint equals the roomy run's`);
  }
  loadPretrained(join(ckpt, 'model')).model.dispose();
  readHeader(join(ckpt, 'optimizer.safetensors'));
  const logged = events.flatMap((e) => (e.type === 'checkpoint' ? [e.path.split('/').at(-1)] : []));
  assert.deepEqual(readdirSync(join(full.runDir, 'checkpoints')).sort(), logged.sort(), 'only whole, logged checkpoints: no half-written or temporary folder');
  assert.ok(!existsSync(join(full.runDir, 'model')), 'no half-written model/');

  d.resize(64 * 1024);
  const resumed = await runTraining({ data, resume: full.runDir });
  assert.equal(resumed.status, 'finished', resumed.error);
  assert.ok(readFileSync(join(full.runDir, 'model', 'model.safetensors')).equals(readFileSync(join(roomy.runDir, 'model', 'model.safetensors'))));
});

test('a disk that fills under metrics.jsonl: the failed event still reaches the caller, saying it is not in the file', async (t) => {
  const d = disk(900);
  if (typeof d === 'string') return t.skip(d);
  const { dir, modelDir } = await tinyModelFixture('full-metrics', 9, 32);
  const data = writeJsonl(join(dir, 'toy.pairs.jsonl'), toyPairs(12));
  const events: TrainEvent[] = [];
  let filled = false;
  const out = await runTraining({ data, model: modelDir, method: 'dpo', out: d.dir, runId: 'm', backend: 'wasm', batchSize: 4, epochs: 20, maxLength: 32, seed: 2 }, {
    onEvent: (e) => {
      events.push(e);
      if (e.type === 'step' && !filled) {
        filled = true;
        d.fill(); // from now on only metrics.jsonl grows, until its last page is full
      }
    },
  });
  assert.equal(out.status, 'failed');
  const failed = events.at(-1);
  assert.ok(failed?.type === 'failed');
  assert.match(failed.error, /metrics\.jsonl: not saved: the disk is full \(ENOSPC\); free some space and try again \(this event is not in metrics\.jsonl either: \S*metrics\.jsonl: not saved: the disk is full/);
});
