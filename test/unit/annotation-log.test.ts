/**
 * Annotation log: crash safety (SIGKILL during appends: every acknowledged event is in the file and the
 * file still reads), two concurrent appenders, torn-tail isolation, and reader issues with line numbers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventProblems, validateAnnotationEvent } from '../../src/core/annotationEvents';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { appendEvent, appendEventSync, readAnnotationLog } from '../../src/core/annotationLog';
import type { AnnotationEvent } from '../../src/core/types';

const dir = mkdtempSync(join(tmpdir(), 'dap-log-'));
const appender = join(dir, 'logAppender.cjs');
buildSync({ entryPoints: [join(import.meta.dirname, 'fixtures/logAppender.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: appender, logLevel: 'error' });

/** Runs the appender; kills it with SIGKILL `killAfterMs` after its first acknowledgement (or lets it finish). */
function runAppender(log: string, prefix: string, options: { count?: number; killAfterMs?: number }): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const args = [appender, log, prefix, ...(options.count !== undefined ? [String(options.count)] : [])];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      if (options.killAfterMs !== undefined && timer === undefined) timer = setTimeout(() => child.kill('SIGKILL'), options.killAfterMs);
    });
    child.on('error', reject);
    child.on('close', () => {
      // Only complete lines are acknowledged ids.
      resolve(out.split('\n').slice(0, -1));
    });
  });
}

function pairEvent(item: string, annotator = 'ann'): AnnotationEvent {
  return { v: 1, item, annotator, kind: 'pair', shown: [0, 1], choice: 'a', ts: '2026-01-01T00:00:00.000Z' };
}

test('SIGKILL at random times: every acknowledged event is in the file and the file still reads', async () => {
  const log = join(dir, 'killed.jsonl');
  const acked: string[] = [];
  let planted = 0;
  const kills = 20;
  for (let k = 0; k < kills; k++) {
    if (k % 5 === 4) {
      // Simulate a power loss mid-write too: a torn fragment without '\n' at the end of the file.
      appendFileSync(log, '{"v":1,"item":"torn-fragment","annot');
      planted++;
    }
    acked.push(...(await runAppender(log, `k${k}`, { killAfterMs: 5 + Math.floor(Math.random() * 40) })));
  }
  const read = await readAnnotationLog(log);
  const inFile = new Set(read.events.map((e) => e.event.item));
  const missing = acked.filter((id) => !inFile.has(id));
  assert.deepEqual(missing, [], 'acknowledged events missing from the log');
  assert.ok(acked.length >= kills, `expected at least one acknowledgement per run, got ${acked.length}`);
  assert.equal(read.issues.filter((i) => i.severity === 'error').length, 0, JSON.stringify(read.issues));
  assert.ok(read.tornLines >= planted && read.tornLines <= planted + kills, `torn lines ${read.tornLines}`);
  for (const issue of read.issues) assert.match(issue.message, /torn/);
  // Every event line in the file is one whole event (ids are unique: no line was written twice).
  assert.equal(inFile.size, read.events.length);
});

test('two processes appending at once: no interleaved or torn lines', async () => {
  const log = join(dir, 'concurrent.jsonl');
  const [a, b] = await Promise.all([runAppender(log, 'alice', { count: 150 }), runAppender(log, 'bob', { count: 150 })]);
  assert.equal(a.length, 150);
  assert.equal(b.length, 150);
  const read = await readAnnotationLog(log);
  assert.deepEqual(read.issues, []);
  assert.equal(read.events.length, 300);
  const lines = readFileSync(log, 'utf8').split('\n');
  assert.equal(lines.pop(), '', 'file ends with a newline');
  // A blank line is allowed (an appender that saw the other's write half-done for longer than the torn-tail
  // recheck isolates it with a '\n'); every other line is one whole event.
  for (const line of lines.filter((l) => l !== '')) assert.doesNotThrow(() => JSON.parse(line), line);
  // Each writer's own events stay in its order.
  for (const who of ['alice', 'bob']) {
    const order = read.events.filter((e) => e.event.annotator === who).map((e) => Number(e.event.item.split('-')[1]));
    assert.deepEqual(order, [...Array(150).keys()]);
  }
});

test('append after a torn tail starts a new line; the fragment is reported with its line number', async () => {
  const log = join(dir, 'torn.jsonl');
  appendEventSync(log, pairEvent('one'));
  appendFileSync(log, '{"v":1,"item":"two","annotator":"ann","kind":"pa');
  let read = await readAnnotationLog(log, { displayName: 'torn.jsonl' });
  assert.deepEqual(read.events.map((e) => e.event.item), ['one']);
  assert.equal(read.issues.length, 1);
  assert.equal(read.issues[0].line, 2);
  assert.equal(read.issues[0].severity, 'warning');
  assert.match(read.issues[0].message, /torn last line/);
  await appendEvent(log, pairEvent('three'));
  const text = readFileSync(log, 'utf8');
  assert.ok(text.endsWith('"kind":"pa\n' + JSON.stringify(pairEvent('three')) + '\n'), text);
  read = await readAnnotationLog(log);
  assert.deepEqual(read.events.map((e) => [e.line, e.event.item]), [[1, 'one'], [3, 'three']]);
  assert.equal(read.tornLines, 1);
  assert.equal(read.issues[0].line, 2);
  assert.match(read.issues[0].message, /torn line/);
});

