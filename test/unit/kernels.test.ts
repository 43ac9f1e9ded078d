/**
 * Tests for the engine's backend selection, the fast wasm kernels and the custom-gradient ops
 * (src/engine/backend.ts, src/engine/kernels/, src/engine/ops.ts). Every numeric result is compared
 * with a float64 reference computed here in plain JavaScript.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, resolvePreference } from '../../src/engine/backend';
import { installFastWasmMatMul, restoreStockWasmMatMul, fastWasmMatMulInstalled, setKernelMode, kernelMode, type KernelMode } from '../../src/engine/kernels/index';
import { VARIANTS, assertClose, numericGrad, randArray } from './numeric-checks';
import * as ops from '../../src/engine/ops';
import { MiniGpt, syntheticBatch } from '../../bench/minigpt';

/** float64 batched matmul with numpy-style broadcasting of batch axes and optional transposes. */
function refMatMul(a: Float64Array, sa: number[], b: Float64Array, sb: number[], ta: boolean, tb: boolean): { data: Float64Array; shape: number[] } {
  const ra = sa.length, rb = sb.length;
  const M = ta ? sa[ra - 1] : sa[ra - 2], K = ta ? sa[ra - 2] : sa[ra - 1];
  const N = tb ? sb[rb - 2] : sb[rb - 1];
  const ba = sa.slice(0, -2), bb = sb.slice(0, -2);
  const rank = Math.max(ba.length, bb.length);
  const pa = [...Array(rank - ba.length).fill(1), ...ba], pb = [...Array(rank - bb.length).fill(1), ...bb];
  const bo = pa.map((d, i) => Math.max(d, pb[i]));
  const nOut = bo.reduce((p, q) => p * q, 1);
  const out = new Float64Array(nOut * M * N);
  for (let o = 0; o < nOut; o++) {
    let rem = o, ia = 0, ib = 0, strideA = 1, strideB = 1;
    for (let d = rank - 1; d >= 0; d--) {
      const idx = rem % bo[d];
      rem = Math.floor(rem / bo[d]);
      ia += (pa[d] === 1 ? 0 : idx) * strideA;
      ib += (pb[d] === 1 ? 0 : idx) * strideB;
      strideA *= pa[d];
      strideB *= pb[d];
    }
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) {
        const av = ta ? a[ia * M * K + k * M + i] : a[ia * M * K + i * K + k];
        const bv = tb ? b[ib * K * N + j * K + k] : b[ib * K * N + k * N + j];
        s += av * bv;
      }
      out[o * M * N + i * N + j] = s;
    }
  }
  return { data: out, shape: [...bo, M, N] };
}

