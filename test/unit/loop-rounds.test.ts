/**
 * Rounds on real (tiny) runs through the demo's quick path: the SFT run's candidates cover exactly its
 * training prompts, the verifier judged every one, the DPO round is linked to its parent (round.json,
 * started from the parent's model, the root's held-out prompts), and *Evaluate against the starting model*
 * writes a blind comparison of exactly the held-out prompts with both models named; the Runs view's round
 * summary links the two runs and shows the judged win rate over the starting model.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import test from 'node:test';
import { defaultLogPath, loadProject } from '../../src/core/project';
import { readTasks } from '../../src/core/tasks';
import { VERIFIER_ANNOTATOR } from '../../src/core/verifierJudge';
import { runDemo, type DemoResult } from '../../src/train/loop/demo';
import { candidatesPath, compareRunOutputs, evaluationPath, heldOutPrompts, nextRoundConfig, nextRoundId, readRound, rootRun, roundOf, startingModel, trainingPrompts } from '../../src/train/loop/rounds';
import { runIdOf } from '../../src/train/loop/modelSpec';
import { roundLabel, roundSummary } from '../../src/train/loop/roundSummary';
import { runPaths } from '../../src/train/runs/folder';
import { builtinModelDir } from '../../src/engine/builtin';
import { tinyModelFixture } from './train-fixtures';

let r: DemoResult;
test.before(async () => {
  const { dir } = await tinyModelFixture('rounds', 41, 32);
  r = await runDemo({ out: dir, backend: 'wasm', seed: 3, quick: true, k: 3 });
});

const keysOf = async (file: string) => new Set((await readTasks(file)).items.map((it) => JSON.stringify(it.prompt)));

test('next round: candidates of the SFT model on its training prompts only, judged by the verifier', async () => {
  const held = heldOutPrompts(r.sftRun).prompts;
  const split = JSON.parse(readFileSync(runPaths(r.sftRun).split, 'utf8')) as { evalPrompts: unknown[] };
  assert.equal(held.size, split.evalPrompts.length);
  const train = await trainingPrompts(r.sftRun);
  const cands = candidatesPath(r.sftRun);
  const { items } = await readTasks(cands);
  assert.deepEqual(await keysOf(cands), train.prompts);
  assert.ok([...train.prompts].every((k) => !held.has(k)));
  assert.ok(items.every((it) => it.responses.length === 3 && it.responses.every((x) => x.model === runIdOf(r.sftRun))));
  const project = await loadProject(cands, defaultLogPath(cands));
  const judged = new Set(project.resolution.judgments.filter((j) => j.annotator === VERIFIER_ANNOTATOR).map((j) => j.item));
  assert.equal(judged.size, items.length, 'the verifier judged every candidate item');
});

test('the DPO round is linked to its parent and starts from its model', () => {
  assert.deepEqual(readRound(r.dpoRun), { parent: resolve(r.sftRun), round: 1, candidates: resolve(candidatesPath(r.sftRun)) });
  assert.equal(roundOf(r.dpoRun), 1);
  assert.equal(rootRun(r.dpoRun), resolve(r.sftRun));
  const config = JSON.parse(readFileSync(runPaths(r.dpoRun).config, 'utf8'));
  assert.equal(config.model, runPaths(r.sftRun).finalModel);
  assert.equal(config.method, 'dpo');
  assert.deepEqual(startingModel(r.dpoRun), { name: runIdOf(r.sftRun), dir: runPaths(r.sftRun).finalModel, runDir: resolve(r.sftRun) });
  assert.deepEqual(heldOutPrompts(r.dpoRun).prompts, heldOutPrompts(r.sftRun).prompts, 'later rounds keep the root\'s held-out prompts');
});

test('evaluate against the starting model: one greedy pair per held-out prompt, A = start, B = the run', async () => {
  const file = evaluationPath(r.dpoRun);
  const { items } = await readTasks(file);
  assert.deepEqual(await keysOf(file), heldOutPrompts(r.dpoRun).prompts);
  assert.ok(items.every((it) => it.responses[0].model === runIdOf(r.sftRun) && it.responses[1].model === runIdOf(r.dpoRun)));
  const line = JSON.parse(readFileSync(file, 'utf8').split('\n')[0]);
  assert.equal(line.responses[0].generation.temperature, 0);
  const c = r.comparison;
  assert.equal(c.a, runIdOf(r.sftRun));
  assert.equal(c.items, items.length);
  assert.equal(c.overall.wins + c.overall.losses + c.overall.ties + c.overall.bothBad, items.length);
  assert.equal(r.heldOutAccuracy.sft.total, items.length);
});

test('the outputs of any two runs: B = the second run, on its held-out prompts', async () => {
  const g = await compareRunOutputs(r.sftRun, r.dpoRun, { maxNewTokens: 4 });
  assert.ok(existsSync(g.out) && g.out.startsWith(join(r.dpoRun, 'eval')));
  assert.deepEqual(g.models.map((m) => m.name), [runIdOf(r.sftRun), runIdOf(r.dpoRun)]);
  assert.equal(g.written, heldOutPrompts(r.dpoRun).prompts.size);
});

test('Runs view round summary: parent and children linked, the judged win rate over the start with its interval', async () => {
  const runsDir = join(r.sftRun, '..');
  const root = await roundSummary(r.sftRun, runsDir);
  assert.deepEqual(root, { round: 0, children: [runIdOf(r.dpoRun)] });
  assert.equal(roundLabel(root), '');
  const next = await roundSummary(r.dpoRun, runsDir);
  assert.equal(next.round, 1);
  assert.equal(next.parent, runIdOf(r.sftRun));
  assert.deepEqual(next.children, []);
  const w = r.comparison.overall; // the demo's verifier judgments of RUN/eval/vs-start.tasks.jsonl
  assert.ok(next.vsStart, 'the judged evaluation is summarised');
  assert.deepEqual([next.vsStart.wins, next.vsStart.losses, next.vsStart.ties, next.vsStart.bothBad, next.vsStart.items], [w.wins, w.losses, w.ties, w.bothBad, r.comparison.items]);
  assert.equal(next.vsStart.rate, w.rate);
  const pct = (x: number) => (100 * x).toFixed(0);
  const vs = w.n > 0 ? `vs start ${pct(w.rate)}% [${pct(w.low)}–${pct(w.high)}%]` : `vs start: ${w.bothBad} both bad`;
  assert.equal(roundLabel(next), `round 1 ← ${runIdOf(r.sftRun)} · ${vs}`);
});

test('round label: a comparison judged all both-bad shows no rate (no NaN%)', () => {
  const vsStart = { annotator: 'all', wins: 0, losses: 0, ties: 0, bothBad: 5, successes: 0, n: 0, rate: NaN, low: NaN, high: NaN, items: 5, judgedItems: 5 };
  assert.equal(roundLabel({ round: 2, parent: 'sft-a', children: [], vsStart }), 'round 2 ← sft-a · vs start: 5 both bad');
  assert.equal(roundLabel({ round: 0, children: [], vsStart: { ...vsStart, wins: 3, ties: 1, bothBad: 1, successes: 3.5, n: 4, rate: 0.875, low: 0.5, high: 0.98 } }), 'vs start 88% [50–98%]');
});

test('a second next round from the same parent gets its own run id (the first round is not trained into again); a declined start\'s folder is free and no child', async () => {
  const first = { config: readFileSync(runPaths(r.dpoRun).config, 'utf8'), round: readFileSync(join(r.dpoRun, 'round.json'), 'utf8') };
  const runsDir = join(r.sftRun, '..');
  const c = nextRoundConfig(r.sftRun);
  try {
    assert.equal(runIdOf(r.dpoRun), `${runIdOf(r.sftRun)}-round1`);
    assert.equal(c.runId, `${runIdOf(r.sftRun)}-round1-2`);
    assert.deepEqual(readRound(join(runsDir, c.runId)), { parent: resolve(r.sftRun), round: 1, candidates: resolve(candidatesPath(r.sftRun)) });
    assert.deepEqual({ config: readFileSync(runPaths(r.dpoRun).config, 'utf8'), round: readFileSync(join(r.dpoRun, 'round.json'), 'utf8') }, first, 'the first round is untouched');
    // Only round.json so far (the run was not started): not listed as a child, and its id is taken again.
    assert.deepEqual((await roundSummary(r.sftRun, runsDir)).children, [runIdOf(r.dpoRun)]);
    assert.equal(nextRoundId(c.out, runIdOf(r.sftRun), 1), c.runId);
    // Later rounds count from the chain's first run id.
    assert.equal(nextRoundId(c.out, c.runId, 2), `${runIdOf(r.sftRun)}-round2`);
  } finally {
    rmSync(join(runsDir, c.runId), { recursive: true, force: true });
  }
});

test('the next round runs where its parent ran (executor and interpreter settings), from the parent\'s model', () => {
  const parent = JSON.parse(readFileSync(runPaths(r.sftRun).config, 'utf8'));
  assert.equal(parent.executor, 'tfjs');
  const runsDir = join(r.sftRun, '..');
  const probe = nextRoundConfig(r.sftRun, { runId: 'executor-probe' });
  // A torch parent (its config as a torch run has it): the next round asks for torch with the same interpreter.
  const torchParent = join(runsDir, 'torch-parent');
  mkdirSync(torchParent);
  writeFileSync(runPaths(torchParent).config, JSON.stringify({ ...parent, runId: 'torch-parent', executor: 'torch', python: '/opt/torch/bin/python3', device: 'cpu', mixedPrecision: 'bf16' }));
  try {
    assert.deepEqual([probe.executor, probe.device, probe.mixedPrecision, probe.numProcesses, probe.python, probe.model], [parent.executor, parent.device, parent.mixedPrecision, parent.numProcesses, parent.python, runPaths(r.sftRun).finalModel]);
    const c = nextRoundConfig(torchParent);
    assert.deepEqual([c.runId, c.executor, c.python, c.device, c.mixedPrecision, c.model], ['torch-parent-round1', 'torch', '/opt/torch/bin/python3', 'cpu', 'bf16', runPaths(torchParent).finalModel]);
  } finally {
    for (const d of ['executor-probe', 'torch-parent', 'torch-parent-round1']) rmSync(join(runsDir, d), { recursive: true, force: true });
  }
});

test('the starting model of a built-in SFT run: the shipped model, or (custom shape, never saved) an error saying there is none', () => {
  const parent = JSON.parse(readFileSync(runPaths(r.sftRun).config, 'utf8'));
  assert.equal(parent.method, 'sft');
  assert.deepEqual(startingModel(r.sftRun), { name: 'builtin', dir: builtinModelDir() });
  const custom = join(r.sftRun, '..', 'custom-shape-sft');
  mkdirSync(custom);
  writeFileSync(runPaths(custom).config, JSON.stringify({ ...parent, runId: 'custom-shape-sft', builtin: { ...parent.builtin, numLayers: 1, hiddenSize: 32 } }));
  try {
    assert.throws(() => startingModel(custom), /custom-shape-sft: the run started from a random initialisation of a custom built-in shape .*no starting model to evaluate against/);
  } finally {
    rmSync(custom, { recursive: true, force: true });
  }
});
