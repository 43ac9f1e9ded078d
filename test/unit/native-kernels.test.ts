/**
 * Tests of the native kernels (native/src, src/engine/kernels/native*.ts): the shipped binary matches
 * its sources, the thread count is reported and settable, every kernel gives bit-identical results for
 * 1–4 threads (products, fused kernels incl. SwiGLU, RoPE and attention on the (B, T, 3D) layout, reductions, a whole training step), and the fused attention
 * softmax (with a cached past) and its gradient equal float64 references and finite differences.
 * On a platform without the prebuilt binary these tests check that the engine says so and skip the rest.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/engine/backend';
import { kernelMode, nativeLoadError } from '../../src/engine/kernels/index';
import { engineThreads, nativeKernels, parseThreads, setEngineThreads } from '../../src/engine/kernels/native';
import { causalSoftmax, flashAttention, rope, rowsAttention } from '../../src/engine/fused-ops';
import { ropeInvFreq, ropeTables } from '../../src/engine/llama';
import * as ops from '../../src/engine/ops';
import { gpt2ConfigJson, parseConfig } from '../../src/engine/config';
import { createRandomModel } from '../../src/engine/models';
import { MiniGpt, syntheticBatch } from '../../bench/minigpt';
import { rng } from './engine-reference';

const root = join(__dirname, '..', '..');
const shipped = `${process.platform}-${process.arch}` === 'linux-x64';

function rand(n: number, seed: number, scale = 1): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => scale * r());
}

test('native kernels: the shipped linux-x64 binary loads and was built from the current native/src', async () => {
  const info = await initBackend('wasm');
  if (!shipped) {
    assert.equal(info.kernels, 'wasm');
    assert.match(nativeLoadError(), /no prebuilt native kernels|did not load|DAP_NATIVE/);
    return;
  }
  assert.equal(info.kernels, 'native', nativeLoadError());
  const expected = execFileSync(process.execPath, [join(root, 'scripts', 'native-source-hash.mjs')], { encoding: 'utf8' });
  assert.equal(nativeKernels()!.info().sourceHash, expected, 'native/prebuilt is stale: run bash scripts/build-native.sh');
});

test('thread count: every core by default, settable, reported by initBackend; bad values are named', async () => {
  assert.throws(() => parseThreads('0', 'DAP_THREADS'), /DAP_THREADS: the thread count must be an integer from 1 to 256 \(got "0"\)/);
  assert.throws(() => parseThreads('two', '--threads'), /--threads: .*"two"/);
  assert.equal(parseThreads(' 3 ', 'x'), 3);
  if (!shipped) return;
  const k = nativeKernels()!;
  const info = await initBackend('wasm', { threads: 3 });
  assert.equal(info.threads, 3);
  assert.equal(engineThreads(), 3);
  assert.match(info.detail, /3 of \d+ cores/);
  setEngineThreads(1);
  assert.equal(k.threads(), 1);
  setEngineThreads(k.cores());
});

/** Everything the determinism test compares, as raw bytes per name. */
async function kernelOutputs(): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  const keep = async (name: string, t: tf.Tensor) => {
    out.set(name, new Uint8Array(((await t.data()) as Float32Array).slice().buffer));
    t.dispose();
  };
  const a = tf.tensor2d(rand(300 * 257, 1), [300, 257]);
  const b = tf.tensor2d(rand(257 * 700, 2), [257, 700]);
  await keep('matmul', tf.matMul(a, b));
  await keep('matmul ta', tf.matMul(a, a, true, false));
  await keep('matmul tb', tf.matMul(b, b, false, true));
  const q = tf.tensor4d(rand(3 * 4 * 70 * 16, 3), [3, 4, 70, 16]);
  const mask = tf.tensor2d(Array.from({ length: 3 * 70 }, (_, i) => (i % 70 < 60 || i < 70 ? 1 : 0)), [3, 70]);
  await keep('attention', ops.causalAttention(q, q, q, mask));
  await keep('flash attention', flashAttention(q, q, q, mask));
  const qkv = tf.tensor3d(rand(3 * 70 * 3 * 64, 13), [3, 70, 3 * 64]); // (B, T, 3D), 4 heads of 16
  await keep('rows attention', rowsAttention(qkv, 4, 4, 16, mask));
  const dOut = tf.tensor3d(rand(3 * 70 * 64, 14), [3, 70, 64]);
  await keep('rows attention dqkv', tf.grad((t: tf.Tensor) => tf.sum(tf.mul(rowsAttention(t as tf.Tensor3D, 4, 4, 16, mask), dOut)))(qkv));
  tf.dispose([qkv, dOut]);
  const x = tf.tensor2d(rand(1000 * 96, 4, 3), [1000, 96]);
  const g = tf.tensor1d(rand(96, 5)), bt = tf.tensor1d(rand(96, 6));
  const c = tf.tensor2d(rand(1000 * 96, 7), [1000, 96]);
  const [dx, dg, db] = tf.grads((xi: tf.Tensor, gi: tf.Tensor, bi: tf.Tensor) =>
    tf.sum(tf.mul(ops.gelu(ops.layerNorm(xi, gi as tf.Tensor1D, bi as tf.Tensor1D)), c)))([x, g, bt]);
  await keep('layerNorm+gelu dx', dx);
  await keep('layerNorm dgamma', dg);
  await keep('layerNorm dbeta', db);
  await keep('colsum', tf.sum(c, 0));
  await keep('swiglu', ops.swiglu(x, c));
  const [dSwGate, dSwUp] = tf.grads((gi: tf.Tensor, ui: tf.Tensor) => tf.sum(ops.swiglu(gi, ui)))([x, c]);
  await keep('swiglu dgate', dSwGate);
  await keep('swiglu dup', dSwUp);
  const { cos, sin } = ropeTables(ropeInvFreq(16, 1000, null), 70, null, 3);
  await keep('rope', rope(q, cos, sin));
  await keep('rope dx', tf.grad((qi: tf.Tensor) => tf.sum(tf.mul(rope(qi as tf.Tensor4D, cos, sin), qi)))(q));
  tf.dispose([cos, sin]);
  const model = new MiniGpt({ vocab: 97, dModel: 64, layers: 2, heads: 4, maxPositions: 40 }, 3);
  const batch = syntheticBatch(3, 40, 97, 4);
  const opt = tf.train.sgd(0.05);
  for (let s = 0; s < 2; s++) {
    const { value, grads } = tf.variableGrads(() => model.loss(batch.ids, batch.mask), model.variables());
    opt.applyGradients(grads);
    tf.dispose(grads);
    await keep(`step ${s} loss`, value);
  }
  for (const [i, v] of model.variables().entries()) out.set(`weight ${i}`, new Uint8Array(((await v.data()) as Float32Array).slice().buffer));
  model.dispose();
  opt.dispose();
  // The engine's own GPT-2 (fused qkv projection, attention on the (B, T, 3D) layout): loss and every gradient.
  const gpt2 = createRandomModel(parseConfig(gpt2ConfigJson({ vocabSize: 97, maxPositions: 40, hiddenSize: 64, numLayers: 2, numHeads: 4 }), 't'), 5);
  const targets = tf.tensor2d(Array.from({ length: 3 * 40 }, (_, i) => (i * 7) % 97), [3, 40], 'int32');
  const { value, grads } = tf.variableGrads(() => tf.neg(tf.mean(ops.pickLogProbs(gpt2.forward(batch.ids, batch.mask), targets))) as tf.Scalar, gpt2.trainableVariables());
  await keep('gpt2 loss', value);
  for (const [i, v] of gpt2.trainableVariables().entries()) await keep(`gpt2 grad ${i}`, grads[v.name]);
  gpt2.dispose();
  tf.dispose([a, b, q, mask, x, g, bt, c, batch.ids, batch.mask, targets]);
  return out;
}

