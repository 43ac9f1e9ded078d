/**
 * WebGPU backend parity: the engine's ops and a small model's loss and gradients on webgpu (Dawn via the
 * `webgpu` package) equal the wasm results within float32 tolerance. On a CPU-only machine this runs on
 * Mesa's lavapipe, which scripts/setup-vulkan.sh installs (called here; idempotent). Skipped, with the
 * reason printed, only when no adapter exists AND that set-up failed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendInfo } from '../../src/engine/backend';
import { probeWebGpu, probeWebGpuIsolated, adapterName } from '../../src/engine/webgpu';
import * as ops from '../../src/engine/ops';
import { MiniGpt, syntheticBatch } from '../../bench/minigpt';
import { builtinTokenizer, createBuiltinModel } from '../../src/engine/builtin';
import { buildBatch, disposeBatch, logpsToHost, sequenceLogps } from '../../src/engine/logps';
import { generate } from '../../src/engine/generate';

/** Installs lavapipe if needed (idempotent), then looks for an adapter; resolves to a skip reason or false. */
const ready: Promise<string | false> = (async () => {
  const setup = spawnSync('bash', [join(__dirname, '..', '..', 'scripts', 'setup-vulkan.sh')], { encoding: 'utf8', timeout: 300_000 });
  const adapter = await probeWebGpu().catch(() => null);
  if (adapter) {
    process.stdout.write(`# webgpu adapter: ${adapterName(adapter)}\n`);
    return false;
  }
  const reason = `no WebGPU adapter and scripts/setup-vulkan.sh failed (exit ${setup.status}): ${(setup.stderr || setup.stdout || '').trim().slice(-300)}`;
  process.stdout.write(`# webgpu tests skipped: ${reason}\n`);
  return reason;
})();

/** Runs `f` on a backend and returns every output's values as plain arrays. */
async function on(backend: 'wasm' | 'webgpu', f: () => tf.Tensor[]): Promise<Float32Array[]> {
  await initBackend(backend);
  const outs = f();
  const vals = await Promise.all(outs.map(async (t) => Float32Array.from(await t.data())));
  tf.dispose(outs);
  return vals;
}

function assertAllClose(a: Float32Array[], b: Float32Array[], tol: number, what: string): void {
  assert.equal(a.length, b.length, `${what}: output count`);
  a.forEach((x, i) => {
    assert.equal(x.length, b[i].length, `${what}[${i}]: length`);
    for (let j = 0; j < x.length; j++) {
      if (!(Math.abs(x[j] - b[i][j]) <= tol * (1 + Math.abs(b[i][j])))) {
        assert.fail(`${what}[${i}] element ${j}: webgpu ${x[j]} vs wasm ${b[i][j]} (tol ${tol})`);
      }
    }
  });
}

test('webgpu ops equal wasm: matmul variants, embedding, gelu, layerNorm, pickLogProbs, attention (values + grads)', async (t) => {
  const skip = await ready;
  if (skip) return t.skip(skip);
  const computation = (): tf.Tensor[] => {
    const a = tf.randomNormal([2, 5, 7], 0, 1, 'float32', 1);
    const b = tf.randomNormal([7, 3], 0, 1, 'float32', 2);
    const table = tf.randomNormal([11, 8], 0, 1, 'float32', 3);
    const ids = tf.tensor2d([[1, 3, 3, 0], [10, 2, 1, 1]], [2, 4], 'int32');
    const gamma = tf.randomNormal([8], 1, 0.1, 'float32', 4);
    const beta = tf.randomNormal([8], 0, 0.1, 'float32', 5);
    const w = tf.randomNormal([8, 11], 0, 0.3, 'float32', 6);
    const mask = tf.tensor2d([[1, 1, 1, 1], [1, 1, 1, 0]]);
    const loss = (tbl: tf.Tensor, g: tf.Tensor, bt: tf.Tensor, ww: tf.Tensor) => {
      const x = ops.embedding(tbl as tf.Tensor2D, ids); // (2, 4, 8)
      const h = ops.gelu(ops.layerNorm(x, g as tf.Tensor1D, bt as tf.Tensor1D));
      const q = tf.reshape(h, [2, 1, 4, 8]) as tf.Tensor4D;
      const att = tf.reshape(ops.causalAttention(q, q, q, mask), [2, 4, 8]);
      const logits = ops.linear(att, ww as tf.Tensor2D) as tf.Tensor3D; // (2, 4, 11)
      return tf.neg(tf.sum(tf.mul(ops.pickLogProbs(logits, ids), mask))) as tf.Scalar;
    };
    const { value, grads } = tf.valueAndGrads(loss)([table, gamma, beta, w]);
    return [tf.matMul(a, b), tf.matMul(a, a, true, false), tf.matMul(a, a, false, true), value, ...grads];
  };
  const gpu = await on('webgpu', computation);
  const cpu = await on('wasm', computation);
  assertAllClose(gpu, cpu, 2e-4, 'ops');
});