test('a tail that is completed within the recheck pause is not mistaken for a torn line', async () => {
  const log = join(dir, 'in-flight.jsonl');
  appendEventSync(log, pairEvent('first'));
  // Another writer's line, observed half-written: its end arrives a few milliseconds later.
  const other = JSON.stringify(pairEvent('other'));
  appendFileSync(log, other.slice(0, 20));
  const appending = appendEvent(log, pairEvent('mine'));
  await new Promise((resolve) => setTimeout(resolve, 5));
  appendFileSync(log, `${other.slice(20)}\n`);
  await appending;
  const text = readFileSync(log, 'utf8');
  assert.equal(text, [pairEvent('first'), pairEvent('other'), pairEvent('mine')].map((e) => JSON.stringify(e) + '\n').join(''));
});

test('invalid lines elsewhere are errors naming line and field; reading continues', async () => {
  const log = join(dir, 'bad.jsonl');
  const good = JSON.stringify(pairEvent('ok'));
  const lines = [
    good,
    JSON.stringify({ ...pairEvent('x'), choice: 'c' }),
    '{"v":1} trailing',
    JSON.stringify({ ...pairEvent('y'), kind: 'rank', ranking: [[0], [0]] }),
    '',
    JSON.stringify({ v: 1, item: 'z', annotator: 'ann', ts: '2026-01-01T00:00:00Z', kind: 'flag' }),
    JSON.stringify({ ...pairEvent('ok2'), annotator: '' }),
    good,
  ];
  writeFileSync(log, lines.join('\r\n') + '\r\n');
  const read = await readAnnotationLog(log, { displayName: 'bad.jsonl' });
  assert.deepEqual(read.events.map((e) => e.line), [1, 8]);
  const got = read.issues.map((i) => `${i.line}:${i.field}:${i.severity}`);
  assert.deepEqual(got, ['2:choice:error', '3:line:error', '4:ranking:error', '6:flagged:error', '7:annotator:error']);
});

test('appendEvent refuses an invalid event and leaves the file untouched', async () => {
  const log = join(dir, 'refuse.jsonl');
  appendEventSync(log, pairEvent('a'));
  const before = readFileSync(log);
  const bad = { ...pairEvent('b'), shown: [1, 1] } as AnnotationEvent;
  await assert.rejects(appendEvent(log, bad), /shown/);
  assert.deepEqual(readFileSync(log), before);
});

test('the quick check of a valid event accepts exactly what the full rules accept (every field varied)', () => {
  const base = { v: 1, item: 'it1', annotator: 'ann', ts: '2026-01-05T09:00:09.543Z' };
  const fieldVariants: Record<string, unknown[]> = {
    v: [1, 2, '1', undefined], item: ['it1', '', 3, undefined], annotator: ['ann', '', null],
    ts: ['2026-01-05T09:00:09.543Z', '2026-01-05', '2026-13-45T99:00:00Z', '', 5, undefined],
    note: [undefined, 'n', 3], ms: [undefined, 0, 12.5, -1, 1e400, 'x'],
  };
  const kinds: Record<string, unknown>[] = [
    { kind: 'pair', shown: [0, 1], choice: 'a' }, { kind: 'pair', shown: [1, 1], choice: 'b' }, { kind: 'pair', shown: [0, 1, 2], choice: 'tie' },
    { kind: 'pair', shown: [0, -1], choice: 'a' }, { kind: 'pair', shown: [0, 1.5], choice: 'a' }, { kind: 'pair', shown: [0, 1], choice: 'c' },
    { kind: 'pair', shown: '01', choice: 'both_bad' }, { kind: 'rank', shown: [0, 1, 2], ranking: [[1], [0, 2]] }, { kind: 'rank', shown: [0, 1], ranking: [[0]] },
    { kind: 'undo' }, { kind: 'flag', flagged: true }, { kind: 'flag', flagged: 'yes' }, { kind: 'confirm' }, { kind: 'confirm', reason: 'never_won' },
    { kind: 'confirm', reason: 4 }, { kind: 'vote' }, {},
  ];
  let valid = 0, checked = 0;
  for (const kind of kinds) {
    for (const [field, values] of Object.entries(fieldVariants)) {
      for (const value of values) {
        const e: Record<string, unknown> = { ...base, ...kind };
        if (value === undefined) delete e[field];
        else e[field] = value;
        const quick = validateAnnotationEvent(e);
        const full = eventProblems(e);
        assert.equal(quick.event !== undefined, full.length === 0, JSON.stringify(e));
        assert.deepEqual([...quick.problems], full, JSON.stringify(e));
        checked++;
        if (quick.event) valid++;
      }
    }
  }
  assert.ok(valid > 20 && checked - valid > 100, `${valid} valid of ${checked}`);
});