test('results are bit-identical for 1, 2, 3 and 4 threads (products, attention, norms, sums, two training steps)', async () => {
  if (!shipped) return;
  await initBackend('wasm');
  assert.equal(kernelMode(), 'native');
  const runs: Map<string, Uint8Array>[] = [];
  for (const threads of [1, 2, 3, 4]) {
    setEngineThreads(threads);
    runs.push(await kernelOutputs());
  }
  setEngineThreads(nativeKernels()!.cores());
  for (const [name, bytes] of runs[0]) {
    for (let r = 1; r < runs.length; r++) assert.deepEqual(runs[r].get(name), bytes, `${name}: ${r + 1} threads differ from 1 thread`);
  }
});

/** float64 (batch, M, N) = op(a)·op(b) for row-major (batch, rows, cols) operands; ta/tb read them transposed. */
function matMul64(a: Float32Array, b: Float32Array, batch: number, M: number, N: number, K: number, ta: boolean, tb: boolean): Float64Array {
  const c = new Float64Array(batch * M * N);
  for (let e = 0; e < batch; e++) {
    const ao = e * M * K, bo = e * K * N;
    for (let m = 0; m < M; m++) {
      for (let k = 0; k < K; k++) {
        const av = a[ao + (ta ? k * M + m : m * K + k)];
        const row = e * M * N + m * N;
        for (let n = 0; n < N; n++) c[row + n] += av * b[bo + (tb ? n * K + k : k * N + n)];
      }
    }
  }
  return c;
}

