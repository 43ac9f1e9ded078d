/**
 * The annotator's host logic on real files (no VS Code): task file read through the core's lazy index,
 * judgments appended to a real annotation log, exact events on disk, undo/flag/resume/filters, bad
 * lines, refusal of mismatched input, and the seeded display order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AnnotatorController } from '../../src/host/annotator/controller';
import { openLog, openTasks } from '../../src/host/annotator/coreAdapter';
import { displayOrder } from '../../src/core/displayOrder';
import { annotationLogPath, isAnnotationLog } from '../../src/host/annotator/logPath';
import { resolveJudgments } from '../../src/core/judgments';
import { readTasks } from '../../src/core/tasks';
import { defaultLogPath } from '../../src/core/project';
import type { AnnotatorHostToWebview, ItemView } from '../../webview/protocol/annotator';

const TS = '2026-01-02T03:04:05.000Z';

function taskLines(): string[] {
  return [
    JSON.stringify({ id: 'q1', prompt: 'What is 2+2?', responses: ['4', '5'] }),
    JSON.stringify({ id: 'q2', prompt: 'Reverse abc', responses: ['cba', 'abc', 'The reverse is cba'] }),
    '{"id": "q3", "prompt": "broken", "responses": [1, ',
    JSON.stringify({ prompt: [{ role: 'user', content: 'Hi' }], chosen: [{ role: 'assistant', content: 'Hello!' }], rejected: [{ role: 'assistant', content: 'Go away.' }] }),
    JSON.stringify({ id: 'q5', prompt: 'Upper "ab"', responses: [{ text: 'AB' }, { text: 'ab' }] }),
  ];
}

async function setup(dir: string, annotator = 'ann') {
  const taskFile = join(dir, 'tasks.jsonl');
  if (!existsSync(taskFile)) writeFileSync(taskFile, taskLines().join('\n') + '\n');
  const logFile = annotationLogPath(taskFile, undefined);
  const tasks = openTasks(taskFile);
  const log = await openLog(logFile);
  const posted: AnnotatorHostToWebview[] = [];
  const c = new AnnotatorController({ tasks: tasks.source, sink: log.sink, existing: log.events, annotator, taskFile, post: (m) => posted.push(m), now: () => new Date(TS) });
  const lastItem = () => {
    const m = posted.filter((x) => x.type === 'item').pop();
    assert.ok(m && m.type === 'item');
    return m;
  };
  const logEvents = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []);
  return { taskFile, logFile, c, posted, lastItem, logEvents };
}

test('judge, advance, undo, flag: exact events on disk, saved before the next item', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dap-annot-'));
  const s = await setup(dir);
  assert.equal(s.logFile, join(dir, 'tasks.annotations.jsonl'));
  await s.c.handle({ type: 'ready' });
  const first = s.lastItem().item as ItemView;
  assert.equal(first.id, 'q1');
  assert.deepEqual(first.shown, displayOrder('ann', 'q1', 2));

  await s.c.handle({ type: 'judge', requestId: 1, itemId: 'q1', judgment: { kind: 'pair', shown: first.shown, choice: 'a' }, ms: 1234.4, advance: true, note: 'clear' });
  const kinds = s.posted.slice(-2).map((m) => m.type);
  assert.deepEqual(kinds, ['saved', 'item'], 'saved is sent before the next item');
  assert.deepEqual(s.logEvents(), [{ v: 1, item: 'q1', annotator: 'ann', ts: TS, kind: 'pair', shown: first.shown, choice: 'a', note: 'clear', ms: 1234 }]);

  const second = s.lastItem().item as ItemView;
  assert.equal(second.id, 'q2');
  await s.c.handle({ type: 'judge', requestId: 2, itemId: 'q2', judgment: { kind: 'rank', shown: second.shown, ranking: [[0, 2], [1]] }, ms: 10, advance: true });
  // the bad line comes next: an error item with file:line: field
  const bad = s.lastItem();
  assert.equal(bad.item, null);
  assert.equal(bad.problem?.line, 3);
  assert.equal(bad.problem?.file, s.taskFile);
  assert.ok(bad.problem?.field && bad.problem.message);

  await s.c.handle({ type: 'undo', requestId: 3, itemId: '' });
  assert.equal((s.lastItem().item as ItemView).id, 'q2', 'undo goes back to the undone item');
  await s.c.handle({ type: 'flag', requestId: 4, itemId: 'q2', flagged: true });
  const events = s.logEvents();
  assert.deepEqual(events.slice(1), [
    { v: 1, item: 'q2', annotator: 'ann', ts: TS, kind: 'rank', shown: second.shown, ranking: [[0, 2], [1]], ms: 10 },
    { v: 1, item: 'q2', annotator: 'ann', ts: TS, kind: 'undo' },
    { v: 1, item: 'q2', annotator: 'ann', ts: TS, kind: 'flag', flagged: true },
  ]);
  assert.deepEqual(s.c.progress(), { done: 1, total: 5, indexing: false });

  // The controller's view agrees with the core's resolution of the same log.
  const items = (await readTasks(s.taskFile)).items;
  const resolved = resolveJudgments(events, items);
  assert.deepEqual(resolved.judgments.map((j) => [j.item, j.ranking]), [['q1', [[first.shown[0]], [first.shown[1]]]]]);
  assert.deepEqual(s.c.states.current('q1', 'ann')?.ranking, resolved.judgments[0].ranking);
  assert.equal(s.c.states.current('q2', 'ann'), undefined);
  assert.equal(s.c.states.flagged('q2', 'ann'), true);
});

test('mismatched display order, wrong item, or incomplete ranking are refused and nothing is written', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dap-annot-'));
  const s = await setup(dir);
  await s.c.handle({ type: 'ready' });
  const shown = (s.lastItem().item as ItemView).shown;
  await s.c.handle({ type: 'judge', requestId: 1, itemId: 'q1', judgment: { kind: 'pair', shown: [...shown].reverse(), choice: 'a' }, ms: 1, advance: true });
  await s.c.handle({ type: 'judge', requestId: 2, itemId: 'q5', judgment: { kind: 'pair', shown, choice: 'a' }, ms: 1, advance: true });
  await s.c.handle({ type: 'judge', requestId: 3, itemId: 'q1', judgment: { kind: 'rank', shown, ranking: [[0]] }, ms: 1, advance: true });
  await s.c.handle({ type: 'undo', requestId: 4, itemId: 'q1' });
  const errors = s.posted.filter((m) => m.type === 'error');
  assert.deepEqual(errors.map((e) => e.type === 'error' && e.requestId), [1, 2, 3, 4]);
  assert.equal(existsSync(s.logFile), false);
});

test('reopening resumes at the first item this annotator has not judged; others start at the top', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dap-annot-'));
  const a = await setup(dir, 'alice');
  await a.c.handle({ type: 'ready' });
  for (let i = 0; i < 2; i++) {
    const item = a.lastItem().item as ItemView;
    const judgment = item.responses.length === 2 ? { kind: 'pair' as const, shown: item.shown, choice: 'b' as const } : { kind: 'rank' as const, shown: item.shown, ranking: item.shown.map((r) => [r]) };
    await a.c.handle({ type: 'judge', requestId: i, itemId: item.id, judgment, ms: 5, advance: true });
  }
  const again = await setup(dir, 'alice');
  await again.c.handle({ type: 'ready' });
  const resumed = again.lastItem().item as ItemView;
  assert.equal(resumed.index, 3, 'skips the judged items and the bad line');
  assert.ok(resumed.id.startsWith('h:'), 'items without an id get the core hash id');
  assert.deepEqual(resumed.prompt, [{ role: 'user', content: 'Hi' }]);
  assert.deepEqual(again.c.progress().done, 2);

  const bob = await setup(dir, 'bob');
  await bob.c.handle({ type: 'ready' });
  const bobFirst = bob.lastItem().item as ItemView;
  assert.equal(bobFirst.id, 'q1');
  assert.equal(bobFirst.others, 0, "alice's judgment stays hidden until bob has judged q1");
  // bob disagrees with alice on q1 (alice chose her shown b)
  const aliceJ = again.c.states.current('q1', 'alice');
  assert.ok(aliceJ);
  const bobChoice = aliceJ.ranking[0][0] === bobFirst.shown[0] ? 'b' : 'a';
  await bob.c.handle({ type: 'judge', requestId: 1, itemId: 'q1', judgment: { kind: 'pair', shown: bobFirst.shown, choice: bobChoice }, ms: 5, advance: false });
  await bob.c.handle({ type: 'setFilter', requestId: 2, filter: 'disagreed' });
  assert.equal((bob.lastItem().item as ItemView).id, 'q1');
  assert.equal((bob.lastItem().item as ItemView).disagreed, true);
  await bob.c.handle({ type: 'navigate', requestId: 3, target: { kind: 'next' } });
  assert.match(bob.lastItem().notice ?? '', /No disagreed item after #1/);
  // restore from webview state: goes back to the saved position when the id still matches
  const restored = await setup(dir, 'bob');
  await restored.c.handle({ type: 'ready', restore: { index: 4, itemId: 'q5', filter: 'all', raw: false, diff: false } });
  assert.equal((restored.lastItem().item as ItemView).id, 'q5');
  await restored.c.handle({ type: 'navigate', requestId: 1, target: { kind: 'id', id: 'q2' } });
  assert.equal((restored.lastItem().item as ItemView).index, 1);
  await restored.c.handle({ type: 'navigate', requestId: 2, target: { kind: 'index', index: 2 } });
  assert.equal(restored.lastItem().problem?.line, 3);
});

test('display order is a seeded permutation: stable, per annotator, and unbiased over many items', () => {
  assert.deepEqual(displayOrder('alice', 'x', 4), displayOrder('alice', 'x', 4));
  for (let n = 1; n <= 6; n++) assert.deepEqual([...displayOrder('a', 'item', n)].sort(), Array.from({ length: n }, (_, i) => i));
  let swapped = 0;
  let differ = 0;
  const N = 4000;
  for (let i = 0; i < N; i++) {
    if (displayOrder('alice', `item-${i}`, 2)[0] === 1) swapped++;
    if (displayOrder('alice', `item-${i}`, 3).join() !== displayOrder('bob', `item-${i}`, 3).join()) differ++;
  }
  // binomial(4000, 0.5): sd ≈ 31.6, so ±5 sd = ±158
  assert.ok(Math.abs(swapped - N / 2) < 158, `swapped ${swapped} of ${N}`);
  // two independent uniform permutations of 3 agree with probability 1/6
  assert.ok(Math.abs(differ / N - 5 / 6) < 0.05, `differ ${differ}`);
});

test('log path: default beside the task file, patterns, and annotation logs are recognised', () => {
  assert.equal(annotationLogPath('/d/tasks.jsonl', ''), '/d/tasks.annotations.jsonl');
  assert.equal(annotationLogPath('/d/tasks.jsonl', '${dir}/logs/${name}.log.jsonl'), '/d/logs/tasks.log.jsonl');
  assert.equal(annotationLogPath('/d/tasks.jsonl', 'out/${name}.jsonl.log'), '/d/out/tasks.jsonl.log');
  assert.equal(annotationLogPath('/d/tasks.jsonl', '${workspaceFolder}/a.jsonl', '/w'), '/w/a.jsonl');
  assert.throws(() => annotationLogPath('/d/tasks.jsonl', '${home}/x.jsonl'), /unknown placeholder \$\{home\}/);
  assert.throws(() => annotationLogPath('/d/tasks.jsonl', '${dir}/${name}.jsonl'), /equals the task file/);
  assert.equal(isAnnotationLog('/d/tasks.annotations.jsonl'), true);
  assert.equal(isAnnotationLog('/d/tasks.jsonl'), false);
  // One naming rule with the data core (CLI, trainer, review): a trailing `.tasks` is not part of NAME.
  assert.equal(annotationLogPath('/d/arith.tasks.jsonl', ''), '/d/arith.annotations.jsonl');
  assert.equal(annotationLogPath('/d/arith.tasks.jsonl', ''), defaultLogPath('/d/arith.tasks.jsonl'));
  assert.equal(annotationLogPath('/d/my.tasks.v2.jsonl', ''), '/d/my.tasks.v2.annotations.jsonl');
});

test('blind comparison: model names only once this annotator has judged the item (also when staying on it)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dap-annot-blind-'));
  writeFileSync(join(dir, 'tasks.jsonl'), [
    JSON.stringify({ id: 'c1', prompt: 'p1', responses: [{ text: 'x', model: 'mA' }, { text: 'y', model: 'mB' }] }),
    JSON.stringify({ id: 'c2', prompt: 'p2', responses: [{ text: 'u', model: 'mA' }, { text: 'v', model: 'mB' }] }),
  ].join('\n') + '\n');
  const s = await setup(dir);
  await s.c.handle({ type: 'ready' });
  const first = s.lastItem().item as ItemView;
  assert.deepEqual(first.responses, [{ text: 'x' }, { text: 'y' }], 'no model before judging');
  await s.c.handle({ type: 'judge', requestId: 1, itemId: 'c1', judgment: { kind: 'pair', shown: first.shown, choice: 'tie' }, ms: 10, advance: false });
  assert.deepEqual(s.posted.slice(-2).map((m) => m.type), ['saved', 'item'], 'staying on the item: it is sent again, judged');
  assert.deepEqual((s.lastItem().item as ItemView).responses, [{ text: 'x', model: 'mA' }, { text: 'y', model: 'mB' }]);
  await s.c.handle({ type: 'navigate', requestId: 2, target: { kind: 'next' } });
  assert.deepEqual((s.lastItem().item as ItemView).responses.map((r) => r.model), [undefined, undefined]);
  const other = await setup(dir, 'zoe');
  await other.c.handle({ type: 'ready' });
  assert.deepEqual((other.lastItem().item as ItemView).responses.map((r) => r.model), [undefined, undefined], 'another annotator has not judged c1');
});
