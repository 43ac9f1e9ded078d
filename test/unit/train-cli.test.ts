/**
 * `dap train` and `dap demo` as real processes (node --import tsx src/cli/main.ts): JSON events with
 * --json, plain progress lines otherwise, the run folder, exit codes for bad arguments (2) and a failed
 * run (1: the failure is on stderr and in the kept run folder); the demo's --quick path runs its five steps and prints the held-out win rate and accuracies; LoRA flags (over
 * --config), the run's adapter scored with `dap logps --adapter` equals its merged model.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { command as trainCommand, configFromArgs } from '../../src/cli/commands/train';
import { parseEventLine } from '../../src/train/runs/trainEvents';
import { readRound } from '../../src/train/loop/rounds';
import { repoRoot as root, tinyModelFixture, toyPairs, writeJsonl } from './train-fixtures';

let dir = '';
let modelDir = '';
let pairs = '';

before(async () => {
  ({ dir, modelDir } = await tinyModelFixture('cli', 4, 32));
  pairs = writeJsonl(join(dir, 'pairs.jsonl'), toyPairs(10));
});

const dap = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args],
  { encoding: 'utf8', env: { ...process.env, DAP_BACKEND: 'wasm' }, timeout: 120_000 });

test('dap train --json prints every event as a JSON line and writes the run folder', () => {
  const r = dap('train', pairs, '--model', modelDir, '--method', 'ipo', '--beta', '0.2', '--max-steps', '3', '--batch-size', '4', '--out', dir, '--run-id', 'cli', '--json', '--max-length', '32');
  assert.equal(r.status, 0, r.stderr);
  const events = r.stdout.trim().split('\n').map((l, i) => parseEventLine(l, `stdout:${i + 1}`));
  const started = events.find((e) => e.type === 'started');
  assert.ok(started && started.type === 'started' && started.config.method === 'ipo' && started.config.loss.beta === 0.2);
  assert.equal(events.filter((e) => e.type === 'step').length, 3);
  assert.equal(events.at(-1)?.type, 'finished');
  for (const f of ['config.json', 'metrics.jsonl', 'model/model.safetensors']) assert.ok(existsSync(join(dir, 'runs', 'cli', f)), f);
});

test('dap train: plain progress lines without a TTY; exit 2 on bad flags, 1 on a failed run', () => {
  const ok = dap('train', pairs, '--model', modelDir, '--max-steps', '2', '--batch-size', '4', '--out', dir, '--max-length', '32');
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /dpo step 2\/2 loss \d\.\d{4} acc \d\.\d\d \d+ tok\/s ETA/);
  assert.match(ok.stdout, /finished after 2 steps/);
  const bad = dap('train', pairs, '--method', 'nope');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr + bad.stdout, /--method: expected one of dpo/);
  const missing = dap('train', join(dir, 'missing.jsonl'), '--model', modelDir, '--out', dir, '--run-id', 'missing');
  assert.equal(missing.status, 1);
  assert.match(missing.stdout, /missing\.jsonl: file not found/);
  // Deliberate: the run folder stays with the failure (the Runs view shows it), and stderr says so.
  assert.match(missing.stderr, /^dap train: \S*missing\.jsonl: file not found\n\(the failure is recorded in \S*runs\/missing\/metrics\.jsonl\)\n$/);
  const events = readFileSync(join(dir, 'runs', 'missing', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l, i) => parseEventLine(l, `metrics:${i + 1}`));
  assert.deepEqual(events.map((e) => e.type), ['failed']);
});

test('dap demo --quick --rounds 2: SFT → two rounds of generate → judge → DPO → held-out comparison of the last round with SFT', () => {
  const r = dap('demo', '--quick', '--rounds', '2', '--out', dir);
  assert.equal(r.status, 0, r.stderr + r.stdout);
  for (const step of ['1/5 SFT', '2/5 generating 4 candidates per training prompt with the SFT model (round 1 of 2)', '3/5 judging the candidates with the verifier (round 1 of 2)',
    '4/5 DPO from the SFT model', '2/5 generating 4 candidates per training prompt with the round 1 DPO model (round 2 of 2)', '4/5 DPO from the round 1 model', '5/5 held-out evaluation'])
    assert.ok(r.stdout.includes(step), step);
  const runs = /runs: (\S+) → (\S+) → (\S+) \(comparison: (\S+)\)/.exec(r.stdout);
  assert.ok(runs, r.stdout);
  const [, sftRun, round1, round2, comparison] = runs;
  assert.deepEqual([readRound(round1)?.parent, readRound(round2)?.parent], [sftRun, round1], 'each round starts from the one before');
  const held = (JSON.parse(readFileSync(join(sftRun, 'split.json'), 'utf8')) as { evalPrompts: unknown[] }).evalPrompts.length;
  assert.ok(held >= 100, `${held} held-out prompts`);
  assert.match(r.stdout, new RegExp(`held-out win rate of DPO over SFT: .*95% interval .*${held} held-out prompts\\)`));
  assert.match(r.stdout, new RegExp(`held-out accuracy \\(greedy, verifier\\): SFT \\d+\\.\\d% \\(\\d+/${held}\\) → DPO \\d+\\.\\d% \\(\\d+/${held}\\)`));
  // The comparison: the SFT model (A) against the last round (B) on exactly the held-out prompts.
  const items = readFileSync(comparison, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { responses: { model: string }[] });
  assert.equal(items.length, held);
  assert.ok(items.every((it) => it.responses[0].model === basename(sftRun) && it.responses[1].model === basename(round2)));
  const saved = JSON.parse(readFileSync(join(round2, 'demo.json'), 'utf8'));
  assert.equal(saved.rounds.length, 2);
  assert.equal(saved.configs.rounds[1].loss.rpoAlpha, 1, 'the demo\'s DPO rounds keep the chosen answers likely (rpoAlpha)');
});

test('dap demo refuses --rounds 0 and --k 1 before training', () => {
  for (const [flag, value, message] of [['--rounds', '0', /--rounds: at least 1, got 0/], ['--k', '1', /--k: at least 2 candidates/]] as const) {
    const r = dap('demo', '--quick', flag, value, '--out', join(dir, 'refused'));
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, message);
    assert.ok(!existsSync(join(dir, 'refused', 'runs')), 'nothing trained');
  }
});

test('dap train --lora-r/--lora-alpha/--lora-targets: adapter + merged model; dap logps --adapter scores like the merged model', () => {
  assert.match(trainCommand.usage, /--lora-r N[\s\S]*--lora-alpha A[\s\S]*--lora-targets LIST/);
  const r = dap('train', pairs, '--model', modelDir, '--lora-r', '2', '--lora-alpha', '4', '--lora-targets', 'c_attn, c_fc', '--lr', '0.05', '--max-steps', '3',
    '--batch-size', '4', '--out', dir, '--run-id', 'cli-lora', '--json', '--max-length', '32');
  assert.equal(r.status, 0, r.stderr);
  const events = r.stdout.trim().split('\n').map((l, i) => parseEventLine(l, `stdout:${i + 1}`));
  const started = events.find((e) => e.type === 'started');
  assert.ok(started?.type === 'started');
  assert.deepEqual(started.config.lora, { r: 2, alpha: 4, targetModules: ['c_attn', 'c_fc'] });
  const fin = events.at(-1);
  const runDir = join(dir, 'runs', 'cli-lora');
  assert.ok(fin?.type === 'finished' && fin.summary.adapter === join(runDir, 'adapter'));
  const score = (...args: string[]) => {
    const s = dap('logps', '--data', pairs, '--backend', 'wasm', '--max-length', '32', ...args);
    assert.equal(s.status, 0, s.stderr);
    return s.stdout.trim().split('\n').map((l) => JSON.parse(l) as { chosen: { sum: number }; rejected: { sum: number } });
  };
  const adapted = score('--model', modelDir, '--adapter', join(runDir, 'adapter'));
  const merged = score('--model', join(runDir, 'model'));
  const plain = score('--model', modelDir);
  assert.equal(adapted.length, 10);
  adapted.forEach((row, i) => {
    assert.ok(Math.abs(row.chosen.sum - merged[i].chosen.sum) < 1e-4 && Math.abs(row.rejected.sum - merged[i].rejected.sum) < 1e-4, `row ${i}`);
  });
  assert.ok(adapted.some((row, i) => Math.abs(row.chosen.sum - plain[i].chosen.sum) > 1e-3), 'the adapter changes the scores');
  const bad = dap('train', pairs, '--lora-alpha', '16');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr + bad.stdout, /--lora-alpha and --lora-targets need --lora-r/);
});

test('dap train: lora from --config, flags override its fields', () => {
  const cfg = join(dir, 'run-lora.json');
  writeFileSync(cfg, JSON.stringify({ data: pairs, lora: { r: 8, alpha: 16, targetModules: ['c_attn'] } }));
  assert.deepEqual(configFromArgs(['--config', cfg]).config.lora, { r: 8, alpha: 16, targetModules: ['c_attn'] });
  assert.deepEqual(configFromArgs(['--config', cfg, '--lora-r', '4']).config.lora, { r: 4, alpha: 16, targetModules: ['c_attn'] });
  assert.deepEqual(configFromArgs([pairs, '--lora-r', '16']).config.lora, { r: 16 });
  assert.equal(configFromArgs([pairs]).config.lora, undefined);
});