test('native GEMM at blocking sizes equals float64 for every transpose (row tiles, K slices, column chunks, partial panels)', async () => {
  if (!shipped) return;
  await initBackend('wasm');
  assert.equal(kernelMode(), 'native');
  // (110, 300)x(300, 4150): two row tiles (the second partial), two K slices, two packed column chunks;
  // (3, 130, 70)x(3, 70, 100): batched, per-tile path with in-place and packed panels.
  for (const [batch, M, N, K] of [[1, 110, 4150, 300], [3, 130, 100, 70]]) {
    for (const ta of [false, true]) for (const tb of [false, true]) {
      const a = rand(batch * M * K, 11 + M), b = rand(batch * K * N, 12 + N);
      const sa = batch === 1 ? (ta ? [K, M] : [M, K]) : (ta ? [batch, K, M] : [batch, M, K]);
      const sb = batch === 1 ? (tb ? [N, K] : [K, N]) : (tb ? [batch, N, K] : [batch, K, N]);
      const out = tf.tidy(() => tf.matMul(tf.tensor(a, sa), tf.tensor(b, sb), ta, tb));
      const got = (await out.data()) as Float32Array;
      out.dispose();
      const ref = matMul64(a, b, batch, M, N, K, ta, tb);
      let worst = 0;
      for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(got[i] - ref[i]) / (1 + Math.abs(ref[i])));
      assert.ok(worst < 1e-5, `(${batch}, ${M}, ${K})x(${K}, ${N}) ta=${ta} tb=${tb}: worst relative error ${worst}`);
    }
  }
});

/** float64 reference: probs of softmax(scale·s) over keys j ≤ past + i with mask[b, j] = 1. */
function softmax64(s: Float32Array, mask: number[], B: number, H: number, Tq: number, Tk: number, past: number, scale: number): Float64Array {
  const p = new Float64Array(s.length);
  for (let bh = 0; bh < B * H; bh++) {
    const b = Math.floor(bh / H);
    for (let i = 0; i < Tq; i++) {
      const off = (bh * Tq + i) * Tk;
      const ok = (j: number) => j <= past + i && mask[b * Tk + j] === 1;
      let m = -Infinity;
      for (let j = 0; j < Tk; j++) if (ok(j)) m = Math.max(m, scale * s[off + j]);
      let z = 0;
      for (let j = 0; j < Tk; j++) if (ok(j)) z += Math.exp(scale * s[off + j] - m);
      for (let j = 0; j < Tk; j++) p[off + j] = ok(j) ? Math.exp(scale * s[off + j] - m) / z : 0;
    }
  }
  return p;
}

