/**
 * The task scan behind `dap validate` and `dap stats` (core/taskScan.ts): past its budget of ids in memory
 * the ids spill to temporary partitions and duplicates are found after the read. Whatever the budget, it
 * reports exactly what the in-memory reader (readTasks) reports, in the same order — duplicate ids before
 * and after the switch, content-hash repeats, bad lines, a BOM and CRLF line ends, and an item warning
 * (overlap) that a duplicate line must not get — and it tells its caller which items it passed on turned
 * out to be repeats. `dap validate FILE [--log LOG]` prints the same with the budget forced tiny, the log
 * then checked partition by partition; `dap stats` counts the model comparison's items without the repeats.
 * No temporary file is left.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { formatIssue } from '../../src/core/issues';
import { projectStats } from '../../src/core/projectStats';
import { scanTaskFile } from '../../src/core/taskScan';
import { readTasks } from '../../src/core/tasks';

const root = join(__dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'dap-task-scan-'));
const bundle = join(dir, 'cli.cjs');
buildSync({ entryPoints: [join(root, 'src/cli/main.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: bundle, logLevel: 'error', external: ['@tensorflow/tfjs-node', 'webgpu'] });
after(() => rmSync(dir, { recursive: true, force: true }));

/** A task file of 300 lines with every kind of repeat and problem, BOM and CRLF; and a log about it. */
function project(): { tasks: string; log: string } {
  const lines: string[] = [];
  for (let i = 0; i < 300; i++) {
    if (i % 37 === 5) lines.push('{"id": "broken", "prompt": ');
    else if (i % 41 === 9) lines.push(JSON.stringify({ prompt: 'same text', responses: ['x', 'y'] })); // content id: repeats are warnings
    else if (i % 29 === 3) lines.push(JSON.stringify({ id: `it${(i * 7) % (i + 1)}`, prompt: `again ${i}`, responses: ['a', 'b'], meta: { overlap: 0 } })); // a repeat (or not) with a bad overlap
    else if (i % 23 === 11) lines.push(JSON.stringify({ id: `it${i}`, prompt: `p${i}`, responses: ['a', 'b'], meta: { overlap: 'two' } }));
    else if (i % 31 === 2) lines.push(JSON.stringify({ id: `it${i - 1}`, prompt: 'next one again', responses: ['a', 'b', 'c'] }));
    else lines.push(JSON.stringify({ id: `it${i}`, prompt: `p${i}`, responses: i % 3 === 0 ? ['a', 'b', 'c'] : ['a', 'b'] }));
  }
  lines.splice(150, 0, '', JSON.stringify({ id: 'it1', prompt: 'far repeat', responses: ['a', 'b'] }));
  const tasks = join(dir, 'scan.jsonl');
  writeFileSync(tasks, `\ufeff${lines.join('\r\n')}\r\n`);
  const events: string[] = [];
  for (let e = 0; e < 500; e++) {
    const item = `it${(e * 13) % 320}`; // it300 … it319 are unknown
    const annotator = ['ann', 'bo'][e % 2];
    if (e % 11 === 4) events.push('{"v": 1, "item": ');
    else if (e % 7 === 3) events.push(JSON.stringify({ v: 1, item, annotator, ts: '2026-01-01T00:00:00Z', kind: 'undo' }));
    else events.push(JSON.stringify({ v: 1, item, annotator, ts: '2026-01-01T00:00:00Z', kind: 'pair', shown: [e % 3, (e + 1) % 3], choice: 'a' })); // index 2 is out of range for two responses
  }
  // torn fragments in front of events that get an issue (an unknown item, a shown index out of range), which the
  // partitioned check words by reading the line back
  events.push(`{"v": 1, "ite${JSON.stringify({ v: 1, item: 'it-unknown-after-fragment', annotator: 'ann', ts: '2026-01-01T00:00:00Z', kind: 'undo' })}`);
  events.push(`{"v": 1, "ite${JSON.stringify({ v: 1, item: 'it10', annotator: 'bo', ts: '2026-01-01T00:00:00Z', kind: 'pair', shown: [0, 2], choice: 'b' })}`);
  const log = join(dir, 'scan-log.jsonl');
  writeFileSync(log, `\ufeff${events.join('\r\n')}\r\n`); // a BOM and CRLF line ends
  return { tasks, log };
}

