/**
 * `dap stats` over a log larger than its memory budget (core/projectStats.ts): the log and the items are
 * hash-partitioned into temporary files and resolved one partition at a time. On a generated
 * multi-annotator project (pairs, rankings, ties, both-bad, undos including empty ones, flags, confirms,
 * unknown ids, out-of-range shown indices, bad lines in both files, a torn fragment before an event, a BOM
 * and CRLF line ends, a two-model comparison) the report and
 * the issues (text and order) with the budget forced tiny (many partitions) equal those of the whole log
 * in memory, and those of the in-memory library (loadProject + the report functions the review panel
 * uses), also with the task file's ids forced to spill (core/taskScan.ts) so that its duplicate ids are found
 * after the read. The model pair is the first *named* item's, also when an earlier unnamed item differs. The
 * temporary files are gone afterwards: after a normal run, after an error, and after SIGINT.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { agreementReport, responseStats } from '../../src/core/agreement';
import { formatIssue } from '../../src/core/issues';
import { compareModels, comparisonModels } from '../../src/core/modelComparison';
import { positionBias } from '../../src/core/positionBias';
import { loadProject } from '../../src/core/project';
import { projectStats, type ProjectStats } from '../../src/core/projectStats';
import { AUTOMATIC_JUDGES } from '../../src/core/verifierJudge';

const root = join(__dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'dap-stats-part-'));
const bundle = join(dir, 'cli.cjs');
buildSync({ entryPoints: [join(root, 'src/cli/main.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: bundle, logLevel: 'error', external: ['@tensorflow/tfjs-node', 'webgpu'] });
/** The log reader thread's bundle, beside the CLI's as in dist/ (the CLI uses it on a machine of 2+ cores). */
const logWorker = join(dir, 'statsLogWorker.js');
buildSync({ entryPoints: [join(root, 'src/cli/statsLogWorker.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: logWorker, logLevel: 'error' });
after(() => rmSync(dir, { recursive: true, force: true }));

/** A small deterministic generator (xorshift). */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

/** Item ids, some with characters a spill line must keep: tab, quote, backslash, newline, a lone surrogate, an emoji. */
function itemId(i: number): string {
  const odd = ['tab\there', 'quo"te', 'back\\slash', 'new\nline', 'lone\ud800', 'emoji\u{1F600}', '"quoted"', ' '];
  return i % 31 === 7 ? `${odd[(i / 31) | 0] ?? 'x'}${i}` : `it${i}`;
}

/** Writes a task file and a log exercising every resolution rule; returns their paths. */
function project(name: string, options: { firstPairUnnamed?: boolean } = {}): { tasks: string; log: string } {
  const r = rng(name.length * 7919 + 17);
  const tasks = join(dir, `${name}.tasks.jsonl`);
  const log = join(dir, `${name}.log.jsonl`);
  const lines: string[] = [];
  if (options.firstPairUnnamed) lines.push(JSON.stringify({ id: 'lead', prompt: 'p', responses: [{ text: 'x', model: 'B' }, { text: 'y', model: 'A' }] }));
  for (let i = 0; i < 240; i++) {
    const n = i % 5 === 0 ? 3 : 2;
    const models = i % 7 === 3 ? ['A', 'C'] : ['A', 'B', 'A'];
    const responses: (string | { text: string; model?: string })[] = Array.from({ length: n }, (_, k) => (i % 2 === 0 ? { text: `r${i}.${k}`, model: models[k] } : `r${i}.${k}`));
    if (n === 3 && i % 2 === 0) responses[2] = { text: `r${i}.2` }; // three responses, the third of no model: no comparison
    lines.push(JSON.stringify({ id: itemId(i), prompt: `q${i}`, responses }));
    if (i === 40) lines.push('{"prompt": "no responses"}');
    if (i === 90) lines.push(JSON.stringify({ id: 'it3', prompt: 'dup', responses: ['a', 'b'] }), JSON.stringify({ id: itemId(38), prompt: 'dup', responses: ['a', 'b'] }));
    if (i === 150) lines.push(JSON.stringify({ id: itemId(4), prompt: 'dup', responses: [{ text: 'a', model: 'B' }, { text: 'b', model: 'A' }] })); // a repeat comparing the models the other way round: not counted, not used
  }
  writeFileSync(tasks, `${lines.join('\n')}\n`);
  const annotators = ['ann', 'bo', 'cy', 'di', 'verifier'];
  const ev: string[] = [];
  const base = (item: string, annotator: string) => ({ v: 1, item, annotator, ts: '2026-01-01T00:00:00Z' });
  for (let e = 0; e < 2600; e++) {
    const i = Math.floor(r() * 250); // ids 240..249 are unknown
    const item = itemId(i);
    const n = i % 5 === 0 ? 3 : 2;
    const annotator = annotators[Math.floor(r() * annotators.length)];
    const x = r();
    if (x < 0.08) ev.push(JSON.stringify({ ...base(item, annotator), kind: 'undo' }));
    else if (x < 0.12) ev.push(JSON.stringify({ ...base(item, annotator), kind: 'flag', flagged: r() < 0.5 }));
    else if (x < 0.14) ev.push(JSON.stringify({ ...base(item, annotator), kind: 'confirm', reason: 'never_won' }));
    else if (x < 0.16) ev.push(JSON.stringify({ ...base(item, annotator), kind: 'pair', shown: [0, 2 + Math.floor(r() * 3)], choice: 'a' })); // out of range for 2
    else if (x < 0.17) ev.push('{"v": 1, "item": "broken"');
    else if (x < 0.175) ev.push(`{"v": 1, "item": "it1", "anno${JSON.stringify({ ...base(item, annotator), kind: 'pair', shown: [1, 0], choice: 'b' })}`); // a torn fragment, then an event
    else if (x < 0.18) ev.push('not json at all');
    else if (n === 3 && x < 0.6) {
      const order = [0, 1, 2].sort(() => r() - 0.5);
      const ranking = r() < 0.3 ? [[order[0], order[1]], [order[2]]] : order.map((k) => [k]);
      ev.push(JSON.stringify({ ...base(item, annotator), kind: 'rank', shown: order, ranking }));
    } else {
      const shown = r() < 0.5 ? [0, 1] : [1, 0];
      const choice = ['a', 'a', 'b', 'b', 'tie', 'both_bad'][Math.floor(r() * 6)];
      ev.push(JSON.stringify({ ...base(item, annotator), kind: 'pair', shown, choice }));
    }
  }
  writeFileSync(log, `\ufeff${ev.join('\r\n')}\r\n`); // a BOM and CRLF line ends, as an editor on Windows saves
  return { tasks, log };
}

async function run(tasks: string, log: string, partitionBytes?: number, idsInMemory?: number): Promise<{ stats: ProjectStats; issues: string[] }> {
  const issues: string[] = [];
  const stats = await projectStats(tasks, log, { partitionBytes, idsInMemory, automaticJudges: AUTOMATIC_JUDGES, onIssue: (i) => issues.push(formatIssue(i)) });
  return { stats, issues };
}

test('a partitioned log gives the report and the issues of the whole log in memory, and of the library', async () => {
  const { tasks, log } = project('mixed');
  const whole = await run(tasks, log);
  const parts = await run(tasks, log, 4000);
  assert.equal(whole.stats.partitions, 1);
  assert.ok(parts.stats.partitions >= 20, `partitions: ${parts.stats.partitions}`);
  const { partitions: _a, ...wholeReport } = whole.stats;
  const { partitions: _b, ...partReport } = parts.stats;
  assert.deepEqual(partReport, wholeReport);
  assert.deepEqual(parts.issues, whole.issues);
  // the task file's ids spilled too (7 in memory: the duplicates come after the switch), log whole or partitioned
  for (const partitionBytes of [undefined, 4000]) {
    const spilled = await run(tasks, log, partitionBytes, 7);
    const { partitions: _c, ...spilledReport } = spilled.stats;
    assert.deepEqual(spilledReport, wholeReport, `log budget ${partitionBytes}`);
    assert.deepEqual(spilled.issues, whole.issues, `log budget ${partitionBytes}`);
  }
  // the data really exercises the rules
  for (const what of ['unknown item id', 'out of range', 'with no judgment', 'duplicate id', 'line:', 'torn fragment']) assert.ok(whole.issues.some((i) => i.includes(what)), what);
  assert.ok(whole.stats.agreement.rankings.overall.n > 10 && whole.stats.agreement.pairs.overall.n > 50);
  assert.ok(whole.stats.models && whole.stats.models.judgedItems > 10);

  // The in-memory library (loadProject, as the review panel reads a project) says the same.
  const p = await loadProject(tasks, log);
  assert.deepEqual(whole.issues, p.issues.map(formatIssue));
  const { judgments } = p.resolution;
  assert.equal(whole.stats.items, p.items.length);
  assert.equal(whole.stats.judgments, judgments.length);
  assert.equal(whole.stats.events, p.events.length);
  assert.deepEqual(whole.stats.agreement, agreementReport(judgments));
  assert.deepEqual(whole.stats.positionBias, positionBias(judgments, AUTOMATIC_JUDGES));
  const named = p.items.filter((it) => p.events.some((e) => e.event.item === it.id));
  assert.deepEqual(whole.stats.models, compareModels(p.items, judgments, comparisonModels(named), AUTOMATIC_JUDGES));
  const lost = responseStats(p.items, judgments).filter((s) => s.neverWon);
  assert.equal(whole.stats.neverWon, lost.length);
  assert.equal(whole.stats.neverWonItems, new Set(lost.map((s) => s.item)).size);
});

test('the model pair is that of the first item the log names, partitioned or not', async () => {
  const { tasks, log } = project('lead', { firstPairUnnamed: true });
  const whole = await run(tasks, log);
  const parts = await run(tasks, log, 3000);
  assert.ok(parts.stats.partitions > 1);
  assert.deepEqual([whole.stats.models?.a, whole.stats.models?.b], ['A', 'B'], 'the unnamed first item (B, A) does not decide');
  const p = await loadProject(tasks, log);
  assert.equal(whole.stats.models?.items, p.items.filter((it) => it.responses.some((x) => x.model === 'B')).length);
  assert.deepEqual(parts.stats.models, whole.stats.models);
  assert.deepEqual((await run(tasks, log, 3000, 5)).stats.models, whole.stats.models, 'ids spilled');
});

/** Runs the bundled CLI with TMPDIR set to a fresh folder; returns the result and that folder. */
function dapStats(env: Record<string, string>, ...args: string[]): { code: number | null; stdout: string; stderr: string; tmp: string } {
  const tmp = mkdtempSync(join(dir, 'tmp-'));
  const r = spawnSync(process.execPath, [bundle, 'stats', ...args], { encoding: 'utf8', env: { ...process.env, TMPDIR: tmp, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, tmp };
}

test('dap stats prints the same with a tiny budget, and leaves no temporary file', () => {
  const { tasks, log } = project('cli');
  const whole = dapStats({}, tasks, '--log', log, '--json');
  const parts = dapStats({ DAP_STATS_PARTITION_BYTES: '2000' }, tasks, '--log', log, '--json');
  assert.equal(whole.code, 0, whole.stderr);
  assert.equal(parts.code, 0, parts.stderr);
  assert.equal(parts.stdout, whole.stdout);
  assert.equal(parts.stderr, whole.stderr);
  assert.match(parts.stderr, /unknown item id/);
  assert.deepEqual(readdirSync(parts.tmp), []);
  const text = dapStats({ DAP_STATS_PARTITION_BYTES: '2000' }, tasks, '--log', log);
  assert.equal(text.stdout, dapStats({}, tasks, '--log', log).stdout);
  assert.match(text.stdout, /ranking agreement: \d+ common items/);
  const spilled = dapStats({ DAP_STATS_PARTITION_BYTES: '2000', DAP_DATA_IDS_IN_MEMORY: '5' }, tasks, '--log', log, '--json');
  assert.equal(spilled.stdout, whole.stdout);
  assert.equal(spilled.stderr, whole.stderr);
  assert.deepEqual(readdirSync(spilled.tmp), []);
  const oneThread = dapStats({ DAP_STATS_PARTITION_BYTES: '2000', DAP_STATS_LOG_THREAD: '0' }, tasks, '--log', log, '--json');
  assert.equal(oneThread.stdout, whole.stdout);
  assert.equal(oneThread.stderr, whole.stderr);
});

test('with the log read on a second thread: the same report and issues (order too); its errors come through', async () => {
  const { tasks, log } = project('thread');
  const run = async (options: { logWorker?: string }) => {
    const issues: string[] = [];
    const stats = await projectStats(tasks, log, { partitionBytes: 2000, automaticJudges: AUTOMATIC_JUDGES, onIssue: (i) => issues.push(formatIssue(i)), ...options });
    return { stats, issues };
  };
  const inline = await run({});
  const threaded = await run({ logWorker });
  assert.ok(inline.stats.partitions > 1);
  assert.deepEqual(threaded, inline);
  assert.ok(inline.issues.some((i) => /torn/.test(i)) && inline.issues.some((i) => /unknown item id/.test(i)), 'the log has line issues and resolution issues');
  await assert.rejects(run({ logWorker: join(dir, 'no-such-worker.js') }), /no-such-worker/, 'the option is used');
  await inTmpdir('tmp-thread-', async (tmp) => {
    const folder = join(dir, 'a-log-folder.jsonl');
    mkdirSync(folder);
    await assert.rejects(projectStats(tasks, folder, { partitionBytes: 1, logWorker, onIssue: () => {} }), /is a directory/, 'an error of the thread');
    await assert.rejects(projectStats(folder, log, { partitionBytes: 2000, logWorker, onIssue: () => {} }), /is a directory/, 'an error here while the thread reads');
    assert.deepEqual(readdirSync(tmp), [], 'no temporary file left');
  });
});

/** Runs `body` with TMPDIR set to a fresh folder (given to it), then puts TMPDIR back. */
async function inTmpdir(prefix: string, body: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = mkdtempSync(join(dir, prefix));
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = tmp;
  try {
    await body(tmp);
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
}

test('the temporary files are removed after an error and after SIGINT', async () => {
  const { log } = project('err');
  await inTmpdir('tmp-err-', async (tmp) => {
    const folder = join(dir, 'a-folder.jsonl');
    mkdirSync(folder);
    await assert.rejects(projectStats(folder, log, { partitionBytes: 2000, onIssue: () => {} }), /is a directory/);
    assert.deepEqual(readdirSync(tmp), []);
  });
  // A process interrupted while its spill folder exists: the folder goes, and the process still ends by SIGINT.
  const script = join(dir, 'spill-child.ts');
  writeFileSync(script, [
    `import { SpillFiles } from ${JSON.stringify(join(root, 'src/core/spillFiles.ts'))};`,
    "const s = new SpillFiles<'x'>(3);",
    "s.write(1, 'x', 'hello');",
    's.finishWriting();',
    'console.log(s.folder);',
    'setInterval(() => {}, 1000);',
  ].join('\n'));
  const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const folder = await new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim()));
    child.once('exit', (code) => reject(new Error(`the child ended (${code}) before printing its folder`)));
  });
  assert.ok(existsSync(join(folder, 'x-1.jsonl')));
  const ended = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  child.kill('SIGINT');
  assert.equal(await ended, 'SIGINT');
  assert.equal(existsSync(folder), false);
});
