/**
 * Messages for people, on real files: `dap validate` refuses an empty task file (exit 1, a clear line);
 * `dap stats` prints shares as percentages and the never-won count by the review's rule; one-click
 * training's preflight (host/training/trainInputs.ts nothingToTrainOn) says "annotate some items first"
 * for a file nobody judged, and the trainer's own message for a missing log names no CLI flag.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { appendEvent } from '../../src/core/annotationLog';
import { defaultLogPath } from '../../src/core/project';
import { nothingToTrainOn } from '../../src/host/training/trainInputs';
import { readSourceData } from '../../src/train/data';

const root = resolve(import.meta.dirname, '..', '..');
function dap(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const TS = '2026-01-01T00:00:00.000Z';

test('dap validate: an empty task file (or one of blank lines) is an error with a clear line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dap-empty-'));
  for (const [name, text] of [['empty.jsonl', ''], ['blank.jsonl', '\n  \n\n']]) {
    const file = join(dir, name);
    writeFileSync(file, text);
    const r = dap('validate', file);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`${name}:1: file: no items: the file is empty`));
    assert.match(r.stdout, /0 valid items; 1 error, 0 warnings/);
    assert.equal(dap('validate', file, '--log', join(dir, 'none.annotations.jsonl')).code, 1, 'with a log too (a missing --log is its own error)');
  }
  // An empty annotation log is fine: nothing judged yet is not a problem of the log.
  writeFileSync(join(dir, 'x.annotations.jsonl'), '');
  assert.equal(dap('validate', join(dir, 'x.annotations.jsonl')).code, 0);
});

test('dap stats: percentages as people read them, never won by the review rule', () => {
  const r = dap('stats', 'media/samples/arith.tasks.jsonl');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^pair agreement: 173 common pairs, agree 81\.5%, Cohen's kappa 0\.677$/m);
  assert.match(r.stdout, /^  alice: 252\/311 \(81\.0%\)$/m);
  assert.doesNotMatch(r.stdout, /percent 0\./);
  assert.match(r.stdout, /^never won \(lost every comparison, judged by 2\+ annotators\): 150 items, 150 responses$/m);
  const json = JSON.parse(dap('stats', 'media/samples/arith.tasks.jsonl', '--json').stdout) as { neverWon: number; neverWonItems: number };
  assert.deepEqual([json.neverWon, json.neverWonItems], [150, 150]);
  // The review panel's count is the same rule's.
  const review = JSON.parse(dap('review', 'media/samples/arith.tasks.jsonl', '--json').stdout) as { totals: { neverWon: number } };
  assert.equal(review.totals.neverWon, json.neverWonItems);
});

test('training preflight: nothing to train on says why in words; self-labelled files and judged task files train', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dap-nothing-'));
  const empty = join(dir, 'empty.jsonl');
  writeFileSync(empty, '\n');
  assert.equal(await nothingToTrainOn(empty), 'empty.jsonl is empty: there is nothing to train on.');
  const tasks = join(dir, 'team.tasks.jsonl');
  writeFileSync(tasks, JSON.stringify({ id: 'a', prompt: 'p', responses: ['x', 'y'] }) + '\n');
  const unjudged = 'team.tasks.jsonl has no judgments yet: annotate some items first, then train.';
  assert.equal(await nothingToTrainOn(tasks), unjudged, 'no log');
  const log = defaultLogPath(tasks);
  await appendEvent(log, { v: 1, kind: 'pair', item: 'a', annotator: 'ann', shown: [0, 1], choice: 'a', ts: TS });
  assert.equal(await nothingToTrainOn(tasks), undefined, 'one judgment');
  await appendEvent(log, { v: 1, kind: 'undo', item: 'a', annotator: 'ann', ts: TS });
  await appendEvent(log, { v: 1, kind: 'flag', item: 'a', annotator: 'ann', flagged: true, ts: TS });
  assert.equal(await nothingToTrainOn(tasks), unjudged, 'undone: nothing left (a flag is no judgment)');
  assert.equal(await nothingToTrainOn(tasks, log), unjudged, 'the log named explicitly');
  const trl = join(dir, 'pairs.jsonl');
  writeFileSync(trl, JSON.stringify({ prompt: 'p', chosen: 'x', rejected: 'y' }) + '\n');
  assert.equal(await nothingToTrainOn(trl), undefined, 'its rows are the labels');

  // The trainer's own message (CLI and editor alike) names no command-line flag.
  const other = join(dir, 'other.jsonl');
  writeFileSync(other, JSON.stringify({ prompt: 'p', responses: ['x', 'y'] }) + '\n');
  await assert.rejects(readSourceData(other), (e: Error) => /annotate some items first/.test(e.message) && !/--/.test(e.message));
});

test('runs folder and git: the top folder to ignore, git check-ignore before and after adding it', async () => {
  const { addToGitignore, gitIgnores, topFolderIn } = await import('../../src/host/training/trainInputs');
  const { execFileSync } = await import('node:child_process');
  const { readFileSync } = await import('node:fs');
  const ws = mkdtempSync(join(tmpdir(), 'dap-git-'));
  assert.equal(topFolderIn(ws, join(ws, '.dap')), '.dap');
  assert.equal(topFolderIn(ws, join(ws, 'out', 'x')), 'out');
  assert.equal(topFolderIn(ws, join(tmpdir(), 'elsewhere')), undefined);
  assert.equal(await gitIgnores(ws, '.dap/'), undefined, 'not a repository: nothing to offer');
  execFileSync('git', ['init', '-q'], { cwd: ws });
  writeFileSync(join(ws, '.gitignore'), 'node_modules'); // no newline at the end
  assert.equal(await gitIgnores(ws, '.dap/'), false);
  await addToGitignore(ws, '.dap');
  assert.equal(readFileSync(join(ws, '.gitignore'), 'utf8'), 'node_modules\n.dap/\n', 'appended on its own line; the rest untouched');
  assert.equal(await gitIgnores(ws, '.dap/'), true, 'the folder (as a folder: it may not exist yet)');
  assert.equal(await gitIgnores(ws, '.dap/runs/x/metrics.jsonl'), true);
});

test('dap validate: an overlap that is not a positive whole number is a warning naming the line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dap-overlap-'));
  const file = join(dir, 'o.jsonl');
  writeFileSync(file, ['{"id":"a","prompt":"p","responses":["x","y"],"overlap":0}', '{"id":"b","prompt":"p","responses":["x","y"],"overlap":2}', '{"id":"c","prompt":"p","responses":["x","y"],"meta":{"overlap":"two"}}'].join('\n') + '\n');
  const r = dap('validate', file);
  assert.equal(r.code, 0, 'warnings only');
  assert.match(r.stdout, /o\.jsonl:1: overlap: warning: expected a positive whole number of annotators, got 0; the item is for every annotator/);
  assert.match(r.stdout, /o\.jsonl:3: overlap: warning: expected a positive whole number of annotators, got "two"/);
  assert.doesNotMatch(r.stdout, /o\.jsonl:2:/);
});

test('position bias: first-shown wins per annotator and overall with an exact binomial test, in dap stats (text and JSON)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dap-bias-'));
  const tasks = join(dir, 'bias.tasks.jsonl');
  writeFileSync(tasks, Array.from({ length: 12 }, (_, i) => JSON.stringify({ id: `b${i}`, prompt: `q${i}`, responses: i === 11 ? ['x', 'y', 'z'] : ['x', 'y'] })).join('\n') + '\n');
  const log = defaultLogPath(tasks);
  const pair = (item: string, annotator: string, shown: number[], choice: 'a' | 'b' | 'tie' | 'both_bad') =>
    appendEvent(log, { v: 1, kind: 'pair', item, annotator, ts: TS, shown, choice });
  // x: A (the first shown) wins b0–b5 whatever response it was; B wins b6; b7 tie, b8 both bad (not decisive).
  for (let i = 0; i < 6; i++) await pair(`b${i}`, 'x', i % 2 ? [1, 0] : [0, 1], 'a');
  await pair('b6', 'x', [0, 1], 'b');
  await pair('b7', 'x', [0, 1], 'tie');
  await pair('b8', 'x', [1, 0], 'both_bad');
  // b9: first B, then re-judged A (the current judgment counts, once); b10: judged then undone (not counted).
  await pair('b9', 'x', [0, 1], 'b');
  await pair('b9', 'x', [0, 1], 'a');
  await pair('b10', 'x', [0, 1], 'a');
  await appendEvent(log, { v: 1, kind: 'undo', item: 'b10', annotator: 'x', ts: TS });
  // A ranking of three is not a pair: not counted. y: B wins twice.
  await appendEvent(log, { v: 1, kind: 'rank', item: 'b11', annotator: 'x', ts: TS, shown: [0, 1, 2], ranking: [[0], [1], [2]] });
  await pair('b0', 'y', [0, 1], 'b');
  await pair('b1', 'y', [1, 0], 'b');
  const r = dap('stats', tasks, '--json');
  assert.equal(r.code, 0, r.stderr);
  const bias = (JSON.parse(r.stdout) as { positionBias: { perAnnotator: { annotator: string; firstWins: number; secondWins: number; n: number; pValue: number }[]; overall: { firstWins: number; n: number; pValue: number } } }).positionBias;
  assert.deepEqual(bias.perAnnotator.map((b) => [b.annotator, b.firstWins, b.secondWins, b.n]), [['x', 7, 1, 8], ['y', 0, 2, 2]]);
  // Exact two-sided binomial p against 1/2, from BigInt counts: x 7 of 8 → 2·(C(8,0)+C(8,1))/2^8 = 18/256.
  const exact = (k: number, n: number) => {
    let tail = 0n;
    let c = 1n;
    for (let i = 0; i <= Math.min(k, n - k); i++) {
      tail += c;
      c = (c * BigInt(n - i)) / BigInt(i + 1);
    }
    return Math.min(1, Number(2n * tail) / 2 ** n);
  };
  assert.ok(Math.abs(bias.perAnnotator[0].pValue - exact(7, 8)) < 1e-12 && Math.abs(exact(7, 8) - 18 / 256) < 1e-15);
  assert.equal(bias.perAnnotator[1].pValue, exact(0, 2)); // 2 · 1/4
  assert.deepEqual([bias.overall.firstWins, bias.overall.n], [7, 10]);
  assert.ok(Math.abs(bias.overall.pValue - exact(7, 10)) < 1e-12);
  const text = dap('stats', tasks).stdout;
  assert.match(text, /^  x: first shown won 7\/8 = 87\.5% \[\d+\.\d%, \d+\.\d%\], binomial p = 0\.070$/m);
  assert.match(text, /^  all: first shown won 7\/10 = 70\.0%/m);
});

test("Runs view rows: only the config that applies to the run's method", async () => {
  const { configRows } = await import('../../src/host/training/configRows');
  const loss = { beta: 0.1, labelSmoothing: 0, delta: 1, lambda: 0.1, gamma: 0.5, desirableWeight: 1, undesirableWeight: 1, sftWeight: 1 };
  const base = { data: 'd.jsonl', loss, epochs: 3, ktoKl: 'mismatched', spin: { iterations: 2 } };
  const keys = (method: string) => configRows({ method, ...base }).map(([k]) => k);
  assert.deepEqual(keys('dpo'), ['method', 'data', 'loss.beta', 'epochs']);
  assert.deepEqual(keys('cdpo').filter((k) => k.startsWith('loss.')), ['loss.beta', 'loss.labelSmoothing']);
  assert.deepEqual(keys('slic').filter((k) => k.startsWith('loss.')), ['loss.delta', 'loss.lambda']);
  assert.deepEqual(keys('sft').filter((k) => k.startsWith('loss.')), []);
  assert.deepEqual(keys('kto'), ['method', 'data', 'loss.beta', 'loss.desirableWeight', 'loss.undesirableWeight', 'epochs', 'ktoKl']);
  assert.deepEqual(keys('spin'), ['method', 'data', 'loss.beta', 'epochs', 'spin'], "SPIN trains DPO's loss");
  assert.deepEqual(configRows({ method: 'dpo', loss }).find(([k]) => k === 'loss.beta'), ['loss.beta', '0.1']);
  // An unknown method (a run from elsewhere): everything, as it was written.
  assert.deepEqual(configRows({ method: 'x', loss: { beta: 1 } }), [['method', 'x'], ['loss', '{"beta":1}']]);
});
