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

/** A task file whose items ask for `needs` annotators each (undefined: says nothing). */
async function overlapProject(needs: (number | undefined)[], judged: { item: string; annotator: string }[]) {
  const dir = mkdtempSync(join(tmpdir(), 'dap-overlap-'));
  const taskFile = join(dir, 'team.tasks.jsonl');
  const lines = needs.map((n, i) => JSON.stringify({ id: `z${i + 1}`, prompt: `p${i + 1}`, responses: ['one', 'two'], ...(n !== undefined ? { overlap: n } : {}) }));
  writeFileSync(taskFile, lines.join('\n') + '\n');
  const logFile = defaultLogPath(taskFile);
  for (const j of judged) await appendEvent(logFile, { v: 1, kind: 'pair', ts: TS, shown: [0, 1], choice: 'a', ...j });
  return { taskFile, logFile };
}

test("overlap: next serves items you have not judged that are still short of their annotators, in file order", async () => {
  // z1 asks for 1 (alice did it), z2 for 2 (alice did it), z3 for 1 (nobody), z4 says nothing (alice did it), z5 for 2 (alice and carol).
  const p = await overlapProject([1, 2, 1, undefined, 2], [
    { item: 'z1', annotator: 'alice' }, { item: 'z2', annotator: 'alice' }, { item: 'z4', annotator: 'alice' },
    { item: 'z5', annotator: 'alice' }, { item: 'z5', annotator: 'carol' },
  ]);
  const bob = await open(p, 'bob');
  await bob.c.handle({ type: 'ready' });
  const served: string[] = [];
  for (let i = 0; i < 6; i++) {
    const item = bob.shown();
    if (served.includes(item.id)) break;
    served.push(item.id);
    await bob.c.handle({ type: 'judge', requestId: i, itemId: item.id, judgment: { kind: 'pair', shown: item.shown, choice: 'a' }, ms: 1, advance: false });
    await bob.c.handle({ type: 'navigate', requestId: 100 + i, target: { kind: 'nextUnannotated' } });
  }
  assert.deepEqual(served, ['z2', 'z3', 'z4'], 'z1 and z5 have their annotators; z4 asks everyone');
  const last = bob.posted.filter((m) => m.type === 'item').pop();
  assert.ok(last && last.type === 'item');
  assert.match(last.notice ?? '', /No item needs a judgment from bob/);
  // alice has nothing left: z3 got its 1 (bob), z2 its 2 (alice, bob); she did the rest.
  const alice = await open(p, 'alice');
  await alice.c.handle({ type: 'ready' });
  const aliceFirst = alice.posted.filter((m) => m.type === 'item').pop();
  assert.ok(aliceFirst && aliceFirst.type === 'item');
  assert.match(aliceFirst.notice ?? '', /No item needs a judgment from alice: showing the first/);
});

