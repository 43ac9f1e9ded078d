/**
 * Saved review scores on real files (src/core/review/persist.ts): the path rule, a write/read round trip,
 * freshness after appended judgments (counted; confirms do not count), a replaced log, a changed task
 * file, and saved scores of another task file with the same stem being ignored.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendEvent } from '../../src/core/annotationLog';
import { readSavedScores, savedScoresPath, scoresFreshness, snapshotFile, writeSavedScores, type SavedScores } from '../../src/core/review/persist';

const ts = '2026-01-01T00:00:00.000Z';

async function fixture(): Promise<{ dir: string; tasks: string; log: string; saved: SavedScores }> {
  const dir = mkdtempSync(join(tmpdir(), 'dap-review-persist-'));
  const tasks = join(dir, 'arith.tasks.jsonl');
  const log = join(dir, 'arith.annotations.jsonl');
  writeFileSync(tasks, ['a', 'b'].map((id) => JSON.stringify({ id, prompt: `${id}?`, responses: ['x', 'y'] }) + '\n').join(''));
  await appendEvent(log, { v: 1, kind: 'pair', item: 'a', annotator: 'ann', shown: [0, 1], choice: 'a', ts });
  await appendEvent(log, { v: 1, kind: 'pair', item: 'b', annotator: 'ann', shown: [1, 0], choice: 'a', ts });
  const saved: SavedScores = {
    version: 1,
    taskFile: tasks,
    logFile: log,
    source: { kind: 'kfold', k: 3 },
    flaggedMethod: 'k-fold DPO (k = 3)',
    scoredAt: ts,
    log: await snapshotFile(log, true),
    task: await snapshotFile(tasks, false),
    scores: [{ item: 'a', scores: [-1.5, 0.25], scorer: 'kfold', fold: 2 }, { item: 'b', scores: [0, 1], scorer: 'kfold', fold: 0 }],
  };
  return { dir, tasks, log, saved };
}

test('saved scores path: workspace .dap/review/<stem>.scores.json, else beside the task file', () => {
  assert.equal(savedScoresPath('/w/data/arith.tasks.jsonl', '/w'), join('/w', '.dap', 'review', 'arith.scores.json'));
  assert.equal(savedScoresPath('/w/data/pairs.jsonl'), join('/w/data', '.dap', 'review', 'pairs.scores.json'));
});

test('round trip, then stale after appended judgments (confirms do not count), with the count in the note', async () => {
  const { dir, tasks, log, saved } = await fixture();
  assert.equal(saved.log.labelEvents, 2);
  const file = savedScoresPath(tasks, dir);
  await writeSavedScores(file, saved);
  const back = await readSavedScores(file, tasks);
  assert.deepEqual(back, saved);
  assert.deepEqual(await scoresFreshness(back!, log), { stale: false, newerJudgments: 0, note: '' });

  await appendEvent(log, { v: 1, kind: 'confirm', item: 'a', annotator: 'ann', reason: 'model_flagged', ts });
  assert.equal((await scoresFreshness(back!, log)).stale, false, 'a confirm does not change the labels');

  await appendEvent(log, { v: 1, kind: 'pair', item: 'a', annotator: 'bob', shown: [0, 1], choice: 'b', ts });
  await appendEvent(log, { v: 1, kind: 'pair', item: 'b', annotator: 'bob', shown: [0, 1], choice: 'b', ts });
  await appendEvent(log, { v: 1, kind: 'undo', item: 'b', annotator: 'bob', ts });
  assert.deepEqual(await scoresFreshness(back!, log), { stale: true, newerJudgments: 3, note: 'scored before 3 newer judgments — re-score' });
});

test('stale when the log is replaced or the task file changes; ignored for another task file of the same stem', async () => {
  const { dir, tasks, log, saved } = await fixture();
  // Same size, different bytes: the append-only prefix no longer matches.
  const text = readFileSync(log, 'utf8');
  writeFileSync(log, text.replace('"choice":"a"', '"choice":"b"'));
  const replaced = await scoresFreshness(saved, log);
  assert.equal(replaced.stale, true);
  assert.match(replaced.note, /annotation log was replaced/);
  writeFileSync(log, text);
  assert.equal((await scoresFreshness(saved, log)).stale, false);

  appendFileSync(tasks, JSON.stringify({ id: 'c', prompt: 'c?', responses: ['x', 'y'] }) + '\n');
  const changed = await scoresFreshness(saved, log);
  assert.equal(changed.stale, true);
  assert.match(changed.note, /task file changed/);

  const file = savedScoresPath(tasks, dir);
  await writeSavedScores(file, saved);
  mkdirSync(join(dir, 'other'));
  assert.equal(await readSavedScores(file, join(dir, 'other', 'arith.tasks.jsonl')), undefined);
  writeFileSync(file, '{not json');
  assert.equal(await readSavedScores(file, tasks), undefined, 'a corrupt file is ignored, not thrown');
});
