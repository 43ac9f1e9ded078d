/**
 * The crash-mid-write race on a shared log, with real child processes: writer A appends small events and
 * prints each id once its append returned (acknowledged); writer B appends 2–8 MB events and is SIGKILLed
 * again and again, often in the middle of its write, leaving a fragment without '\n' that A's next line may
 * land right after. Every event A acknowledged must read back, for every public append path (annotation
 * log sync and async, the annotator's sink, a training run's metrics.jsonl).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { readAnnotationLog } from '../../src/core/annotationLog';
import { replayRun } from '../../src/train/runs/folder';

const dir = mkdtempSync(join(tmpdir(), 'dap-race-'));
after(() => rmSync(dir, { recursive: true, force: true })); // ~100 MB of written files otherwise left in the temp folder
const appender = join(dir, 'logAppender.cjs');
buildSync({ entryPoints: [join(import.meta.dirname, 'fixtures/logAppender.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: appender, logLevel: 'error' });

/**
 * Each path is raced for RACE_MS and until KILLS big writers were killed mid-write (a loaded machine starts
 * them slowly), at most MAX_MS. On the old append path ~1 kill in 10 lost one of A's events.
 */
const RACE_MS = Number(process.env.DAP_RACE_MS ?? 6000);
const KILLS = 20;
const MAX_MS = 120_000;

function start(args: string[]): { child: ChildProcess; lines: string[]; closed: Promise<void> } {
  const child = spawn(process.execPath, [appender, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  let partial = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop() as string; // only complete lines are acknowledgements
    lines.push(...parts);
  });
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  return { child, lines, closed };
}

/** Sleeps the calling thread (the poll below must not wait for the event loop). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Races A (small events) against a series of big writers, each SIGKILLed the moment its line starts to
 * grow the file (a big write is copied page by page, so the kill lands mid-write); returns A's acknowledged ids.
 */
async function race(target: string, file: string, path: string, bigPath: string): Promise<{ acked: string[]; killedWriters: number }> {
  const a = start([target, 'small', '-', path]);
  const t0 = Date.now();
  let killedWriters = 0;
  const size = () => (existsSync(file) ? statSync(file).size : 0);
  while ((Date.now() - t0 < RACE_MS || killedWriters < KILLS) && Date.now() - t0 < MAX_MS) {
    const b = start([target, `big${killedWriters}`, '-', bigPath, '2-8']);
    while (b.lines.length === 0 && b.child.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 1));
    const base = size();
    // A's small lines add bytes too: a jump of more than 256 KiB is B's line being copied.
    for (const t0 = Date.now(); size() < base + 256 * 1024 && Date.now() - t0 < 500;) sleepSync(0.05);
    b.child.kill('SIGKILL');
    await b.closed;
    killedWriters++;
  }
  a.child.kill('SIGKILL');
  await a.closed;
  return { acked: a.lines, killedWriters };
}

for (const path of ['sync', 'async', 'sink'] as const) {
  test(`annotation log, ${path} append path: a writer killed mid-write loses none of another writer's acknowledged events`, async () => {
    const log = join(dir, `${path}.annotations.jsonl`);
    const { acked, killedWriters } = await race(log, log, path, 'sync');
    assert.ok(acked.length > 100 && killedWriters >= KILLS, `race too small: ${acked.length} acknowledged, ${killedWriters} writers killed`);
    const read = await readAnnotationLog(log);
    const inFile = new Set(read.events.map((e) => e.event.item));
    const lost = acked.filter((id) => !inFile.has(id));
    assert.deepEqual(lost, [], `${lost.length} of ${acked.length} acknowledged events lost`);
    // The killed writers' fragments are reported (warnings: never acknowledged); nothing is an error.
    assert.deepEqual(read.issues.filter((i) => i.severity === 'error'), []);
    assert.ok(read.tornLines > 0, 'no big writer was killed mid-write: the race did not happen');
    rmSync(log);
  });
}

test('training metrics.jsonl append path: a writer killed mid-write loses none of another writer\'s events', async () => {
  const runDir = join(dir, 'run');
  mkdirSync(runDir);
  const { acked, killedWriters } = await race(runDir, join(runDir, 'metrics.jsonl'), 'metrics', 'metrics');
  assert.ok(acked.length > 100 && killedWriters >= KILLS, `race too small: ${acked.length} acknowledged, ${killedWriters} writers killed`);
  const messages = new Set(replayRun(runDir).flatMap((e) => (e.type === 'log' ? [e.message.split(' ')[0]] : [])));
  const lost = acked.filter((id) => !messages.has(id));
  assert.deepEqual(lost, [], `${lost.length} of ${acked.length} acknowledged events lost`);
});