test('backend: wasm starts, reports its kernels and threads (native on linux-x64), falls back to XNNPACK; bad names are rejected', async () => {
  const info = await initBackend('wasm');
  assert.equal(info.name, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  if (`${process.platform}-${process.arch}` === 'linux-x64') {
    assert.equal(info.kernels, 'native', info.detail);
    assert.match(info.detail, new RegExp(`native kernels \\((avx512|avx2|generic), ${info.threads} of \\d+ cores\\)`));
  }
  const fallback = await initBackend('wasm', { native: false });
  assert.equal(fallback.kernels, 'wasm');
  assert.equal(fallback.threads, 1);
  assert.match(fallback.detail, /fast XNNPACK kernels, 1 thread/);
  assert.ok(fastWasmMatMulInstalled());
  assert.throws(() => resolvePreference('quantum'), /Unknown backend "quantum"/);
  const saved = process.env.DAP_BACKEND;
  process.env.DAP_BACKEND = 'cpu';
  try {
    assert.equal(resolvePreference('auto'), 'cpu');
    assert.equal(resolvePreference('wasm'), 'wasm');
  } finally {
    if (saved === undefined) delete process.env.DAP_BACKEND;
    else process.env.DAP_BACKEND = saved;
  }
});

test('auto ladder: tensorflow is skipped with a reason when tfjs-node cannot load, and a backend starts', async () => {
  const info = await initBackend('auto');
  assert.ok(['tensorflow', 'webgpu', 'wasm'].includes(info.name));
  if (info.name !== 'tensorflow') assert.ok(info.skipped.some((s) => s.name === 'tensorflow' && s.reason.length > 0));
  await initBackend('wasm');
});

const matmulCases: [number[], number[], boolean, boolean][] = [];
for (const ta of [false, true]) for (const tb of [false, true]) {
  const shapes: [number[], number[]][] = [
    [[5, 7], [7, 3]], // plain 2-D
    [[2, 5, 7], [7, 3]], // shared right-hand matrix: folded
    [[2, 5, 7], [2, 7, 3]], // batched
    [[5, 7], [4, 7, 3]], // shared left-hand matrix
    [[2, 3, 5, 7], [2, 3, 7, 4]], // rank 4 (attention)
    [[2, 1, 5, 7], [1, 3, 7, 4]], // broadcast on both sides
    [[3, 2, 5, 7], [2, 7, 4]], // broadcast of a lower-rank batch
    [[2, 3], [3, 40]], // wide right-hand matrix: with transposeB the kernel computes (B·Aᵀ)ᵀ
    [[2, 2, 3], [3, 40]], // the same, folded
  ];
  for (const [sa0, sb0] of shapes) {
    const sa = [...sa0], sb = [...sb0];
    if (ta) [sa[sa.length - 2], sa[sa.length - 1]] = [sa[sa.length - 1], sa[sa.length - 2]];
    if (tb) [sb[sb.length - 2], sb[sb.length - 1]] = [sb[sb.length - 1], sb[sb.length - 2]];
    matmulCases.push([sa, sb, ta, tb]);
  }
}

for (const mode of ['native', 'wasm'] as KernelMode[]) test(`${mode} BatchMatMul equals a float64 reference for every transpose/batch/broadcast combination`, async () => {
  await initBackend('wasm');
  setKernelMode(mode);
  if (mode === 'native' && kernelMode() !== 'native') return; // no native kernels on this platform
  let seed = 1;
  for (const [sa, sb, ta, tb] of matmulCases) {
    const a = randArray(sa.reduce((p, q) => p * q, 1), seed++);
    const b = randArray(sb.reduce((p, q) => p * q, 1), seed++);
    const ref = refMatMul(a, sa, b, sb, ta, tb);
    const out = tf.tidy(() => tf.matMul(tf.tensor(Float32Array.from(a), sa), tf.tensor(Float32Array.from(b), sb), ta, tb));
    assert.deepEqual(out.shape, ref.shape, `shape for ${sa} x ${sb} ta=${ta} tb=${tb}`);
    assertClose(await out.data(), ref.data, 1e-5, `matmul ${sa} x ${sb} ta=${ta} tb=${tb}`);
    out.dispose();
  }
});

test('fast and stock wasm BatchMatMul agree where the stock kernel supports the shapes; restore works', async () => {
  await initBackend('wasm');
  const a = tf.randomNormal([3, 16, 24], 0, 1, 'float32', 7);
  const w = tf.randomNormal([24, 8], 0, 1, 'float32', 8);
  const b = tf.randomNormal([3, 8, 24], 0, 1, 'float32', 9);
  const products = (): tf.Tensor[] => [tf.matMul(a, w), tf.matMul(a, b, false, true), tf.matMul(a, a, true, false)];
  installFastWasmMatMul();
  const fast = await Promise.all(products().map((t) => t.data()));
  restoreStockWasmMatMul();
  assert.ok(!fastWasmMatMulInstalled());
  const stock = await Promise.all(products().map((t) => t.data()));
  installFastWasmMatMul();
  for (let i = 0; i < fast.length; i++) assertClose(fast[i], stock[i], 1e-5, `product ${i}`);
  tf.dispose([a, w, b]);
});

for (const { name: backend, start } of VARIANTS) {
  test(`embedding (${backend}): values and table gradient equal float64 references`, async () => {
    await start();
    const V = 11, D = 4, B = 2, T = 5;
    const table = randArray(V * D, 21);
    const ids = [3, 1, 3, 0, 10, 7, 3, 1, 9, 0]; // repeats must accumulate
    const w = randArray(B * T * D, 22);
    const tTable = tf.tensor2d(Float32Array.from(table), [V, D]);
    const tIds = tf.tensor2d(ids, [B, T], 'int32');
    const tW = tf.tensor3d(Float32Array.from(w), [B, T, D]);
    const value = ops.embedding(tTable, tIds);
    const expectedValue = ids.flatMap((id) => Array.from(table.subarray(id * D, id * D + D)));
    assertClose(await value.data(), expectedValue, 1e-6, 'embedding value');
    const grad = tf.grad((tb: tf.Tensor) => tf.sum(tf.mul(ops.embedding(tb as tf.Tensor2D, tIds), tW)))(tTable);
    const expectedGrad = new Float64Array(V * D);
    ids.forEach((id, p) => { for (let d = 0; d < D; d++) expectedGrad[id * D + d] += w[p * D + d]; });
    assertClose(await grad.data(), expectedGrad, 1e-5, 'embedding grad');
    tf.dispose([tTable, tIds, tW, value, grad]);
  });

  test(`pickLogProbs (${backend}): values and logits gradient equal float64 references`, async () => {
    await start();
    const B = 2, T = 3, V = 7;
    const logits = randArray(B * T * V, 31).map((x) => 4 * x);
    const targets = [0, 6, 2, 2, 5, 1];
    const c = randArray(B * T, 32);
    const tLogits = tf.tensor3d(Float32Array.from(logits), [B, T, V]);
    const tTargets = tf.tensor2d(targets, [B, T], 'int32');
    const tC = tf.tensor2d(Float32Array.from(c), [B, T]);
    const expectedValue: number[] = [];
    const expectedGrad = new Float64Array(B * T * V);
    for (let n = 0; n < B * T; n++) {
      const row = logits.subarray(n * V, n * V + V);
      const m = Math.max(...row);
      const lse = m + Math.log(row.reduce((s, x) => s + Math.exp(x - m), 0));
      expectedValue.push(row[targets[n]] - lse);
      for (let v = 0; v < V; v++) expectedGrad[n * V + v] = c[n] * ((v === targets[n] ? 1 : 0) - Math.exp(row[v] - lse));
    }
    const value = ops.pickLogProbs(tLogits, tTargets);
    assert.deepEqual(value.shape, [B, T]);
    assertClose(await value.data(), expectedValue, 1e-5, 'pickLogProbs value');
    const grad = tf.grad((l: tf.Tensor) => tf.sum(tf.mul(ops.pickLogProbs(l as tf.Tensor3D, tTargets), tC)))(tLogits);
    assertClose(await grad.data(), expectedGrad, 1e-5, 'pickLogProbs grad');
    tf.dispose([tLogits, tTargets, tC, value, grad]);
  });
}

for (const { name: variant, start } of VARIANTS) test(`gelu, layerNorm, rmsNorm (${variant}): values and gradients equal float64 references (finite differences)`, async () => {
  await start();
  const R = 3, D = 5;
  const x = randArray(R * D, 41).map((v) => 3 * v);
  const gamma = randArray(D, 42), beta = randArray(D, 43), c = randArray(R * D, 44);
  const gelu64 = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
  const norm64 = (xs: Float64Array, g: Float64Array, bt: Float64Array | null, rms: boolean, eps: number) => {
    const out = new Float64Array(R * D);
    for (let r = 0; r < R; r++) {
      const row = xs.subarray(r * D, r * D + D);
      const mean = rms ? 0 : row.reduce((s, v) => s + v, 0) / D;
      const varc = row.reduce((s, v) => s + (v - mean) ** 2, 0) / D;
      for (let d = 0; d < D; d++) out[r * D + d] = ((row[d] - mean) / Math.sqrt(varc + eps)) * g[d] + (bt ? bt[d] : 0);
    }
    return out;
  };
  const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, v, i) => s + v * b[i], 0);
  const tx = tf.tensor2d(Float32Array.from(x), [R, D]);
  const tg = tf.tensor1d(Float32Array.from(gamma)), tb = tf.tensor1d(Float32Array.from(beta));
  const tc = tf.tensor2d(Float32Array.from(c), [R, D]);

  assertClose(await ops.gelu(tx).data(), x.map(gelu64), 1e-5, 'gelu value');
  const gGelu = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(ops.gelu(t), tc)))(tx);
  assertClose(await gGelu.data(), numericGrad((xs) => dot(xs.map(gelu64), c), x), 1e-4, 'gelu grad');

  assertClose(await ops.layerNorm(tx, tg, tb).data(), norm64(x, gamma, beta, false, 1e-5), 1e-4, 'layerNorm value');
  const [gx, gg, gb] = tf.grads((a: tf.Tensor, g: tf.Tensor, bt: tf.Tensor) =>
    tf.sum(tf.mul(ops.layerNorm(a, g as tf.Tensor1D, bt as tf.Tensor1D), tc)))([tx, tg, tb]);
  assertClose(await gx.data(), numericGrad((xs) => dot(norm64(xs, gamma, beta, false, 1e-5), c), x), 1e-3, 'layerNorm dx');
  assertClose(await gg.data(), numericGrad((g) => dot(norm64(x, g, beta, false, 1e-5), c), gamma), 1e-4, 'layerNorm dgamma');
  assertClose(await gb.data(), numericGrad((bt) => dot(norm64(x, gamma, bt, false, 1e-5), c), beta), 1e-4, 'layerNorm dbeta');

  assertClose(await ops.rmsNorm(tx, tg).data(), norm64(x, gamma, null, true, 1e-6), 1e-4, 'rmsNorm value');
  const [rx, rw] = tf.grads((a: tf.Tensor, g: tf.Tensor) => tf.sum(tf.mul(ops.rmsNorm(a, g as tf.Tensor1D), tc)))([tx, tg]);
  assertClose(await rx.data(), numericGrad((xs) => dot(norm64(xs, gamma, null, true, 1e-6), c), x), 1e-3, 'rmsNorm dx');
  assertClose(await rw.data(), numericGrad((g) => dot(norm64(x, g, null, true, 1e-6), c), gamma), 1e-4, 'rmsNorm dweight');
  tf.dispose([tx, tg, tb, tc, gGelu, gx, gg, gb, rx, rw]);
});

