/**
 * The `dap` CLI on real files (spawned as `node --import tsx src/cli/main.ts ...`): help and exit codes,
 * `validate` on a file with planted bad lines and on duplicate ids, `stats` and `export` on the sample
 * data. Also checks that the committed sample data is exactly what scripts/gen-samples.ts generates and
 * that it is verifiable, and what a user who brings odd files and flags gets: `--out` never overwrites an
 * input however it is spelled, a directory or a damaged log is named clearly, bad flag values exit 2, and
 * a reader that closes the pipe early (`| head`) gets no stack trace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { linkSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { buildSync } from 'esbuild';
import { readTasks } from '../../src/core/tasks';
import { solvePrompt, isCorrect } from '../../src/core/verify';
import { BACKEND_FLAG_VALUES } from '../../src/cli/command';
import { BACKEND_PREFERENCES } from '../../src/engine/backend';

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'dap-cli-'));
const tasks = join(root, 'media/samples/arith.tasks.jsonl');
const log = join(root, 'media/samples/arith.annotations.jsonl');

// The CLI bundled fresh from src (as scripts/build.mjs does): starts far faster than tsx on a busy machine.
const bundle = join(dir, 'cli.cjs');
buildSync({ entryPoints: [join(root, 'src/cli/main.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: bundle, logLevel: 'error', external: ['@tensorflow/tfjs-node', 'webgpu'] });

/** Runs the bundled CLI. */
function dap(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bundle, ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs the CLI from source through tsx, exactly as `node --import tsx src/cli/main.ts ...`. */
function dapFromSource(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('help, per-command help, unknown command', () => {
  const help = dap('--help');
  assert.equal(help.code, 0);
  for (const name of ['validate', 'stats', 'export']) assert.match(help.stdout, new RegExp(`^  ${name} `, 'm'));
  const sub = dap('export', '--help');
  assert.equal(sub.code, 0);
  assert.match(sub.stdout, /^Usage: dap export TASKS/);
  const unknown = dap('frobnicate');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command "frobnicate"[\s\S]*Commands:/);
});

test('validate: line-numbered errors and exit 1; a clean file exits 0', () => {
  const bad = join(dir, 'tasks.jsonl');
  writeFileSync(bad, [
    '{"id":"a","prompt":"p","responses":["x","y"]}',
    '{"id":"b","prompt":"p","responses":["x",{"text":1}]}',
    '{oops',
    '{"id":"a","prompt":"q","responses":["x","y"]}',
  ].join('\n') + '\n');
  const run = dapFromSource('validate', bad);
  assert.equal(run.code, 1);
  assert.deepEqual(run.stdout.trim().split('\n').slice(0, 3).map((l) => l.split(': ').slice(0, 2).join(': ')), [
    `${bad}:2: responses[1].text`,
    `${bad}:3: line`,
    `${bad}:4: id`,
  ]);
  assert.ok(run.stdout.endsWith(`${bad}: 1 valid item; 3 errors, 0 warnings\n`), run.stdout);
  const good = dap('validate', tasks, '--log', log);
  assert.equal(good.code, 0, good.stdout);
  assert.match(good.stdout, /300 valid items; .*0 errors, 0 warnings/);
  assert.equal(dap('validate').code, 2, 'missing FILE is a usage error');
});

test('validate: a duplicate written id is an error (exit 1) naming file, line and field; a repeated id-less item only a warning', () => {
  const dupIds = join(dir, 'dup-ids.jsonl');
  writeFileSync(dupIds, [
    '{"id":"x1","prompt":"p","responses":["a","b"]}',
    '',
    '{"id":"x1","prompt":"q","responses":["c","d"]}',
  ].join('\n') + '\n');
  const run = dap('validate', dupIds);
  assert.equal(run.code, 1, run.stdout);
  assert.deepEqual(run.stdout.split('\n'), [
    `${dupIds}:3: id: duplicate id "x1", first on line 1; line skipped`,
    `${dupIds}: 1 valid item; 1 error, 0 warnings`,
    '',
  ]);
  const repeated = join(dir, 'repeated.jsonl');
  const line = '{"prompt":"p","responses":["a","b"]}';
  writeFileSync(repeated, [line, '{"prompt":"p","responses":["a","c"]}', line].join('\n') + '\n');
  const warn = dap('validate', repeated);
  assert.equal(warn.code, 0, warn.stdout);
  // The content id, from the documented rule: sha256 over the canonical JSON of prompt + response texts.
  const contentId = `h:${createHash('sha256').update('{"prompt":"p","responses":["a","b"]}').digest('hex').slice(0, 16)}`;
  assert.deepEqual(warn.stdout.split('\n'), [
    `${repeated}:3: id: warning: duplicate item: same prompt and responses as line 1 (content id "${contentId}"); line skipped`,
    `${repeated}: 2 valid items; 0 errors, 1 warning`,
    '',
  ]);
});

test('stats --json and export on the sample data agree with the library', () => {
  const stats = dap('stats', tasks, '--json');
  assert.equal(stats.code, 0, stats.stderr);
  const s = JSON.parse(stats.stdout);
  assert.equal(s.items, 300);
  assert.equal(s.annotatedItems, 300);
  assert.deepEqual(s.perAnnotator.map((a: { annotator: string }) => a.annotator), ['alice', 'bob']);
  const disagreement = 1 - s.agreement.pairs.overall.percent;
  assert.ok(disagreement >= 0.1 && disagreement <= 0.2, `pair disagreement ${disagreement}`);
  const trl = dap('export', tasks, '--format', 'trl');
  assert.equal(trl.code, 0, trl.stderr);
  const rows = trl.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(rows.length > 250);
  // Annotators mostly prefer the correct answer: most pairs with exactly one correct side choose it.
  let right = 0;
  let wrong = 0;
  for (const r of rows) {
    const spec = solvePrompt(r.prompt);
    assert.ok(spec, r.prompt);
    const c = isCorrect(spec, r.chosen);
    const w = isCorrect(spec, r.rejected);
    if (c && !w) right++;
    if (w && !c) wrong++;
  }
  assert.ok(right > 10 * wrong, `${right} vs ${wrong}`);
  const out = join(dir, 'kto.jsonl');
  const kto = dap('export', tasks, '--format', 'kto', '--out', out);
  assert.equal(kto.code, 0, kto.stderr);
  assert.ok(readFileSync(out, 'utf8').split('\n').filter(Boolean).every((l) => typeof JSON.parse(l).label === 'boolean'));
  assert.equal(dap('export', tasks, '--format', 'nope').code, 2);
});

test('committed samples equal the generator output; every item is verifiable and short', async () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'scripts/gen-samples.ts'), dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(join(dir, 'arith.tasks.jsonl'), 'utf8'), readFileSync(tasks, 'utf8'));
  assert.equal(readFileSync(join(dir, 'arith.annotations.jsonl'), 'utf8'), readFileSync(log, 'utf8'));
  const { items, issues } = await readTasks(tasks);
  assert.deepEqual(issues, []);
  assert.ok(items.length >= 240);
  const ranks = items.filter((i) => i.responses.length > 2).length / items.length;
  assert.ok(ranks > 0.08 && ranks < 0.25, `rank share ${ranks}`);
  for (const it of items) {
    const spec = solvePrompt(it.prompt);
    assert.deepEqual(spec, { task: it.meta?.task, answer: it.meta?.answer }, it.id);
    assert.ok((it.prompt as string).length <= 40 && /^[\x20-\x7e]+$/.test(it.prompt as string));
    for (const resp of it.responses) assert.ok(resp.text.length <= 40 && /^[\x20-\x7e]+$/.test(resp.text), resp.text);
  }
});