test("judgments another annotator appends while the editor is open are seen: next no longer serves those items", async () => {
  const { followLog } = await import('../../src/host/annotator/coreAdapter');
  const p = await overlapProject([1, 1, 1], []);
  const log = await openLog(p.logFile);
  const posted: AnnotatorHostToWebview[] = [];
  const c = new AnnotatorController({ tasks: openTasks(p.taskFile).source, sink: log.sink, existing: log.events, annotator: 'alice', taskFile: p.taskFile, post: (m) => posted.push(m), now: () => new Date(TS) });
  const follower = followLog(p.logFile, log.size, (e) => e.annotator !== 'alice', (events) => c.applyExternal(events), 20);
  try {
    await c.handle({ type: 'ready' });
    const first = posted.filter((m) => m.type === 'item').pop() as { item: ItemView };
    assert.equal(first.item.id, 'z1');
    // bob, elsewhere, judges z2 (and writes half a line of z3 that is not finished yet).
    await appendEvent(p.logFile, { v: 1, kind: 'pair', item: 'z2', annotator: 'bob', ts: TS, shown: [0, 1], choice: 'b' });
    const deadline = Date.now() + 10_000;
    while (c.states.judgmentsOf('z2').length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(c.states.judgmentsOf('z2').length, 1, "bob's judgment arrived");
    const progress = posted.filter((m) => m.type === 'progress').pop();
    assert.equal(progress?.type === 'progress' && progress.progress.fromOthers, 1, 'the editor says one judgment came from others');
    await c.handle({ type: 'navigate', requestId: 1, target: { kind: 'nextUnannotated' } });
    assert.equal((posted.filter((m) => m.type === 'item').pop() as { item: ItemView }).item.id, 'z3', 'z2 is skipped');
    // alice's own appends are not applied twice (an undo must retract her one judgment, not a doubled one).
    const z3 = (posted.filter((m) => m.type === 'item').pop() as { item: ItemView }).item;
    await c.handle({ type: 'judge', requestId: 2, itemId: 'z3', judgment: { kind: 'pair', shown: z3.shown, choice: 'a' }, ms: 1, advance: false });
    await new Promise((r) => setTimeout(r, 100)); // the follower polls every 20 ms: give it the chance to double-apply
    await c.handle({ type: 'undo', requestId: 3, itemId: 'z3' });
    assert.equal(c.states.current('z3', 'alice'), undefined);
  } finally {
    follower.close();
  }
});

test('team report: judged, still to do, agreement, median time, coverage and completeness', async () => {
  const { teamReport } = await import('../../src/core/review/team');
  const { readTasks } = await import('../../src/core/tasks');
  const { readAnnotationLog } = await import('../../src/core/annotationLog');
  const { resolveJudgments } = await import('../../src/core/judgments');
  const p = await overlapProject([2, 2, undefined], [{ item: 'z1', annotator: 'alice' }, { item: 'z1', annotator: 'bob' }, { item: 'z2', annotator: 'alice' }]);
  await appendEvent(p.logFile, { v: 1, kind: 'pair', item: 'z3', annotator: 'bob', ts: TS, shown: [0, 1], choice: 'b', ms: 4000 });
  const { items } = await readTasks(p.taskFile);
  const log = await readAnnotationLog(p.logFile);
  const { judgments } = resolveJudgments(log.events, items);
  const team = teamReport(items, judgments, log.events.map((e) => e.event));
  assert.deepEqual([team.items, team.withOverlap, team.complete, team.short], [3, 2, 1, 1]);
  assert.deepEqual(team.coverage, [0, 2, 1, 0], 'z2 and z3 by one annotator, z1 by two');
  // alice: z3 (asks everyone); bob: z2 (short of its 2). z1 is complete.
  assert.deepEqual(team.members.map((m) => [m.annotator, m.judged, m.open]), [['alice', 2, 1], ['bob', 2, 1]]);
  assert.deepEqual(team.members.map((m) => [m.agreement.compared, m.agreement.agreed]), [[1, 1], [1, 1]], 'both chose a on z1');
  assert.equal(team.members[1].medianSeconds, 4, "bob's one timed judgment");
  assert.equal(team.members[0].medianSeconds, undefined);
  assert.deepEqual(team.pairs.map((x) => [x.annotators, x.n, x.percent]), [[['alice', 'bob'], 1, 1]]);
});

test('search: next and previous item whose prompt or responses contain the text, ignoring case, wrapping around', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dap-search-'));
  const taskFile = join(dir, 'find.jsonl');
  writeFileSync(taskFile, [
    JSON.stringify({ id: 's1', prompt: 'What is the capital of France?', responses: ['Paris', 'Lyon'] }),
    JSON.stringify({ id: 's2', prompt: 'Name a river', responses: ['The Seine flows through PARIS', 'The Nile'] }),
    '{"id": "bad", "prompt": ', // a bad line is no match
    JSON.stringify({ id: 's4', prompt: [{ role: 'user', content: 'Tell me about Paris in spring' }], responses: ['ok', 'no'] }),
    '{"id":"s5","prompt":"a \\u0073ecret word","responses":["café au lait","tea"]}', // JSON escapes in the raw line
    JSON.stringify({ id: 's6', prompt: 'Nothing here', responses: ['x', 'y'] }),
  ].join('\n') + '\n');
  const p = { taskFile, logFile: defaultLogPath(taskFile) };
  const a = await open(p, 'ann');
  await a.c.handle({ type: 'ready' });
  assert.equal(a.shown().id, 's1');
  const find = async (query: string, direction: 1 | -1) => {
    await a.c.handle({ type: 'search', requestId: 1, query, direction });
    const m = a.posted.filter((x) => x.type === 'item').pop();
    assert.ok(m && m.type === 'item');
    return [m.item?.id, m.notice];
  };
  assert.deepEqual(await find('paris', 1), ['s2', '"paris": #2.'], 'a response, any case');
  assert.deepEqual(await find('paris', 1), ['s4', '"paris": #4.'], 'a chat prompt; the bad line skipped');
  assert.deepEqual(await find('paris', 1), ['s1', '"paris": #1 (from the top).']);
  assert.deepEqual(await find('paris', -1), ['s4', '"paris": #4 (from the end).']);
  assert.deepEqual(await find('paris', -1), ['s2', '"paris": #2.']);
  assert.deepEqual(await find('SECRET', 1), ['s5', '"SECRET": #5.'], 'written with a \\u escape in the file');
  assert.deepEqual(await find('Café', -1), ['s5', '"Café" is only in this item.'], 'not ASCII');
  assert.deepEqual(await find('elephant', 1), ['s5', 'No item contains "elephant".'], 'stays where it was');
});

