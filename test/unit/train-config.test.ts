/**
 * The training config's single declaration (src/train/config/): bad hyper-parameters are refused before
 * anything is created — by `dap train` (flags and --config, exit 2, no run folder), by resolveConfig (the
 * worker / VS Code path) and by the Train… quick pick's checks — with the same message naming the field;
 * `--beta -0.1` parses; each method's own limits (robust ε < 0.5, …) apply; package.json's settings schema
 * is the generated one; the usage, the quick-pick choices and the backends derive from the declaration.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main';
import { command as trainCommand, configFromArgs } from '../../src/cli/commands/train';
import { ConfigError, configProblems, fieldProblem, resolveConfig, TRAIN_FIELDS, type TrainConfig } from '../../src/train/config/index';
import { TRAIN_FLAGS } from '../../src/train/config/flags';
import { walkFields } from '../../src/train/config/fields';
import { LOSS_METHODS, METHODS, resolveHyper } from '../../src/train/losses/methods';
import { BACKEND_PREFERENCES } from '../../src/engine/backend';
import { BACKENDS } from '../../src/train/config/declaration';
import { EXECUTOR_CHOICES, METHOD_CHOICES } from '../../src/host/training/trainChoices';
import { packageJsonWithSettings } from '../../scripts/gen-settings-schema';
import { repoRoot } from './train-fixtures';

const dir = mkdtempSync(join(tmpdir(), 'dap-config-'));
const pairs = join(dir, 'pairs.jsonl');
writeFileSync(pairs, '{"prompt":"2+2=","chosen":"4","rejected":"5"}\n');

async function dapTrain(...args: string[]): Promise<{ code: number; err: string }> {
  let err = '';
  const e = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((s: string | Uint8Array) => ((err += String(s)), true)) as typeof process.stderr.write;
  try {
    return { code: await main(['train', ...args]), err };
  } finally {
    process.stderr.write = e;
  }
}

/** The problems resolveConfig reports for a raw config. */
function problemsOf(c: Record<string, unknown>): string[] {
  try {
    resolveConfig({ data: pairs, ...c } as TrainConfig);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.problems;
  }
  return [];
}

