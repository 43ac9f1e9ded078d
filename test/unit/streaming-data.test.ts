/**
 * The streaming data paths behind `dap validate` / `dap stats` on large files: the compact id table
 * (src/core/idTable.ts) confirms every hash match and grows past its first capacity, duplicate ids found
 * through it name the right first line (also after a BOM and CRLF lines); the streaming
 * log check of `dap validate FILE --log LOG` (src/core/logCheck.ts) reports exactly the issues and counts
 * of reading both files whole and resolving the log (resolveJudgments), in log line order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAnnotationLog, resolveJudgments } from '../../src/core/annotationLog';
import { IdTable } from '../../src/core/idTable';
import { checkLogAgainstIds } from '../../src/core/logCheck';
import type { DataIssue } from '../../src/core/types';
import { formatIssue } from '../../src/core/issues';
import { readTasks, streamTasks } from '../../src/core/tasks';

test('id table: a hash match counts only when confirmed; thousands of ids survive growth', () => {
  const t = new IdTable();
  assert.equal(t.findOrAdd('a', 1, 0, () => true), undefined);
  assert.deepEqual(t.findOrAdd('a', 2, 10, () => true), { line: 1, offset: 0 });
  // the same hash refused by the confirmation (as two ids that collide): kept apart, no duplicate
  assert.equal(t.findOrAdd('a', 3, 20, () => false), undefined);
  for (let i = 0; i < 5000; i++) assert.equal(t.findOrAdd(`id-${i}`, 10 + i, 100 + i, () => true), undefined);
  for (let i = 0; i < 5000; i += 499) assert.deepEqual(t.findOrAdd(`id-${i}`, 0, 0, () => true), { line: 10 + i, offset: 100 + i });
});

test('duplicate ids through the compact table name the first line, after a BOM and CRLF lines', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dap-stream-'));
  const f = join(dir, 'dups.jsonl');
  const row = (id: string | null, p: string) => JSON.stringify({ ...(id ? { id } : {}), prompt: p, responses: ['x', 'y'] });
  writeFileSync(f, '\ufeff' + [row('a', 'p1'), row('b', 'p2'), row(null, 'same'), row('a', 'p3'), row(null, 'same'), row('b', 'p4')].join('\r\n') + '\r\n');
  const { items, issues } = await readTasks(f);
  assert.deepEqual(items.map((i) => i.prompt), ['p1', 'p2', 'same']);
  assert.deepEqual(issues.map(formatIssue), [
    `${f}:4: id: duplicate id "a", first on line 1; line skipped`,
    `${f}:5: id: warning: duplicate item: same prompt and responses as line 3 (content id "${items[2].id}"); line skipped`,
    `${f}:6: id: duplicate id "b", first on line 2; line skipped`,
  ]);
});

test('id table: find matches both hashes and returns the entry and value stored with the id, after growth and past a chunk', () => {
  const t = new IdTable();
  const n = 70_000; // more than one chunk of entries (65,536), several growths of the index
  for (let i = 0; i < n; i++) assert.equal(t.findOrAdd(`item-${i}`, i + 1, i * 10, () => true, i % 7), undefined);
  assert.equal(t.size, n);
  for (let i = 0; i < n; i += 97) {
    const entry = t.find(`item-${i}`);
    assert.equal(entry, i, `item-${i}: entries are numbered in insertion order`);
    assert.equal(t.valueAt(entry), i % 7);
    assert.deepEqual(t.findOrAdd(`item-${i}`, 0, 0, () => true), { line: i + 1, offset: i * 10 });
  }
  assert.equal(t.find(`item-${n}`), -1);
  assert.equal(t.find('nope'), -1);
});

test('id table: cleared and refilled (one table per partition), it finds the new ids and none of the old, past a chunk', () => {
  const t = new IdTable();
  for (const round of [0, 1, 2]) {
    t.clear();
    const n = 70_000 - round * 1000;
    for (let i = 0; i < n; i++) t.addHashed(i * 7919 + round + 1, i | 1, i + 1, i * 10, round);
    assert.equal(t.size, n);
    for (let i = 0; i < n; i += 331) {
      const e = t.findHashed(i * 7919 + round + 1, i | 1);
      assert.equal(e, i);
      assert.deepEqual(t.entry(e), { h: i * 7919 + round + 1, fp: i | 1, line: i + 1, offset: i * 10, value: round });
    }
    if (round > 0) assert.equal(t.findHashed(7919 * 5 + round, 5), -1, 'an id of the round before is gone');
  }
});

test('validate --log, streamed: the same issues and counts as reading both files whole and resolving the log, in line order', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dap-logcheck-'));
  const tasks = join(dir, 'tasks.jsonl'), logPath = join(dir, 'tasks.annotations.jsonl');
  const row = (id: string, n: number) => JSON.stringify({ id, prompt: `p ${id}`, responses: Array.from({ length: n }, (_, i) => `r${i}`) });
  // "b" twice: the second line (4 responses) is skipped, so events about "b" are checked against 2 responses.
  writeFileSync(tasks, [row('a', 2), row('b', 2), row('c', 3), row('b', 4)].join('\n') + '\n');
  const ev = (o: Record<string, unknown>) => JSON.stringify({ v: 1, ts: '2026-01-01T00:00:00Z', ...o });
  const pair = (item: string, annotator: string, shown = [0, 1]) => ev({ item, annotator, kind: 'pair', shown, choice: 'a' });
  writeFileSync(logPath, [
    pair('a', 'ann'), pair('a', 'bob'),
    ev({ item: 'a', annotator: 'ann', kind: 'undo' }), ev({ item: 'a', annotator: 'ann', kind: 'undo' }), // the second has nothing to retract
    pair('zz', 'ann'), pair('zz', 'bob'), // unknown item: one warning
    pair('b', 'ann', [0, 3]), // index 3: "b" has 2 responses
    '{"v":1,"item":', // bad JSON line (terminated)
    ev({ item: 'c', annotator: 'ann', kind: 'rank', shown: [2, 0, 1], ranking: [[2], [0, 1]] }),
    ev({ item: 'c', annotator: 'ann', kind: 'flag', flagged: true }), ev({ item: 'c', annotator: 'bob', kind: 'confirm' }),
    ev({ item: 'c', annotator: 'bob', kind: 'undo' }),
    pair('c', 'ann'), ev({ item: 'c', annotator: 'ann', kind: 'undo' }), // c stays judged by ann (the rank)
    ev({ item: 'a', annotator: 'ann', kind: 'pair', shown: [1, 0], choice: 'tie' }),
    '{"v":1,"item":"a","annotator":"bob","ts":"x","kind":"pa', // torn last line (no newline)
  ].join('\n'));
  const ids = new IdTable();
  for await (const r of streamTasks(tasks, { idTable: ids })) void r;
  const streamed: DataIssue[] = [];
  const counts = await checkLogAgainstIds(logPath, ids, (i) => streamed.push(i));
  const whole = await readAnnotationLog(logPath);
  const resolved = resolveJudgments(whole.events, (await readTasks(tasks)).items, logPath);
  const expected = [...whole.issues, ...resolved.issues].sort((x, y) => x.line - y.line);
  assert.deepEqual(streamed.map(formatIssue), expected.map(formatIssue));
  assert.equal(streamed.length, 6, streamed.map(formatIssue).join('\n')); // undo, unknown, range, bad line, bob's undo, torn
  assert.deepEqual(counts, { events: whole.events.length, judgments: resolved.judgments.length });
  assert.deepEqual(counts, { events: 14, judgments: 3 }); // a: ann (tie), bob; c: ann
});