test('guidelines: NAME.guidelines.md beside the task file, created from a template once, never overwritten', async () => {
  const { createGuidelines } = await import('../../src/host/annotator/guidelines');
  const { guidelinesPath } = await import('../../src/core/project');
  const { readFileSync } = await import('node:fs');
  const dir = mkdtempSync(join(tmpdir(), 'dap-guide-'));
  const taskFile = join(dir, 'arith.tasks.jsonl');
  assert.equal(guidelinesPath(taskFile), join(dir, 'arith.guidelines.md'));
  assert.equal(guidelinesPath(join(dir, 'data.jsonl')), join(dir, 'data.guidelines.md'));
  const first = await createGuidelines(taskFile);
  assert.deepEqual(first, { file: join(dir, 'arith.guidelines.md'), created: true });
  assert.match(readFileSync(first.file, 'utf8'), /^# Annotation guidelines: arith\n/);
  writeFileSync(first.file, 'our own rules\n');
  assert.deepEqual(await createGuidelines(taskFile), { file: first.file, created: false });
  assert.equal(readFileSync(first.file, 'utf8'), 'our own rules\n', 'kept as it was');
});

test('meta: sent as text with the item; a meta filter keeps next, previous and next-unannotated to matching items', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dap-meta-'));
  const taskFile = join(dir, 'm.jsonl');
  const tasks = ['add', 'mul', 'add', 'sub', 'add'].map((task, i) => JSON.stringify({ id: `m${i + 1}`, prompt: `p${i}`, responses: ['a', 'b'], meta: { task, level: i } }));
  writeFileSync(taskFile, tasks.join('\n') + '\n');
  const a = await open({ taskFile, logFile: defaultLogPath(taskFile) }, 'ann');
  await a.c.handle({ type: 'ready' });
  assert.deepEqual(a.shown().meta, { task: 'add', level: '0' });
  const last = () => a.posted.filter((m) => m.type === 'item').pop() as Extract<AnnotatorHostToWebview, { type: 'item' }>;
  await a.c.handle({ type: 'navigate', requestId: 1, target: { kind: 'index', index: 1 } }); // m2 (mul)
  await a.c.handle({ type: 'setMetaFilter', requestId: 2, metaFilter: { key: 'task', value: 'add' } });
  assert.equal(last().item?.id, 'm3', 'm2 does not match: moves to the next that does');
  assert.deepEqual(last().metaFilter, { key: 'task', value: 'add' });
  await a.c.handle({ type: 'navigate', requestId: 3, target: { kind: 'next' } });
  assert.equal(last().item?.id, 'm5');
  await a.c.handle({ type: 'navigate', requestId: 4, target: { kind: 'next' } });
  assert.match(last().notice ?? '', /No item after #5/);
  await a.c.handle({ type: 'navigate', requestId: 5, target: { kind: 'prev' } });
  assert.equal(last().item?.id, 'm3');
  await a.c.handle({ type: 'judge', requestId: 6, itemId: 'm3', judgment: { kind: 'pair', shown: last().item!.shown, choice: 'a' }, ms: 1, advance: false });
  await a.c.handle({ type: 'navigate', requestId: 7, target: { kind: 'nextUnannotated' } });
  assert.equal(last().item?.id, 'm5', 'unannotated within the filter');
  await a.c.handle({ type: 'setMetaFilter', requestId: 8, metaFilter: { key: 'level', value: '3' } });
  assert.match(last().notice ?? '', /No item after #5/, 'no match after m5 (next does not wrap)');
  await a.c.handle({ type: 'navigate', requestId: 81, target: { kind: 'prev' } });
  assert.equal(last().item?.id, 'm4', 'numbers compare as their text');
  await a.c.handle({ type: 'setMetaFilter', requestId: 9, metaFilter: null });
  await a.c.handle({ type: 'navigate', requestId: 10, target: { kind: 'next' } });
  assert.equal(last().item?.id, 'm5');
  assert.equal(last().metaFilter, undefined);
  // Restored with the view state after a reload.
  const b = await open({ taskFile, logFile: defaultLogPath(taskFile) }, 'ann');
  await b.c.handle({ type: 'ready', restore: { index: 0, itemId: 'm1', filter: 'all', raw: false, diff: false, metaFilter: { key: 'task', value: 'sub' } } });
  await b.c.handle({ type: 'navigate', requestId: 1, target: { kind: 'next' } });
  assert.equal((b.posted.filter((m) => m.type === 'item').pop() as { item: ItemView }).item.id, 'm4');
});