const refused: { args: string[]; config: Record<string, unknown>; message: RegExp }[] = [
  { args: ['--beta', '0'], config: { loss: { beta: 0 } }, message: /^loss\.beta: expected a positive number, got 0 \(--beta\): β ≤ 0 .*prefer the rejected/ },
  { args: ['--beta=-0.1'], config: { loss: { beta: -0.1 } }, message: /^loss\.beta: expected a positive number, got -0\.1 \(--beta\)/ },
  { args: ['--beta', '-0.1'], config: { loss: { beta: -0.1 } }, message: /^loss\.beta: expected a positive number, got -0\.1 \(--beta\)/ },
  { args: ['--method', 'ipo', '--beta=-1'], config: { method: 'ipo', loss: { beta: -1 } }, message: /^loss\.beta: expected a positive number for ipo, got -1 \(--beta\): IPO/ },
  { args: ['--label-smoothing=-0.1'], config: { loss: { labelSmoothing: -0.1 } }, message: /^loss\.labelSmoothing: expected a number in \[0, 0\.5\), got -0\.1 \(--label-smoothing\)/ },
  { args: ['--method', 'robust', '--label-smoothing', '0.5'], config: { method: 'robust', loss: { labelSmoothing: 0.5 } },
    message: /^loss\.labelSmoothing: expected a number in \[0, 0\.5\) for robust, got 0\.5 \(--label-smoothing\): robust DPO divides by 1 − 2ε/ },
  { args: ['--method', 'kto', '--desirable-weight', '0'], config: { method: 'kto', loss: { desirableWeight: 0 } }, message: /^loss\.desirableWeight: expected a positive number, got 0/ },
  { args: ['--spin-iterations', '1'], config: { spin: { iterations: 1 } }, message: /^spin\.iterations: expected an integer ≥ 2, got 1 \(--spin-iterations\)/ },
  { args: ['--epochs', '2.5'], config: { epochs: 2.5 }, message: /^epochs: expected a positive integer, got 2\.5 \(--epochs\)/ },
  { args: ['--lr', 'fast'], config: { lr: 'fast' }, message: /^lr: expected a positive number, got "fast" \(--lr\)/ },
  { args: ['--executor', 'gpu'], config: { executor: 'gpu' }, message: /^executor: expected one of auto, tfjs, torch, got "gpu" \(--executor\)/ },
  { args: ['--warmup-ratio', '1.5'], config: { warmupRatio: 1.5 }, message: /^warmupRatio: expected a number in \[0, 1\], got 1\.5/ },
  { args: ['--max-length', '16', '--max-prompt-length', '16'], config: { maxLength: 16, maxPromptLength: 16 }, message: /^maxPromptLength: expected less than maxLength \(16\), got 16/ },
  { args: ['--run-id', '../x'], config: { runId: '../x' }, message: /^runId: expected a folder name without \// },
];

test('dap train refuses bad values with exit 2, names the field and flag, and creates no run folder; the same message as resolveConfig', async () => {
  for (const [i, c] of refused.entries()) {
    const out = join(dir, `out-${i}`);
    const r = await dapTrain(pairs, ...c.args, '--out', out, '--model', join(dir, 'no-model'));
    assert.equal(r.code, 2, `${c.args.join(' ')}: ${r.err}`);
    const cli = r.err.trim().split('\n');
    const fromConfig = problemsOf({ ...c.config, model: join(dir, 'no-model') });
    assert.match(fromConfig[0], c.message, c.args.join(' '));
    assert.ok(!existsSync(out), `${c.args.join(' ')}: no run folder`);
    // The same text; the CLI names the flag the value came from as the subject.
    assert.deepEqual(cli, fromConfig.map((p) => {
      const m = /^([\w.]+): (.*) \(--([\w-]+)\)(.*)$/.exec(p);
      return m ? `dap train: --${m[3]}: ${m[2]}${m[4]}` : `dap train: config: ${p}`;
    }), c.args.join(' '));
  }
});

test('--config with a bad nested field: exit 2 naming it; unknown keys refused at every level', async () => {
  const cfg = join(dir, 'run.json');
  writeFileSync(cfg, JSON.stringify({ data: pairs, loss: { beta: 'high' } }));
  const r = await dapTrain('--config', cfg, '--out', join(dir, 'out-cfg'));
  assert.equal(r.code, 2);
  assert.equal(r.err, 'dap train: config: loss.beta: expected a positive number, got "high" (--beta)\n');
  assert.ok(!existsSync(join(dir, 'out-cfg')));
  assert.deepEqual(problemsOf({ loss: { betta: 0.1 } }), ['loss.betta: unknown field (expected beta, labelSmoothing, delta, lambda, gamma, desirableWeight, undesirableWeight, sftWeight, rpoAlpha, rrhfSftReduction)']);
  assert.match(problemsOf({ loss: { rrhfSftReduction: 'median' } })[0], /^loss\.rrhfSftReduction: .*mean.*sum/);
  assert.match(problemsOf({ spin: { iteration: 3 } })[0], /^spin\.iteration: unknown field/);
  assert.match(problemsOf({ builtin: { layers: 2 } })[0], /^builtin\.layers: unknown field/);
  assert.match(problemsOf({ lora: { r: 8, rank: 4 } })[0], /^lora\.rank: unknown field/);
  assert.match(problemsOf({ batchsize: 4 })[0], /^batchsize: unknown field \(expected data, log, /);
  assert.match(problemsOf({ builtin: { hiddenSize: 30, numHeads: 4 } })[0], /^builtin\.hiddenSize: expected a multiple of builtin\.numHeads \(4\), got 30/);
  assert.match(problemsOf({ executor: 'torch', model: undefined })[0], /^executor: torch trains a model folder/);
});

test('--beta -0.1 (space) parses as the value; good configs resolve with the registry defaults', () => {
  assert.equal(configFromArgs([pairs, '--beta', '-0.1']).config.loss?.beta, -0.1);
  assert.equal(configFromArgs([pairs, '--lr', '-1e-5']).config.lr, -1e-5);
  assert.equal(configFromArgs([pairs, '--seed', '-3']).config.seed, -3);
  assert.equal(resolveConfig({ data: pairs, seed: -3 }).seed, -3);
  for (const method of METHODS) {
    const r = resolveConfig({ data: pairs, method });
    assert.deepEqual(r.loss, resolveHyper(method === 'spin' ? 'dpo' : method), method);
  }
  const r = resolveConfig({ data: pairs, method: 'robust', loss: { labelSmoothing: 0.49 }, spin: { iterations: 3 }, lora: { r: 4 } });
  assert.equal(r.loss.labelSmoothing, 0.49);
  assert.equal(r.loss.beta, 0.1);
  assert.deepEqual(r.spin, { iterations: 3, maxNewTokens: 24, temperature: 0, topP: 1 });
  assert.deepEqual(r.lora, { r: 4, alpha: 8, targetModules: [] });
  assert.equal(r.executor, 'auto');
  assert.equal(r.lr, 1e-4);
  assert.equal(resolveConfig({ data: pairs, model: 'm' }).lr, 5e-7);
  assert.deepEqual(configProblems({ data: pairs, method: 'cdpo', loss: { labelSmoothing: 0.3, beta: 0.5 } }), []);
});

test('the Train… quick pick: β defaults from the loss registry, executor choices and input checks from the declaration', () => {
  for (const c of METHOD_CHOICES) {
    const loss = c.method === 'spin' ? 'dpo' : c.method;
    const usesBeta = (LOSS_METHODS[loss].uses as readonly string[]).includes('beta');
    assert.equal(c.beta, usesBeta ? resolveHyper(loss).beta : undefined, c.method);
  }
  assert.deepEqual(METHOD_CHOICES.map((c) => c.method), [...METHODS]);
  assert.equal(METHOD_CHOICES.find((c) => c.method === 'simpo')?.beta, 2);
  assert.deepEqual(EXECUTOR_CHOICES.map((c) => c.executor), ['auto', 'tfjs', 'torch']);
  assert.match(fieldProblem('loss.beta', 0, 'dpo') ?? '', /^expected a positive number, got 0 \(--beta\)/);
  assert.match(fieldProblem('loss.beta', Number('x'), 'dpo') ?? '', /^expected a positive number, got NaN/);
  assert.equal(fieldProblem('loss.beta', 0.3, 'ipo'), undefined);
  assert.match(fieldProblem('loss.labelSmoothing', 0.5, 'robust') ?? '', /for robust/);
  assert.match(fieldProblem('epochs', 1.5) ?? '', /^expected a positive integer/);
});

test('package.json holds the settings generated from the declaration (run scripts/gen-settings-schema.ts when this fails)', () => {
  const text = readFileSync(join(repoRoot, 'package.json'), 'utf8');
  assert.equal(packageJsonWithSettings(text), text);
  const props = JSON.parse(text).contributes.configuration.properties;
  const overrides = props['dapStudio.train.overrides'];
  assert.equal(overrides.additionalProperties, false);
  assert.equal(overrides.properties.loss.additionalProperties, false);
  assert.equal(overrides.properties.loss.properties.beta.exclusiveMinimum, 0);
  assert.equal(overrides.properties.data, undefined, 'host-only fields are not overrides');
  assert.deepEqual(props['dapStudio.train.executor'].enum, ['auto', 'tfjs', 'torch']);
  const restricted = JSON.parse(text).capabilities.untrustedWorkspaces.restrictedConfigurations as string[];
  for (const s of ['dapStudio.python', 'dapStudio.train.executor', 'dapStudio.train.overrides']) assert.ok(restricted.includes(s), s);
});

test('usage lists every declared flag once; backends equal the engine\'s', () => {
  const flags = TRAIN_FLAGS.map((f) => f.flag);
  assert.equal(new Set(flags).size, flags.length, 'flags are unique');
  for (const f of flags) assert.match(trainCommand.usage, new RegExp(`\\n  --${f}\\b`), f);
  let documented = 0;
  walkFields(TRAIN_FIELDS, (path, f) => {
    assert.ok(f.help.length > 10, `${path} has help`);
    documented++;
  });
  assert.ok(documented > 50);
  assert.deepEqual([...BACKENDS], [...BACKEND_PREFERENCES]);
});