test('webgpu small model: loss and every gradient equal wasm', async (t) => {
  const skip = await ready;
  if (skip) return t.skip(skip);
  const computation = (): tf.Tensor[] => {
    const model = new MiniGpt({ vocab: 48, dModel: 32, layers: 2, heads: 4, maxPositions: 16 }, 11);
    const { ids, mask } = syntheticBatch(2, 12, 48, 4);
    const { value, grads } = tf.variableGrads(() => model.loss(ids, mask), model.variables());
    const out = [value, ...model.variables().map((v) => grads[v.name])];
    model.dispose();
    tf.dispose([ids, mask]);
    return out;
  };
  const gpu = await on('webgpu', computation);
  const cpu = await on('wasm', computation);
  assert.ok(Number.isFinite(gpu[0][0]) && gpu[0][0] > 0, `loss ${gpu[0][0]}`);
  assertAllClose(gpu, cpu, 5e-4, 'model');
});

test('webgpu engine paths equal wasm: built-in model sequence log-probs (reference scoring) and greedy generation (SPIN)', async (t) => {
  const skip = await ready;
  if (skip) return t.skip(skip);
  const tok = builtinTokenizer();
  const rows = [{ prompt: 'What is 2 + 3?', completion: ' 5' }, { prompt: 'Reverse abc', completion: ' cba, done' }];
  const shape = { numLayers: 2, hiddenSize: 32, numHeads: 2, maxPositions: 64 };
  async function scoreAndGenerate(backend: 'wasm' | 'webgpu'): Promise<{ logps: number[]; text: number[][] }> {
    await initBackend(backend);
    const model = createBuiltinModel(7, shape); // weights from a plain-JS PRNG: identical on both backends
    const batch = buildBatch(tok, rows, { maxLength: 64 });
    const l = sequenceLogps(model, batch);
    const logps = (await logpsToHost(l)).map((r) => r.sum);
    tf.dispose([l.sum, l.mean, l.count]);
    disposeBatch(batch);
    const text = await generate(model, tok, [tok.encode('What is 2 + 3?')], { maxNewTokens: 8, temperature: 0, topP: 1, seed: 0, stopOnEos: true });
    model.dispose();
    return { logps, text };
  }
  const gpu = await scoreAndGenerate('webgpu');
  const cpu = await scoreAndGenerate('wasm');
  assertAllClose([Float32Array.from(gpu.logps)], [Float32Array.from(cpu.logps)], 1e-4, 'sequence logps');
  assert.deepEqual(gpu.text, cpu.text, 'greedy generation');
});

test("'auto' asks a child process for the adapter: a software-only machine picks wasm and Dawn stays out of the process (no driver warnings)", async (t) => {
  const skip = await ready;
  if (skip) return t.skip(skip);
  const inProcess = await probeWebGpu();
  const isolated = await probeWebGpuIsolated();
  assert.deepEqual(isolated, inProcess, 'the child sees the same adapter');
  const dir = mkdtempSync(join(tmpdir(), 'dap-auto-'));
  const script = join(dir, 'auto.mts');
  const backendModule = pathToFileURL(join(__dirname, '..', '..', 'src', 'engine', 'backend.ts')).href;
  writeFileSync(script, `import { initBackend } from ${JSON.stringify(backendModule)};\nconsole.log(JSON.stringify(await initBackend('auto')));\n`);
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.DAP_BACKEND;
  const run = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', env, cwd: join(__dirname, '..', '..'), timeout: 120_000 });
  assert.equal(run.status, 0, run.stderr);
  const info = JSON.parse(run.stdout.trim().split('\n').pop() ?? '') as BackendInfo;
  if (inProcess?.software) {
    assert.notEqual(info.name, 'webgpu');
    assert.match(info.skipped.find((s) => s.name === 'webgpu')?.reason ?? '', /software adapter/);
    // Dawn writes its start-up warnings straight to fd 2; none may appear when it was never loaded here.
    assert.doesNotMatch(run.stderr, /Warning|artificially reduced/, run.stderr);
  } else {
    assert.equal(info.name, 'webgpu', JSON.stringify(info));
  }
});
