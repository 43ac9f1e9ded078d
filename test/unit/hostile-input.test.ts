/**
 * What the readers do with files a hostile environment leaves: a line holding a crashed writer's fragment
 * followed by a whole event (annotation log — also as the annotator's log follower reads it — and metrics.jsonl), a 600 MB line among good ones (reported
 * as file:line with its size, the rest read), /dev/zero, a FIFO and a directory (refused by name, without
 * hanging or growing), and events whose `ts` is not a time or whose `ms` is not finite. Through the real
 * `dap` CLI in a child process and the library readers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync, ftruncateSync, fstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { appendEventSync, readAnnotationLog } from '../../src/core/annotationLog';
import { followLog } from '../../src/host/annotator/coreAdapter';
import { readTasks } from '../../src/core/tasks';
import { TaskIndex } from '../../src/core/taskIndex';
import { replayRun } from '../../src/train/runs/folder';
import type { AnnotationEvent } from '../../src/core/types';

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'dap-hostile-'));
const bundle = join(dir, 'cli.cjs');
buildSync({ entryPoints: [join(root, 'src/cli/main.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: bundle, logLevel: 'error', external: ['@tensorflow/tfjs-node', 'webgpu'] });

function dap(...args: string[]): { code: number | null; stdout: string; stderr: string; signal: NodeJS.Signals | null } {
  // A cap on the child's heap: a reader that holds /dev/zero or a huge line whole dies instead of eating the machine.
  const r = spawnSync(process.execPath, ['--max-old-space-size=512', bundle, ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, signal: r.signal };
}

const event = (item: string, extra: Record<string, unknown> = {}): AnnotationEvent =>
  ({ v: 1, item, annotator: 'ann', kind: 'pair', shown: [0, 1], choice: 'a', ts: '2026-01-01T00:00:00.000Z', ...extra }) as AnnotationEvent;

test('annotation log: a torn fragment followed by a whole event on one line yields the event; validate counts it', async () => {
  const log = join(dir, 'merged.annotations.jsonl');
  // What the race leaves: writer B killed mid-write (no '\n'), writer A's line right after it.
  const fragment = JSON.stringify(event('big', { note: 'x'.repeat(100_000) })).slice(0, 60_000);
  writeFileSync(log, [JSON.stringify(event('one')), fragment + JSON.stringify(event('two', { note: 'has {"v":1} inside' })), JSON.stringify(event('three'))].join('\n') + '\n');
  const read = await readAnnotationLog(log, { displayName: 'merged.annotations.jsonl' });
  assert.deepEqual(read.events.map((e) => [e.line, e.event.item]), [[1, 'one'], [2, 'two'], [3, 'three']]);
  assert.equal(read.events[1].event.note, 'has {"v":1} inside');
  assert.equal(read.tornLines, 1);
  assert.deepEqual(read.issues.map((i) => [i.line, i.severity]), [[2, 'warning']]);
  assert.match(read.issues[0].message, /torn fragment \(60000 characters .*\) before an event; the fragment is skipped, the event is read/);
  const run = dap('validate', log);
  assert.equal(run.code, 0, run.stdout);
  assert.match(run.stdout, /annotation log, 3 events; 0 errors, 1 warning/);
  // The annotator's follower of a shared log reads the glued event too (it reads lines as the log reader does).
  // The follower's file watcher does not keep the process alive (as in the editor): the guard timer does, and
  // fails the test if the follower never reports.
  const followed = await new Promise<string[]>((resolve, reject) => {
    const guard = setTimeout(() => { f.close(); reject(new Error('the follower reported nothing within 10 s of the append')); }, 10_000);
    const f = followLog(log, 0, () => true, (events) => { clearTimeout(guard); f.close(); resolve(events.map((e) => e.item)); }, 20);
    setTimeout(() => appendEventSync(log, event('four')), 100);
  });
  assert.deepEqual(followed, ['one', 'two', 'three', 'four']);
});

test('metrics.jsonl: a torn fragment in the middle is skipped and an event glued to it is read', () => {
  const runDir = join(dir, 'run');
  mkdirSync(runDir);
  const ev = (i: number) => JSON.stringify({ ts: '2026-01-01T00:00:00.000Z', type: 'log', level: 'info', message: `m${i}` });
  const torn = ev(99).slice(0, 30);
  writeFileSync(join(runDir, 'metrics.jsonl'), [ev(1), torn + ev(2), torn, ev(3)].join('\n') + '\n');
  assert.deepEqual(replayRun(runDir).map((e) => (e.type === 'log' ? e.message : e.type)), ['m1', 'm2', 'm3']);
  // A line that is neither an event nor a cut-off one is still an error naming file:line.
  writeFileSync(join(runDir, 'metrics.jsonl'), [ev(1), 'garbage', ev(3)].join('\n') + '\n');
  assert.throws(() => replayRun(runDir), /metrics\.jsonl:2: not JSON/);
});

test('a 600 MB line is reported as file:line with its size; the lines around it are read', async () => {
  const file = join(dir, 'huge.jsonl');
  const good = (id: string) => JSON.stringify({ id, prompt: 'p', responses: ['a', 'b'] });
  const fd = openSync(file, 'w');
  writeSync(fd, `${good('first')}\n{"id":"huge","prompt":"`);
  const hugeStart = fstatSync(fd).size;
  ftruncateSync(fd, hugeStart + 600 * 1024 * 1024); // 600 MB of NUL bytes inside the string (a sparse file: no disk)
  writeSync(fd, `","responses":["a","b"]}\n${good('last')}\n`, hugeStart + 600 * 1024 * 1024);
  closeSync(fd);
  try {
    const run = dap('validate', file);
    assert.equal(run.signal, null, run.stderr);
    assert.equal(run.code, 1, run.stderr);
    assert.equal(run.stdout, `${file}:2: line: line is 600.0 MB, over the limit of 64 MB; skipped\n${file}: 2 valid items; 1 error, 0 warnings\n`);
    const read = await readTasks(file);
    assert.deepEqual(read.items.map((i) => i.id), ['first', 'last']);
    // The annotator's lazy index shows the line as a problem item and keeps the others.
    const index = TaskIndex.open(file);
    assert.equal(await index.complete, 3);
    assert.deepEqual((await index.get(1))?.issues.map((i) => `${i.line}:${i.field}:${i.message}`), ['2:line:line is 600.0 MB, over the limit of 64 MB; skipped']);
    assert.equal((await index.get(2))?.item?.id, 'last');
  } finally {
    rmSync(file);
  }
});

test('/dev/zero, a FIFO and a directory are refused by name, at once', () => {
  const fifo = join(dir, 'pipe.jsonl');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  for (const [path, kind] of [['/dev/zero', 'a character device'], [fifo, 'a FIFO \\(named pipe\\)'], [dir, 'a directory']] as const) {
    const run = dap('validate', path);
    assert.equal(run.signal, null, `${path}: ${run.stderr}`);
    assert.equal(run.code, 1, `${path}: ${run.stdout}${run.stderr}`);
    assert.match(run.stderr, new RegExp(`^dap validate: ${path.replace(/[/.]/g, '\\$&')}: is ${kind}, not a JSONL file\\n$`));
  }
});

test('an event whose ts is not a time, or whose ms is not finite, is an error naming the field', async () => {
  const log = join(dir, 'times.annotations.jsonl');
  writeFileSync(log, [
    JSON.stringify(event('yesterday', { ts: 'yesterday' })),
    '{"v":1,"item":"inf","annotator":"ann","kind":"pair","shown":[0,1],"choice":"a","ts":"2026-01-01T00:00:00.000Z","ms":1e400}',
    JSON.stringify(event('month13', { ts: '2026-13-01T00:00:00Z' })),
    JSON.stringify(event('offset', { ts: '2026-01-01T09:30:00+02:00', ms: 1234.5 })),
  ].join('\n') + '\n');
  const read = await readAnnotationLog(log, { displayName: 'times.annotations.jsonl' });
  assert.deepEqual(read.events.map((e) => e.event.item), ['offset']);
  assert.deepEqual(read.issues.map((i) => `${i.line}:${i.field}:${i.severity}`), ['1:ts:error', '2:ms:error', '3:ts:error']);
  assert.match(read.issues[0].message, /expected an ISO-8601 time .*got "yesterday"/);
  assert.match(read.issues[1].message, /expected a finite non-negative number of milliseconds, got Infinity/);
  const run = dap('validate', log);
  assert.equal(run.code, 1, run.stdout);
  assert.match(run.stdout, /times\.annotations\.jsonl:1: ts: expected an ISO-8601 time/);
});
