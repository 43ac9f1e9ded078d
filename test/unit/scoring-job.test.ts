/**
 * The review panel's model scoring through the worker protocol (src/train/worker/scoringJob.ts) against the
 * real worker bundle (dist/worker.js): a `score` message for a task file + log and a tiny model folder
 * answers with typed `progress` events and `scored` scores equal to scoring the same request in this
 * process; a model folder that does not exist fails with the worker's own message (no stderr parsing);
 * aborting stops the worker and leaves no process behind. Also: the panel's sources map to the requests
 * `dap review` makes, with its defaults.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { appendEvent } from '../../src/core/annotationLog';
import { loadReview } from '../../src/core/review/load';
import { scoreForReview } from '../../src/train/flagging/index';
import { SCORING_DEFAULTS } from '../../src/train/flagging/scores';
import { scoreInWorker } from '../../src/train/worker/scoringJob';
import { scoreMessageOf, scoreRequestOf } from '../../src/host/review/scoring';
import { ensureWorkerBundle, tinyModelFixture, workerBundle, writeJsonl } from './train-fixtures';

before(ensureWorkerBundle);

/** A task file of three pair items, each judged once, and a tiny model folder. */
async function fixture(): Promise<{ taskFile: string; logFile: string; modelDir: string }> {
  const { dir, modelDir } = await tinyModelFixture('scoring-job', 11, 32);
  const taskFile = writeJsonl(join(dir, 'pairs.jsonl'), [
    { id: 'p1', prompt: 'Say it', responses: ['aaaa', 'zq9!'] },
    { id: 'p2', prompt: 'Go', responses: ['abc', 'xyz'] },
    { id: 'p3', prompt: 'What?', responses: ['yes', 'no'] },
  ]);
  const logFile = join(dir, 'pairs.annotations.jsonl');
  const ts = '2026-01-01T00:00:00.000Z';
  for (const [item, choice] of [['p1', 'a'], ['p2', 'b'], ['p3', 'a']] as const) {
    await appendEvent(logFile, { v: 1, kind: 'pair', item, annotator: 'ann', shown: [0, 1], choice, ts });
  }
  return { taskFile, logFile, modelDir };
}

test('a score message answers with typed progress and the same scores as scoring in-process', async () => {
  const { taskFile, logFile, modelDir } = await fixture();
  const request = { kind: 'reference_free' as const, model: modelDir, seed: 0 };
  const progress: string[] = [];
  const scored = await scoreInWorker({ workerPath: workerBundle, score: { taskFile, logFile, request, backend: 'wasm' }, onProgress: (m) => progress.push(m) });
  assert.ok(progress.some((m) => /^backend wasm/.test(m)), progress.join('\n'));
  assert.ok(progress.some((m) => /scoring 3 items/.test(m)), progress.join('\n'));
  assert.match(scored.method, /^reference-free: /);

  const { input } = await loadReview(taskFile, logFile);
  const here = await scoreForReview(input, request, { backend: 'wasm', onProgress: () => undefined });
  assert.equal(scored.method, here.method);
  assert.equal(scored.scores.length, 3);
  assert.deepEqual(scored.scores.map((s) => s.item), here.scores.map((s) => s.item));
  scored.scores.forEach((s, i) => {
    const expected = here.scores[i];
    assert.equal(s.scorer, expected.scorer);
    s.scores.forEach((r, j) => assert.ok(Math.abs(r - expected.scores[j]) < 1e-6, `${s.item}[${j}]: ${r} vs ${expected.scores[j]}`));
  });
});

test('a failing score request rejects with the worker\'s own error message', async () => {
  const { taskFile, logFile, modelDir } = await fixture();
  const missing = join(modelDir, 'not-there');
  await assert.rejects(
    scoreInWorker({ workerPath: workerBundle, score: { taskFile, logFile, request: { kind: 'reference_free', model: missing, seed: 0 }, backend: 'wasm' }, onProgress: () => undefined }),
    (e: Error) => e.message.includes(missing) && !/exited with/.test(e.message),
  );
});

test('aborting a scoring job stops the worker (no process left behind)', async () => {
  const { taskFile, logFile } = await fixture();
  const controller = new AbortController();
  const mark = `DAP_TEST_MARK=scoring-abort-${process.pid}`;
  const job = scoreInWorker({
    workerPath: workerBundle,
    // k-fold from the built-in model: minutes of work, aborted at its first progress line.
    score: { taskFile, logFile, request: { kind: 'kfold', k: 2, beta: 0.1, epochs: 50, seed: 0 }, backend: 'wasm', train: { sftEpochs: 50 } },
    onProgress: () => controller.abort(),
    signal: controller.signal,
    env: { DAP_TEST_MARK: mark.split('=')[1] },
  });
  await assert.rejects(job, /scoring stopped/);
  assert.deepEqual(processesWith(mark), [], 'the aborted worker is gone');
});

/** Pids of this machine's processes whose environment holds `entry` (Linux /proc). */
function processesWith(entry: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, 'utf8').split('\0').includes(entry)) pids.push(Number(name));
    } catch {
      // Gone, or not ours to read.
    }
  }
  return pids;
}

test('the panel\'s score sources are the requests dap review makes, with its defaults', () => {
  assert.deepEqual(scoreRequestOf({ kind: 'run', dir: '/r' }), { kind: 'run', dir: '/r', beta: SCORING_DEFAULTS.beta });
  assert.deepEqual(scoreRequestOf({ kind: 'model', dir: '/m' }), { kind: 'reference_free', model: '/m', seed: 0 });
  assert.deepEqual(scoreRequestOf({ kind: 'kfold', k: 3 }), { kind: 'kfold', k: 3, beta: 0.1, epochs: 6, seed: 0 });
  assert.deepEqual(scoreRequestOf({ kind: 'kfold', k: 4, dir: '/m' }), { kind: 'kfold', k: 4, model: '/m', beta: 0.1, epochs: 6, seed: 0 });
  assert.deepEqual(scoreMessageOf('/t.jsonl', '/t.annotations.jsonl', { kind: 'kfold', k: 3 }).train, { sftEpochs: 8 });
});
