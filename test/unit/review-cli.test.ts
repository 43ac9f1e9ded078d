/**
 * `dap review` end to end on real files: a task file and an annotation log written in a temp folder
 * (events appended with the data core's appender), the CLI run as a child process, its JSON and table
 * output checked; a `confirm` appended by the review's appender hides the entry; bad arguments exit 2,
 * a missing file 1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { appendEvent } from '../../src/core/annotationLog';
import { appendConfirm, loadReview } from '../../src/core/review/load';
import type { ReviewReport } from '../../src/core/review/types';

const root = join(import.meta.dirname, '..', '..');
function dap(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args], { encoding: 'utf8', cwd: root });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test('dap review prints the lists from a task file and its log; confirm hides an entry', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dap-review-'));
  const tasks = join(dir, 'quiz.jsonl');
  writeFileSync(
    tasks,
    [
      { id: 'q1', prompt: '2+2?', responses: ['4', '5'] },
      { id: 'q2', prompt: '3+3?', responses: ['6', 'seven'] },
      { id: 'q3', prompt: 'Order these', responses: ['a', 'b', 'c'] },
    ]
      .map((o) => JSON.stringify(o) + '\n')
      .join(''),
  );
  const log = join(dir, 'quiz.annotations.jsonl');
  const ts = '2026-01-01T00:00:00.000Z';
  // q1: alice picks shown[0] = response 1 ("5"), bob picks response 0: opposite.
  await appendEvent(log, { v: 1, kind: 'pair', item: 'q1', annotator: 'alice', shown: [1, 0], choice: 'a', ts });
  await appendEvent(log, { v: 1, kind: 'pair', item: 'q1', annotator: 'bob', shown: [0, 1], choice: 'a', ts });
  // q2: both prefer "6": "seven" never won (2 losses).
  await appendEvent(log, { v: 1, kind: 'pair', item: 'q2', annotator: 'alice', shown: [0, 1], choice: 'a', ts });
  await appendEvent(log, { v: 1, kind: 'pair', item: 'q2', annotator: 'bob', shown: [1, 0], choice: 'b', ts });
  // q3: reversed rankings: τ = −1.
  await appendEvent(log, { v: 1, kind: 'rank', item: 'q3', annotator: 'alice', shown: [0, 1, 2], ranking: [[0], [1], [2]], ts });
  await appendEvent(log, { v: 1, kind: 'rank', item: 'q3', annotator: 'bob', shown: [0, 1, 2], ranking: [[2], [1], [0]], ts });

  const json = dap(['review', tasks, '--json']);
  assert.equal(json.code, 0, json.stderr);
  const report = JSON.parse(json.stdout) as ReviewReport;
  assert.equal(report.logFile, log);
  assert.equal(report.items, 3);
  assert.deepEqual(report.annotators, ['alice', 'bob']);
  // Never won (lost every comparison, judged by 2+ annotators): only q2's "seven"; q1's opposite choices and
  // q3's reversed rankings leave no response that lost every time.
  assert.deepEqual(report.neverWon.map((e) => [e.item, e.lostComparisons]), [['q2', 2]]);
  assert.equal(report.neverWon[0].neverWon[0].text, 'seven');
  assert.deepEqual(report.disagreements.map((e) => [e.item, e.kind, e.minTau]), [['q1', 'opposite', -1], ['q3', 'low_tau', -1]]);
  assert.equal(report.flagged, undefined);

  const text = dap(['review', tasks, '--top', '1']);
  assert.equal(text.code, 0, text.stderr);
  // Totals count every entry; --top 1 shows the first of each list; the most useful list comes first.
  assert.match(text.stdout, /== Never won \(lost every comparison, judged by 2\+ annotators\): 1 item\(s\), 0 where every response lost or was judged both bad ==/);
  assert.match(text.stdout, /#2 "seven" \(2\)/);
  assert.match(text.stdout, /== Disagreements: 2 item\(s\) \(rankings: Kendall tau-b < 0\.5\) \(first 1 shown\) ==/);
  assert.ok(text.stdout.indexOf('== Disagreements') < text.stdout.indexOf('== Model-flagged') && text.stdout.indexOf('== Model-flagged') < text.stdout.indexOf('== Never won'));
  // Responses by number; each judgment with what that annotator saw: both pressed A, on opposite responses.
  assert.match(text.stdout, /alice: #2 > #1 \(saw A = #2, B = #1; chose A\); bob: #1 > #2 \(saw A = #1, B = #2; chose A\)/);

  const before = readFileSync(log, 'utf8');
  await appendConfirm(log, { item: 'q1', annotator: 'carol', reason: 'disagreement' });
  const after = readFileSync(log, 'utf8');
  assert.ok(after.startsWith(before), 'the log is only appended to');
  const confirmLine = JSON.parse(after.slice(before.length));
  assert.deepEqual([confirmLine.kind, confirmLine.item, confirmLine.reason, confirmLine.annotator], ['confirm', 'q1', 'disagreement', 'carol']);
  // Read back in-process (same loader as the CLI): the confirmed entry is hidden, or kept with includeConfirmed.
  const again = (await loadReview(tasks, log)).report;
  assert.deepEqual(again.disagreements.map((e) => e.item), ['q3']);
  assert.equal(again.confirmedHidden, 1);
  assert.deepEqual((await loadReview(tasks, log, { includeConfirmed: true })).report.disagreements.map((e) => e.item), ['q1', 'q3']);
});

test('dap review: bad arguments exit 2 with usage; a missing file exits 1', () => {
  const bad = dap(['review', 'x.jsonl', '--top', 'many']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--top: expected a number/);
  assert.match(bad.stderr, /Usage: dap review/);
  // Out-of-range numbers are usage errors too (--top=-1 used to drop the last entry of every list).
  for (const [flag, message] of [['--top=-1', /--top: expected N >= 0/], ['--beta=0', /--beta: expected a number > 0/], ['--epochs=0', /--epochs: expected N >= 1/]] as const) {
    const r = dap(['review', 'x.jsonl', flag]);
    assert.equal(r.code, 2, flag);
    assert.match(r.stderr, message);
  }
  const missing = dap(['review', join(tmpdir(), 'does-not-exist.jsonl')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no such file/);
  // A log named with --log must exist: a typo is an error, not an empty review.
  const dir = mkdtempSync(join(tmpdir(), 'dap-review-'));
  const tasks = join(dir, 'quiz.jsonl');
  writeFileSync(tasks, '{"id":"q","prompt":"p","responses":["a","b"]}\n');
  const typo = join(dir, 'quiz.anotations.jsonl');
  const noLog = dap(['review', tasks, '--log', typo, '--json']);
  assert.equal(noLog.code, 1);
  assert.equal(noLog.stderr, `dap review: ${typo}: no such file\n`);
  assert.equal(noLog.stdout, '');
  assert.equal(dap(['review', tasks, '--json']).code, 0, 'the default log may be absent (nothing annotated yet)');
});
