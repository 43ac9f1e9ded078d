/**
 * The annotator's host logic for a team, on real files (no VS Code): other annotators' judgments are
 * withheld until you have judged the item (no anchoring) and shown once you have, or before with the
 * adjudication setting; the "disagreed" filter visits only items you judged unless adjudicating.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AnnotatorController } from '../../src/host/annotator/controller';
import { openLog, openTasks } from '../../src/host/annotator/coreAdapter';
import { appendEvent } from '../../src/core/annotationLog';
import { defaultLogPath } from '../../src/core/project';
import type { AnnotatorHostToWebview, ItemView } from '../../webview/protocol/annotator';

const TS = '2026-01-02T03:04:05.000Z';

/** A task file with `ids` (two responses each), alice's and bob's judgments already in the log. */
async function project(ids: string[], judged: { item: string; annotator: string; shown: number[]; choice: 'a' | 'b' | 'tie' }[]) {
  const dir = mkdtempSync(join(tmpdir(), 'dap-team-'));
  const taskFile = join(dir, 'team.tasks.jsonl');
  writeFileSync(taskFile, ids.map((id) => JSON.stringify({ id, prompt: `prompt ${id}`, responses: [`${id} one`, `${id} two`] })).join('\n') + '\n');
  const logFile = defaultLogPath(taskFile);
  for (const j of judged) await appendEvent(logFile, { v: 1, kind: 'pair', ts: TS, ...j });
  return { taskFile, logFile };
}

async function open(p: { taskFile: string; logFile: string }, annotator: string, extra: { showOthers?: boolean } = {}) {
  const log = await openLog(p.logFile);
  const posted: AnnotatorHostToWebview[] = [];
  const c = new AnnotatorController({ tasks: openTasks(p.taskFile).source, sink: log.sink, existing: log.events, annotator, taskFile: p.taskFile, post: (m) => posted.push(m), now: () => new Date(TS), ...extra });
  const shown = (): ItemView => {
    const m = posted.filter((x) => x.type === 'item').pop();
    assert.ok(m && m.type === 'item' && m.item, 'an item was shown');
    return m.item;
  };
  return { c, shown, posted };
}

test("others' judgments: hidden until you judge the item, then shown in your own labels; the setting shows them before", async () => {
  const p = await project(['x1', 'x2'], [
    { item: 'x1', annotator: 'alice', shown: [0, 1], choice: 'a' }, // alice: response 0
    { item: 'x1', annotator: 'bob', shown: [0, 1], choice: 'b' }, //   bob: response 1 (they disagree)
  ]);
  const carol = await open(p, 'carol');
  await carol.c.handle({ type: 'ready' });
  let x1 = carol.shown();
  assert.equal(x1.id, 'x1');
  assert.deepEqual([x1.others, x1.disagreed, x1.otherJudgments], [0, false, undefined], 'nothing about the others before carol judges');
  await carol.c.handle({ type: 'judge', requestId: 1, itemId: 'x1', judgment: { kind: 'pair', shown: x1.shown, choice: 'tie' }, ms: 3, advance: true });
  assert.equal(carol.shown().id, 'x2');
  await carol.c.handle({ type: 'navigate', requestId: 2, target: { kind: 'prev' } });
  x1 = carol.shown();
  assert.equal(x1.others, 2);
  assert.equal(x1.disagreed, true);
  assert.deepEqual(x1.otherJudgments, [
    { annotator: 'alice', ranking: [[0], [1]], bothBad: false },
    { annotator: 'bob', ranking: [[1], [0]], bothBad: false },
  ]);

  // Adjudication: dave sees them before judging, the setting can also be switched on while open.
  const dave = await open(p, 'dave', { showOthers: true });
  await dave.c.handle({ type: 'ready' });
  assert.deepEqual([dave.shown().others, dave.shown().disagreed, dave.shown().otherJudgments?.length], [3, true, 3]);
  const erin = await open(p, 'erin');
  await erin.c.handle({ type: 'ready' });
  assert.equal(erin.shown().others, 0);
  erin.c.setShowOthers(true);
  await erin.c.show(erin.c.index);
  assert.equal(erin.shown().others, 3);
});

test('the disagreed filter visits only items you judged, unless adjudicating', async () => {
  const p = await project(['y1', 'y2', 'y3'], [
    { item: 'y1', annotator: 'alice', shown: [0, 1], choice: 'a' },
    { item: 'y1', annotator: 'bob', shown: [0, 1], choice: 'b' },
    { item: 'y3', annotator: 'alice', shown: [0, 1], choice: 'a' },
    { item: 'y3', annotator: 'carol', shown: [0, 1], choice: 'b' },
  ]);
  const carol = await open(p, 'carol');
  await carol.c.handle({ type: 'ready' });
  await carol.c.handle({ type: 'setFilter', requestId: 1, filter: 'disagreed' });
  // y1 is disagreed on by alice and bob, but carol has not judged it: only y3 (where carol disagrees).
  assert.equal(carol.shown().id, 'y3');
  await carol.c.handle({ type: 'navigate', requestId: 2, target: { kind: 'prev' } });
  assert.equal(carol.shown().id, 'y3');
  const judge = await open(p, 'judge', { showOthers: true });
  await judge.c.handle({ type: 'ready' });
  await judge.c.handle({ type: 'setFilter', requestId: 1, filter: 'disagreed' });
  assert.equal(judge.shown().id, 'y1');
  await judge.c.handle({ type: 'navigate', requestId: 2, target: { kind: 'next' } });
  assert.equal(judge.shown().id, 'y3');
});
