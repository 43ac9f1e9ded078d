/**
 * The TypeScript side of the torch executor that needs no Python: the executor rule (tfjs as asked; torch
 * refused with what is missing and the pip command when the interpreter cannot run it — never a silent
 * fallback; auto = tfjs for the built-in model or an unusable Python, saying why), `dap train --executor
 * torch` refused before any run folder, the launch commands (one process, torchrun / accelerate with the
 * file rendezvous of libuv-less builds, --resume) and their printed text, and the prepared run folder
 * (config.json resolved for torch, data/meta.json, examples tokenized exactly as the tfjs path's
 * buildBatch does). The Python side runs in test/python/.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main';
import { resolveConfig } from '../../src/train/config/index';
import { chooseExecutor, ExecutorError } from '../../src/train/torch/choose';
import { pythonOf, type TorchEnv } from '../../src/train/torch/env';
import { commandText, launchCommand } from '../../src/train/torch/launch';
import { prepareTorchRun } from '../../src/train/torch/prepare';
import { buildPairBatch, disposeBatch } from '../../src/engine/logps';
import { loadPretrained } from '../../src/engine/checkpoint';
import { createRunDir } from '../../src/train/runs/folder';
import { tinyModelFixture, toyPairs, writeJsonl } from './train-fixtures';

let dir = '';
let modelDir = '';
let pairs = '';
const missingPython = '/nonexistent/bin/python3';

before(async () => {
  ({ dir, modelDir } = await tinyModelFixture('executor', 3, 32));
  pairs = writeJsonl(join(dir, 'pairs.jsonl'), [...toyPairs(10), { prompt: 'A very long prompt that will be cut from the left side: '.repeat(3), chosen: ' yes', rejected: ' no' }]);
});

test('executor rule: tfjs as asked, auto without a model folder is tfjs, torch with an unusable Python is an error naming what is missing', async () => {
  assert.equal(pythonOf(undefined, { DAP_PYTHON: '/opt/py' }), '/opt/py');
  assert.equal(pythonOf('/my/py', { DAP_PYTHON: '/opt/py' }), '/my/py');
  assert.equal(pythonOf(undefined, {}), 'python3');
  assert.equal((await chooseExecutor({ executor: 'tfjs', model: modelDir, python: missingPython })).executor, 'tfjs');
  const builtin = await chooseExecutor({ executor: 'auto', model: undefined, python: missingPython });
  assert.equal(builtin.executor, 'tfjs');
  assert.match(builtin.reason, /built-in model/);
  const auto = await chooseExecutor({ executor: 'auto', model: modelDir, python: missingPython });
  assert.equal(auto.executor, 'tfjs');
  assert.match(auto.reason, /executor auto: tfjs \(\/nonexistent\/bin\/python3 cannot run the torch executor .*not found.*pip install torch transformers accelerate/);
  await assert.rejects(chooseExecutor({ executor: 'torch', model: modelDir, python: missingPython }), (e: unknown) => {
    assert.ok(e instanceof ExecutorError);
    assert.match(e.message, /^executor torch: \/nonexistent\/bin\/python3 cannot run the torch executor \(cannot run \/nonexistent\/bin\/python3: not found\); install with: \/nonexistent\/bin\/python3 -m pip install torch transformers accelerate safetensors/);
    return true;
  });
});

test('dap train --executor torch with an unusable Python: exit 2, the missing packages and the pip command, no run folder', async () => {
  let err = '';
  const e = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((s: string | Uint8Array) => ((err += String(s)), true)) as typeof process.stderr.write;
  let code: number;
  try {
    code = await main(['train', pairs, '--model', modelDir, '--executor', 'torch', '--python', missingPython, '--out', join(dir, 'refused')]);
  } finally {
    process.stderr.write = e;
  }
  assert.equal(code, 2, err);
  assert.match(err, /^dap train: executor torch: .*install with: \/nonexistent\/bin\/python3 -m pip install torch/);
  assert.ok(!existsSync(join(dir, 'refused')), 'no run folder');
});

test('launch commands: one process, torchrun and accelerate for N, the file rendezvous without libuv, resume; the printed text', () => {
  const env = (libuv: boolean) => ({ torchBuild: { cuda: null, hip: null, libuv } }) as TorchEnv;
  const one = launchCommand({ launcher: 'auto', numProcesses: 1 }, 'py', '/r', env(true));
  assert.deepEqual(one, { argv: ['py', '-m', 'dap_train', 'train', '/r'], env: {}, launcher: 'python' });
  assert.deepEqual(launchCommand({ launcher: 'auto', numProcesses: 1 }, 'py', '/r', env(true), { ckpt: '/r/checkpoints/dpo-step-000004' }).argv.slice(-2), ['--resume', '/r/checkpoints/dpo-step-000004']);
  assert.deepEqual(launchCommand({ launcher: 'torchrun', numProcesses: 2 }, 'py', '/r', env(true), { ckpt: '/r/checkpoints/dpo-step-000004', maxSteps: 9 }).argv.slice(-8),
    ['-m', 'dap_train', 'train', '/r', '--resume', '/r/checkpoints/dpo-step-000004', '--max-steps', '9'], 'a resume with another maxSteps tells every process');
  const tr = launchCommand({ launcher: 'auto', numProcesses: 2 }, 'py', '/r', env(true));
  assert.deepEqual(tr.argv, ['py', '-m', 'torch.distributed.run', '--nproc-per-node', '2', '-m', 'dap_train', 'train', '/r']);
  const trFile = launchCommand({ launcher: 'torchrun', numProcesses: 2 }, 'py', '/r', env(false));
  assert.deepEqual(trFile.argv, ['py', '-m', 'torch.distributed.run', '--nproc-per-node', '2', '--rdzv-backend', 'c10d', '--rdzv-endpoint', '/r/.rendezvous-1',
    '--rdzv-conf', 'store_type=file', '-m', 'dap_train', 'train', '/r']);
  assert.deepEqual(trFile.env, { USE_LIBUV: '0', TORCH_DISABLE_SHARE_RDZV_TCP_STORE: '1' });
  const acc = launchCommand({ launcher: 'accelerate', numProcesses: 4 }, 'py', '/r', env(true));
  assert.deepEqual(acc.argv, ['py', '-m', 'accelerate.commands.launch', '--num_processes', '4', '-m', 'dap_train', 'train', '/r']);
  assert.throws(() => launchCommand({ launcher: 'python', numProcesses: 2 }, 'py', '/r', env(true)), /launcher python runs one process/);
  assert.equal(commandText(trFile, '/ext/python'),
    "PYTHONPATH=/ext/python USE_LIBUV=0 TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1 py -m torch.distributed.run --nproc-per-node 2 --rdzv-backend c10d --rdzv-endpoint /r/.rendezvous-1 --rdzv-conf store_type=file -m dap_train train /r");
  assert.equal(commandText({ argv: ['/my py', '-m', 'x'], env: {}, launcher: 'python' }, "/a'b"), "PYTHONPATH='/a'\\''b' '/my py' -m x");
});

test('every torchrun launch of a run gets a rendezvous file no earlier launch used (a resume after a finished launch)', () => {
  const runDir = mkdtempSync(join(tmpdir(), 'dap-rdzv-'));
  const env = { torchBuild: { cuda: null, hip: null, libuv: false } } as TorchEnv;
  const endpoint = () => {
    const argv = launchCommand({ launcher: 'torchrun', numProcesses: 2 }, 'py', runDir, env).argv;
    return argv[argv.indexOf('--rdzv-endpoint') + 1];
  };
  const first = endpoint();
  assert.ok(!existsSync(first));
  writeFileSync(first, 'closed rendezvous of a finished launch');
  const second = endpoint();
  assert.notEqual(second, first);
  assert.ok(!existsSync(second), 'the resume does not reuse the closed file');
});

test('the prepared run folder: config.json resolved for torch, meta.json, examples tokenized as the tfjs batches are', async () => {
  const config = resolveConfig({ data: pairs, model: modelDir, executor: 'torch', out: dir, runId: 'prep', maxLength: 24, evalFraction: 0.2, seed: 3, lora: { r: 2 } });
  const runDir = createRunDir(dir, 'prep');
  const prepared = await prepareTorchRun(config, runDir);
  const saved = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8'));
  assert.equal(saved.executor, 'torch');
  assert.equal(saved.model, modelDir);
  assert.equal(saved.maxLength, 24);
  assert.equal(saved.maxPromptLength, 12);
  assert.deepEqual(saved.lora, { r: 2, alpha: 8, targetModules: ['c_attn'] });
  const meta = JSON.parse(readFileSync(join(runDir, 'data/meta.json'), 'utf8'));
  assert.equal(meta.version, 1);
  assert.equal(meta.model, modelDir);
  assert.deepEqual(Object.keys(meta.tokenizer), ['eosId', 'padId', 'bosId']);
  const [stage] = meta.stages;
  assert.deepEqual({ stage: stage.stage, loss: stage.loss, kind: stage.kind, lr: stage.lr }, { stage: 'dpo', loss: 'dpo', kind: 'pairs', lr: 5e-7 });
  assert.equal(stage.count.train + stage.count.eval, 11);
  assert.ok(stage.count.eval >= 1);
  const split = JSON.parse(readFileSync(join(runDir, 'split.json'), 'utf8')) as { evalPrompts: string[] };
  const lines = (f: string) => readFileSync(join(runDir, f), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { sequences: { prompt: number[]; completion: number[] }[] });
  const train = lines(stage.train), held = lines(stage.eval);
  assert.equal(train.length, stage.count.train);
  assert.equal(held.length, stage.count.eval);
  // Independent of the preparation code: the engine's own pair batch of the same rows gives the same ids.
  const { tokenizer, model } = loadPretrained(modelDir);
  model.dispose();
  const rows = JSON.parse(`[${readFileSync(pairs, 'utf8').trim().split('\n').join(',')}]`) as { prompt: string; chosen: string; rejected: string }[];
  const trainRows = rows.filter((r) => !split.evalPrompts.includes(r.prompt));
  assert.equal(trainRows.length, train.length);
  const batch = buildPairBatch(tokenizer, trainRows, { maxLength: 24, maxPromptLength: 12 });
  try {
    trainRows.forEach((_, i) => {
      for (const [k, seq] of train[i].sequences.entries()) {
        const row = batch.rows[k * trainRows.length + i]; // rows 0..n−1 chosen, n..2n−1 rejected
        assert.deepEqual([seq.prompt, seq.completion], [row.promptIds, row.completionIds], `example ${i} sequence ${k}`);
        assert.ok(seq.prompt.length + seq.completion.length <= 24 && seq.prompt.length <= 12 && seq.completion.length >= 1);
      }
    });
  } finally {
    disposeBatch(batch);
  }
  assert.equal(prepared.config.executor, 'torch');
});