test('export --out refuses every spelling of an input file (relative, ./, absolute, symlink, hard link); inputs stay byte-identical', () => {
  const sub = join(dir, 'outcheck');
  mkdirSync(sub);
  const taskFile = join(sub, 'd.jsonl');
  const logFile = join(sub, 'd.annotations.jsonl');
  const taskText = '{"id":"x","prompt":"p","responses":["a","b"]}\n';
  const logText = '{"v":1,"item":"x","annotator":"al","ts":"2026-01-01T00:00:00Z","kind":"pair","shown":[0,1],"choice":"a"}\n';
  writeFileSync(taskFile, taskText);
  writeFileSync(logFile, logText);
  symlinkSync(logFile, join(sub, 'link.jsonl'));
  linkSync(taskFile, join(sub, 'hard.jsonl'));
  const rel = relative(root, sub); // dap() runs in the repository root
  for (const out of [`./${rel}/d.jsonl`, join(sub, 'd.jsonl'), `${rel}/./d.annotations.jsonl`, join(sub, 'link.jsonl'), join(sub, 'hard.jsonl')]) {
    const r = dap('export', `${rel}/d.jsonl`, '--format', 'trl', '--out', out);
    assert.equal(r.code, 1, `--out ${out}: ${r.stderr}`);
    assert.match(r.stderr, /refusing to overwrite the input file/);
  }
  assert.equal(readFileSync(taskFile, 'utf8'), taskText);
  assert.equal(readFileSync(logFile, 'utf8'), logText);
  const ok = dap('export', `${rel}/d.jsonl`, '--format', 'trl', '--out', join(sub, 'pairs.jsonl'));
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(readFileSync(join(sub, 'pairs.jsonl'), 'utf8'), '{"prompt":"p","chosen":"a","rejected":"b","id":"x"}\n');
});

