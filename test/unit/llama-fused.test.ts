/**
 * The Llama path's fused kernels (native/src/llama_ops.c, fused-ops.ts): SwiGLU silu(g)·u and RoPE in
 * HF's rotate_half form, values and hand-written gradients against float64 references and finite
 * differences (SwiGLU on every kernel set, RoPE's fused kernel with shared and per-row tables), and a
 * small Llama's loss and every weight gradient equal with the fused kernels and with the composite ops.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/engine/backend';
import { kernelMode } from '../../src/engine/kernels/index';
import { llamaConfigJson, parseConfig } from '../../src/engine/config';
import { createRandomModel } from '../../src/engine/models';
import { ropeInvFreq, ropeTables } from '../../src/engine/llama';
import * as fused from '../../src/engine/fused-ops';
import * as ops from '../../src/engine/ops';
import { VARIANTS, assertClose, numericGrad, randArray } from './numeric-checks';

const shipped = `${process.platform}-${process.arch}` === 'linux-x64';

const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, v, i) => s + v * b[i], 0);
const f32 = (a: Float64Array, shape: number[]) => tf.tensor(Float32Array.from(a), shape);

for (const { name: variant, start } of VARIANTS) test(`swiglu (${variant}): value and both gradients equal float64 and finite differences`, async () => {
  await start();
  const n = 40000; // more than one task of the fused kernel
  const g = randArray(n, 61, 8), u = randArray(n, 62, 2), c = randArray(n, 63);
  const swiglu64 = (gs: Float64Array, us: Float64Array) => gs.map((v, i) => (v / (1 + Math.exp(-v))) * us[i]);
  const [tg, tu, tc] = [f32(g, [n]), f32(u, [n]), f32(c, [n])];
  assertClose(await ops.swiglu(tg, tu).data(), swiglu64(g, u), 1e-5, 'swiglu value');
  const [dg, du] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(ops.swiglu(a, b), tc)))([tg, tu]);
  // Finite differences on a slice of the elements (each element's gradient only depends on its own inputs).
  const m = 200;
  const gs = g.slice(0, m), us = u.slice(0, m), cs = c.slice(0, m);
  const dgData = await dg.data(), duData = await du.data();
  assertClose(dgData.slice(0, m), numericGrad((x) => dot(swiglu64(x, us), cs), gs), 1e-4, 'swiglu dgate');
  assertClose(duData.slice(0, m), numericGrad((x) => dot(swiglu64(gs, x), cs), us), 1e-4, 'swiglu dup');
  // The rest against the closed form in float64.
  const dg64 = g.map((v, i) => { const s = 1 / (1 + Math.exp(-v)); return c[i] * u[i] * (s + v * s * (1 - s)); });
  const du64 = g.map((v, i) => c[i] * v / (1 + Math.exp(-v)));
  assertClose(dgData, dg64, 1e-5, 'swiglu dgate (closed form)');
  assertClose(duData, du64, 1e-5, 'swiglu dup (closed form)');
  tf.dispose([tg, tu, tc, dg, du]);
});

/** float64 RoPE (rotate_half form) of x (B, H, T, Dh) with cos/sin (CB, 1, T, Dh). */
function rope64(x: Float64Array, cos: Float32Array, sin: Float32Array, B: number, H: number, T: number, Dh: number, CB: number): Float64Array {
  const y = new Float64Array(x.length), half = Dh / 2;
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let t = 0; t < T; t++) {
    const o = ((b * H + h) * T + t) * Dh, cs = ((CB === 1 ? 0 : b) * T + t) * Dh;
    for (let d = 0; d < Dh; d++) {
      const rot = d < half ? -x[o + d + half] : x[o + d - half];
      y[o + d] = x[o + d] * cos[cs + d] + rot * sin[cs + d];
    }
  }
  return y;
}

test('rope, fused kernel: value and gradient equal float64 and finite differences (shared and per-row position tables)', async () => {
  if (!shipped) return;
  await initBackend('wasm');
  assert.equal(kernelMode(), 'native');
  const B = 2, H = 3, T = 5, Dh = 8;
  const inv = ropeInvFreq(Dh, 500, null);
  for (const positions of [null, Int32Array.from([3, 4, 5, 6, 7, 0, 1, 2, 9, 11])]) {
    const { cos, sin } = ropeTables(inv, T, positions, B);
    const CB = cos.shape[0];
    const cosD = (await cos.data()) as Float32Array, sinD = (await sin.data()) as Float32Array;
    const x = randArray(B * H * T * Dh, 71, 2), c = randArray(B * H * T * Dh, 72);
    const tx = f32(x, [B, H, T, Dh]) as tf.Tensor4D, tc = f32(c, [B, H, T, Dh]);
    const what = positions ? 'per-row positions' : 'positions 0..T-1';
    assertClose(await fused.rope(tx, cos, sin).data(), rope64(x, cosD, sinD, B, H, T, Dh, CB), 1e-6, `rope value (${what})`);
    const dx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(fused.rope(a as tf.Tensor4D, cos, sin), tc)))(tx);
    assertClose(await dx.data(), numericGrad((xs) => dot(rope64(xs, cosD, sinD, B, H, T, Dh, CB), c), x), 1e-5, `rope dx (${what})`);
    tf.dispose([cos, sin, tx, tc, dx]);
  }
});

test('a small Llama: loss and every weight gradient are the same with the fused kernels and with the composite ops', async () => {
  if (!shipped) return;
  const config = parseConfig(llamaConfigJson({ vocabSize: 37, maxPositions: 16, hiddenSize: 16, numLayers: 2, numHeads: 4, numKvHeads: 2, intermediateSize: 24, ropeTheta: 300 }), 't');
  const run = async (native: boolean) => {
    await initBackend('wasm', { native });
    assert.equal(kernelMode(), native ? 'native' : 'wasm');
    const model = createRandomModel(config, 5, 0.2);
    const ids = tf.tensor2d(Array.from({ length: 2 * 12 }, (_, i) => (i * 7 + 3) % 37), [2, 12], 'int32');
    const mask = tf.tensor2d(Array.from({ length: 24 }, (_, i) => (i >= 21 ? 0 : 1)), [2, 12]);
    const vars = model.trainableVariables();
    const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(model.forward(ids, mask))) as tf.Scalar, vars);
    const out = { loss: (await value.data())[0], grads: await Promise.all(vars.map((v) => grads[v.name].data())) };
    tf.dispose([value, ids, mask, ...Object.values(grads)]);
    model.dispose();
    return out;
  };
  const composite = await run(false);
  const fusedRun = await run(true);
  assertClose([fusedRun.loss], [composite.loss], 1e-5, 'loss');
  for (let i = 0; i < composite.grads.length; i++) assertClose(fusedRun.grads[i], composite.grads[i], 1e-4, `gradient ${i}`);
  await initBackend('wasm');
});