test('fused causal softmax with a cached past: values and gradient equal float64 and finite differences', async () => {
  if (!shipped) return;
  await initBackend('wasm');
  const B = 2, H = 2, Tq = 3, Tk = 5, past = 2, scale = 0.7;
  const s = rand(B * H * Tq * Tk, 11, 3);
  const mask = [1, 1, 1, 1, 1, 0, 1, 1, 1, 0];
  const c = rand(B * H * Tq * Tk, 12);
  const ts = tf.tensor4d(s, [B, H, Tq, Tk]);
  const tm = tf.tensor2d(mask, [B, Tk]);
  const tc = tf.tensor4d(c, [B, H, Tq, Tk]);
  const expected = softmax64(s, mask, B, H, Tq, Tk, past, scale);
  const got = await causalSoftmax(ts, tm, scale, past).data();
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(got[i] - expected[i]) < 1e-6, `prob ${i}: ${got[i]} vs ${expected[i]}`);
  const grad = await tf.grad((x: tf.Tensor) => tf.sum(tf.mul(causalSoftmax(x as tf.Tensor4D, tm, scale, past), tc)))(ts).data();
  const f = (x: Float32Array) => softmax64(x, mask, B, H, Tq, Tk, past, scale).reduce((acc, p, i) => acc + p * c[i], 0);
  for (let i = 0; i < s.length; i++) {
    const h = 1e-3;
    const xp = Float32Array.from(s), xm = Float32Array.from(s);
    xp[i] += h;
    xm[i] -= h;
    const fd = (f(xp) - f(xm)) / (2 * h);
    assert.ok(Math.abs(grad[i] - fd) < 2e-4, `d/ds[${i}]: ${grad[i]} vs finite difference ${fd}`);
  }
  tf.dispose([ts, tm, tc]);
});

/** float64 AdamW for one variable over `steps` updates with gradient gradFn(step) scaled by `scale`. */
function adamw64(p0: Float32Array, grads: Float32Array[], lr: number, wd: number, scale: number): Float64Array {
  const p = Float64Array.from(p0), m = new Float64Array(p.length), v = new Float64Array(p.length);
  grads.forEach((g, s) => {
    const bc1 = 1 - 0.9 ** (s + 1), bc2 = 1 - 0.999 ** (s + 1);
    for (let i = 0; i < p.length; i++) {
      const gi = g[i] * scale;
      m[i] = 0.9 * m[i] + 0.1 * gi;
      v[i] = 0.999 * v[i] + 0.001 * gi * gi;
      p[i] = p[i] * (1 - lr * wd) - (lr * (m[i] / bc1)) / (Math.sqrt(v[i] / bc2) + 1e-8);
    }
  });
  return p;
}

test('AdamW updates in place with the native kernels (no new tensors, same data) and equals float64; the tfjs path equals it too', async () => {
  const { AdamW, clipScale, globalGradNorm } = await import('../../src/train/stage/optimizer');
  for (const native of shipped ? [true, false] : [false]) {
    await initBackend('wasm', { native });
    const p0 = rand(3000, 21), grads = [rand(3000, 22), rand(3000, 23), rand(3000, 24)];
    const w = tf.tidy(() => tf.variable(tf.tensor2d(p0, [30, 100])));
    const opt = new AdamW([w], { weightDecay: 0.1 });
    const dataId = w.dataId;
    let scale = 1;
    for (const g of grads) {
      const gt = tf.tensor2d(g, [30, 100]);
      const norm = await globalGradNorm([gt]);
      assert.ok(Math.abs(norm - Math.hypot(...g)) < 1e-4 * norm, `norm ${norm}`);
      scale = clipScale(norm, 20);
      const before = tf.memory().numTensors;
      opt.apply([gt], 1e-2, scale);
      assert.equal(tf.memory().numTensors, before, 'apply leaves no tensors behind');
      gt.dispose();
    }
    if (native) assert.equal(w.dataId, dataId, 'native AdamW writes the weights in place');
    const expected = adamw64(p0, grads.map((g) => { const n = Math.hypot(...g); return g.map((x) => x * Math.min(1, 20 / (n + 1e-6))); }), 1e-2, 0.1, 1);
    const got = await w.data();
    for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(got[i] - expected[i]) < 1e-5, `${native ? 'native' : 'tfjs'} p[${i}] ${got[i]} vs ${expected[i]}`);
    opt.dispose();
    w.dispose();
  }
});