test('validate: a directory exits 1 naming it; a *.annotations.jsonl whose first line is torn is still checked as a log', () => {
  const folder = join(dir, 'folder.jsonl');
  mkdirSync(folder);
  for (const args of [['validate', folder], ['stats', folder], ['export', folder, '--format', 'trl', '--log', folder]]) {
    const r = dap(...args);
    assert.equal(r.code, 1, args.join(' '));
    assert.equal(r.stderr, `dap ${args[0]}: ${folder}: is a directory, not a JSONL file\n`);
  }
  const log = join(dir, 'torn.annotations.jsonl');
  writeFileSync(log, '{"v":1,"item":"x","annot\n{"v":1,"item":"x","annotator":"al","ts":"2026-01-01T00:00:00Z","kind":"undo"}\n');
  const r = dap('validate', log);
  assert.equal(r.code, 0, r.stdout);
  assert.equal(r.stdout, `${log}:1: line: warning: torn line (an event cut off by an interrupted write); skipped\n${log}: annotation log, 1 event; 0 errors, 1 warning\n`);
});

test('an annotation log given where the task file belongs is a usage error naming the task file', () => {
  const sub = join(dir, 'swapped');
  mkdirSync(sub);
  writeFileSync(join(sub, 'q.tasks.jsonl'), '{"id":"x","prompt":"p","responses":["a","b"]}\n');
  const log = join(sub, 'q.annotations.jsonl');
  writeFileSync(log, '{"v":1,"item":"x","annotator":"al","ts":"2026-01-01T00:00:00Z","kind":"pair","shown":[0,1],"choice":"a"}\n');
  for (const args of [['stats', log], ['export', log, '--format', 'trl'], ['review', log], ['validate', log, '--log', log]]) {
    const r = dap(...args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, new RegExp(`^dap ${args[0]}: ${log} is an annotation log; give its task file \\(${join(sub, 'q.tasks.jsonl')}\\)\n`));
  }
  assert.equal(dap('validate', log).code, 0, 'alone, the log itself is validated');
});

test('bad --backend or --seed values are usage errors (exit 2) before anything runs', () => {
  assert.deepEqual([...BACKEND_FLAG_VALUES], [...BACKEND_PREFERENCES], 'the CLI accepts exactly the engine\'s backends');
  const pairs = join(dir, 'flags.jsonl');
  writeFileSync(pairs, '{"prompt":"p","chosen":"a","rejected":"b"}\n');
  for (const args of [
    ['logps', '--model', 'builtin', '--data', pairs, '--seed', 'abc'],
    ['logps', '--model', 'builtin', '--data', pairs, '--backend', 'gpu'],
    ['train', pairs, '--backend', 'gpu', '--out', dir],
    ['demo', '--seed', 'x', '--out', dir],
    ['review', pairs, '--backend', 'gpu', '--model', 'builtin'],
  ]) {
    const r = dap(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /--(seed|backend): expected/);
  }
});

test('a reader that closes the pipe early (| head) gets no stack trace', async () => {
  // A 1 MB response makes the export far larger than a pipe buffer, so the CLI is still writing when the pipe closes.
  const big = join(dir, 'big.jsonl');
  writeFileSync(big, JSON.stringify({ id: 'b', prompt: 'p', responses: ['x'.repeat(1 << 20), 'y'] }) + '\n');
  writeFileSync(join(dir, 'big.annotations.jsonl'), '{"v":1,"item":"b","annotator":"al","ts":"2026-01-01T00:00:00Z","kind":"pair","shown":[0,1],"choice":"a"}\n');
  const child = spawn(process.execPath, [bundle, 'export', big, '--format', 'kto'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.once('data', () => child.stdout.destroy());
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  assert.equal(stderr, '');
  assert.equal(code, 0);
});