test('past its budget the scan reports what the in-memory reader does, in the same order, and names the repeats it passed on', async () => {
  const { tasks } = project();
  const whole = await readTasks(tasks);
  const expected = whole.issues.map(formatIssue);
  for (const what of ['duplicate id', 'duplicate item: same prompt', 'line:']) assert.ok(expected.some((i) => i.includes(what)), what);
  const tmp = mkdtempSync(join(dir, 'tmp-'));
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = tmp;
  try {
    for (const budget of [1, 2, 7, 60, 10_000]) {
      const issues: string[] = [];
      const passed: number[] = [];
      const late: number[] = [];
      const scan = await scanTaskFile(tasks, {
        idsInMemory: budget,
        onIssue: (i) => issues.push(formatIssue(i)),
        onItem: (item) => (passed.push(item.line), item.line),
        onLateDuplicate: (line, value) => {
          assert.equal(value, line, 'the value given for the item comes back');
          late.push(line);
        },
      });
      assert.deepEqual(issues, expected, `budget ${budget}`);
      assert.equal(scan.items, whole.items.length, `budget ${budget}`);
      assert.deepEqual(passed.filter((l) => !late.includes(l)), whole.items.map((it) => it.line), `budget ${budget}`);
      assert.equal(scan.partitions > 1, budget < 100, `budget ${budget}: ${scan.partitions} partitions`);
      if (budget <= 7) assert.ok(late.length >= 5, `budget ${budget}: ${late.length} repeats found after the read`);
      if (budget === 10_000) assert.deepEqual(late, []);
    }
    // An item warning on a repeated line is dropped with the line, kept on a line that is not a repeat.
    const withWarnings = async (budget: number) => {
      const issues: string[] = [];
      await scanTaskFile(tasks, { idsInMemory: budget, onIssue: (i) => issues.push(formatIssue(i)), itemIssues: (item) => (item.meta?.overlap !== undefined ? [{ severity: 'warning', file: tasks, line: item.line, field: 'overlap', message: 'checked' }] : []) });
      return issues;
    };
    // a caller's error after the ids spilled: it comes through, and the partitions are removed
    await assert.rejects(scanTaskFile(tasks, { idsInMemory: 2, onIssue: () => {}, onItem: (item) => {
      if (item.line > 200) throw new Error('caller failed');
    } }), /caller failed/);
    const inMemory = await withWarnings(10_000);
    assert.ok(inMemory.some((i) => i.includes('overlap: warning: checked')));
    assert.deepEqual(await withWarnings(3), inMemory);
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
  assert.deepEqual(readdirSync(tmp), [], 'no temporary file left');
});

/** Runs the bundled CLI with TMPDIR set to a fresh folder. */
function dap(env: Record<string, string>, ...args: string[]): { code: number | null; stdout: string; stderr: string; tmp: string } {
  const tmp = mkdtempSync(join(dir, 'tmp-'));
  const r = spawnSync(process.execPath, [bundle, ...args], { encoding: 'utf8', env: { ...process.env, TMPDIR: tmp, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, tmp };
}

test('dap validate prints the same with its ids spilled, the log then checked in partitions', () => {
  const { tasks, log } = project();
  for (const args of [['validate', tasks], ['validate', tasks, '--log', log]]) {
    const whole = dap({}, ...args);
    assert.equal(whole.code, 1, whole.stderr);
    for (const budget of ['1', '5', '40']) {
      const spilled = dap({ DAP_DATA_IDS_IN_MEMORY: budget }, ...args);
      assert.equal(spilled.code, whole.code);
      assert.equal(spilled.stdout, whole.stdout, `${args.join(' ')} with ${budget} ids in memory`);
      assert.deepEqual(readdirSync(spilled.tmp), []);
    }
    if (args.length > 2) {
      for (const what of ['unknown item id', 'out of range', 'with no judgment', 'line:', 'torn fragment', 'it-unknown-after-fragment', 'item "it10" has 2 responses']) {
        assert.ok(whole.stdout.includes(what), what);
      }
    }
  }
});

test('dap stats counts a model comparison\'s items without the repeats found after the read', async () => {
  const tasks = join(dir, 'models.jsonl');
  const log = join(dir, 'models.annotations.jsonl');
  const item = (id: string, first = 'A') => JSON.stringify({ id, prompt: `q ${id}`, responses: [{ text: 'x', model: first }, { text: 'y', model: first === 'A' ? 'B' : 'A' }] });
  writeFileSync(tasks, [...Array.from({ length: 30 }, (_, i) => item(`m${i}`)), item('m2', 'B'), item('m3'), item('m29')].join('\n') + '\n');
  writeFileSync(log, Array.from({ length: 30 }, (_, i) => JSON.stringify({ v: 1, item: `m${i}`, annotator: 'ann', ts: '2026-01-01T00:00:00Z', kind: 'pair', shown: [0, 1], choice: i % 3 ? 'a' : 'b' })).join('\n') + '\n');
  const run = async (idsInMemory: number) => {
    const issues: string[] = [];
    const stats = await projectStats(tasks, log, { idsInMemory, onIssue: (i) => issues.push(formatIssue(i)) });
    return { stats, issues };
  };
  const whole = await run(10_000);
  assert.equal(whole.stats.items, 30);
  assert.equal(whole.stats.models?.items, 30);
  assert.equal(whole.issues.filter((i) => i.includes('duplicate id')).length, 3);
  assert.deepEqual(await run(4), whole);
});