for (const { name: variant, start } of VARIANTS) test(`causalAttention (${variant}) equals a float64 reference (causal + key padding)`, async () => {
  await start();
  const B = 2, H = 2, T = 4, Dh = 3;
  const n = B * H * T * Dh;
  const q = randArray(n, 51), k = randArray(n, 52), v = randArray(n, 53);
  const mask = [1, 1, 1, 1, 1, 1, 0, 0];
  const out = ops.causalAttention(
    tf.tensor4d(Float32Array.from(q), [B, H, T, Dh]), tf.tensor4d(Float32Array.from(k), [B, H, T, Dh]),
    tf.tensor4d(Float32Array.from(v), [B, H, T, Dh]), tf.tensor2d(mask, [B, T]));
  const expected = new Float64Array(n);
  for (let bh = 0; bh < B * H; bh++) {
    const bi = Math.floor(bh / H);
    for (let i = 0; i < T; i++) {
      const s: number[] = [];
      for (let j = 0; j < T; j++) {
        if (j > i || mask[bi * T + j] === 0) { s.push(-Infinity); continue; }
        let d = 0;
        for (let e = 0; e < Dh; e++) d += q[(bh * T + i) * Dh + e] * k[(bh * T + j) * Dh + e];
        s.push(d / Math.sqrt(Dh));
      }
      const m = Math.max(...s);
      const p = s.map((x) => Math.exp(x - m));
      const z = p.reduce((a, b) => a + b, 0);
      for (let e = 0; e < Dh; e++) {
        let acc = 0;
        for (let j = 0; j < T; j++) acc += (p[j] / z) * v[(bh * T + j) * Dh + e];
        expected[(bh * T + i) * Dh + e] = acc;
      }
    }
  }
  assertClose(await out.data(), expected, 1e-5, 'attention');
});

test('training steps with Adam leak no tensors and lower the loss (wasm, fast kernels)', async () => {
  await initBackend('wasm');
  const model = new MiniGpt({ vocab: 64, dModel: 32, layers: 2, heads: 4, maxPositions: 16 }, 5);
  const { ids, mask } = syntheticBatch(2, 16, 64, 9);
  const opt: tf.Optimizer = tf.train.adam(3e-3);
  const vars = model.variables();
  const counts: number[] = [];
  const losses: number[] = [];
  for (let step = 0; step < 6; step++) {
    const { value, grads } = tf.variableGrads(() => model.loss(ids, mask), vars);
    opt.applyGradients(grads);
    tf.dispose(grads);
    losses.push((await value.data())[0]);
    value.dispose();
    counts.push(tf.memory().numTensors);
  }
  // Adam creates its moment variables on the first step; from then on the count must not move.
  assert.deepEqual(counts.slice(1), Array(counts.length - 1).fill(counts[1]), `tensor counts per step: ${counts}`);
  assert.ok(losses[5] < losses[0], `loss should fall on a repeated batch: ${losses}`);
  opt.dispose();
  model.dispose();
  tf.dispose([ids, mask]);
});