/** float64 causal attention with key padding: out (B, H, T, Dh); fully masked queries give 0. */
function attention64(q: Float32Array, k: Float32Array, v: Float32Array, mask: number[], B: number, H: number, T: number, Dh: number): Float64Array {
  const out = new Float64Array(q.length);
  for (let bh = 0; bh < B * H; bh++) {
    const b = Math.floor(bh / H);
    for (let i = 0; i < T; i++) {
      const s: number[] = [];
      for (let j = 0; j <= i; j++) {
        if (mask[b * T + j] === 0) continue;
        let d = 0;
        for (let e = 0; e < Dh; e++) d += q[(bh * T + i) * Dh + e] * k[(bh * T + j) * Dh + e];
        s.push(j, d / Math.sqrt(Dh));
      }
      if (s.length === 0) continue;
      let m = -Infinity;
      for (let n = 1; n < s.length; n += 2) m = Math.max(m, s[n]);
      let z = 0;
      for (let n = 1; n < s.length; n += 2) z += Math.exp(s[n] - m);
      for (let n = 0; n < s.length; n += 2) {
        const p = Math.exp(s[n + 1] - m) / z;
        for (let e = 0; e < Dh; e++) out[(bh * T + i) * Dh + e] += p * v[(bh * T + s[n]) * Dh + e];
      }
    }
  }
  return out;
}

test('flash attention (no (T, T) tensors): values and q/k/v gradients equal float64 and finite differences', async () => {
  if (!shipped) return;
  await initBackend('wasm');
  const B = 2, H = 2, T = 6, Dh = 4, n = B * H * T * Dh;
  const q = rand(n, 61), k = rand(n, 62), v = rand(n, 63), c = rand(n, 64);
  const mask = [0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]; // row 0 of batch 0 sees no key; batch 1 is right-padded
  const t = (a: Float32Array) => tf.tensor4d(a, [B, H, T, Dh]);
  const [tq, tk, tv, tc] = [t(q), t(k), t(v), t(c)];
  const tm = tf.tensor2d(mask, [B, T]);
  const got = await flashAttention(tq, tk, tv, tm).data();
  const expected = attention64(q, k, v, mask, B, H, T, Dh);
  for (let i = 0; i < n; i++) assert.ok(Math.abs(got[i] - expected[i]) < 1e-6, `out ${i}: ${got[i]} vs ${expected[i]}`);
  const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, d: tf.Tensor) => tf.sum(tf.mul(flashAttention(a as tf.Tensor4D, b as tf.Tensor4D, d as tf.Tensor4D, tm), tc)))([tq, tk, tv]);
  const inputs = [q, k, v];
  const loss = (xs: Float32Array[]) => attention64(xs[0], xs[1], xs[2], mask, B, H, T, Dh).reduce((s, o, i) => s + o * c[i], 0);
  for (let w = 0; w < 3; w++) {
    const g = await grads[w].data();
    for (let i = 0; i < n; i += 3) {
      const h = 1e-3;
      const plus = inputs.map((x, u) => (u === w ? Float32Array.from(x, (y, z) => (z === i ? y + h : y)) : x));
      const minus = inputs.map((x, u) => (u === w ? Float32Array.from(x, (y, z) => (z === i ? y - h : y)) : x));
      const fd = (loss(plus) - loss(minus)) / (2 * h);
      assert.ok(Math.abs(g[i] - fd) < 2e-4, `d/d${'qkv'[w]}[${i}]: ${g[i]} vs finite difference ${fd}`);
    }
  }
  tf.dispose([tq, tk, tv, tc, tm, ...grads]);
});
