/**
 * Attention on the projections' own layout (fused-ops.ts rowsAttention, native/src/attn.c): q, k, v read as
 * (B, T, heads, Dh) rows of a fused (B, T, 3D) qkv or of three tensors, output (B, T, H·Dh), gradients
 * written in the same layout. With as many key/value heads as query heads it is a layout change of the
 * composite path (slices, head transposes, causalAttention, transposes back), so values and gradients must
 * equal that path bit for bit; with grouped-query heads it is checked against float64 and finite
 * differences. Both model families must give the same loss and gradients with it as with the composite ops.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/engine/backend';
import { kernelMode } from '../../src/engine/kernels/index';
import * as fused from '../../src/engine/fused-ops';
import { assertClose, numericGrad, randArray } from './numeric-checks';

const shipped = `${process.platform}-${process.arch}` === 'linux-x64';
const f32 = (a: Float64Array, shape: number[]) => tf.tensor(Float32Array.from(a), shape);
const bytes = async (t: tf.Tensor) => new Uint8Array(((await t.data()) as Float32Array).slice().buffer);

/** The composite path: split, (B, T, H, Dh) → (B, H, T, Dh), causalAttention, back to (B, T, H·Dh). */
function compositeAttention(qkv: tf.Tensor3D, H: number, mask: tf.Tensor2D | undefined): tf.Tensor3D {
  const [B, T, C] = qkv.shape;
  const D = C / 3, Dh = D / H;
  const heads = (i: number) => tf.transpose(tf.reshape(tf.slice(qkv, [0, 0, i * D], [B, T, D]), [B, T, H, Dh]), [0, 2, 1, 3]) as tf.Tensor4D;
  const out = fused.causalAttention(heads(0), heads(1), heads(2), mask); // (B, H, T, Dh)
  return tf.reshape(tf.transpose(out, [0, 2, 1, 3]), [B, T, D]);
}

test('rowsAttention on a fused qkv equals the composite path bit for bit (values and the (B, T, 3D) gradient)', async () => {
  if (!shipped) return;
  await initBackend('wasm');
  assert.equal(kernelMode(), 'native');
  // T = 128: whole row blocks and a partial one; T = 37: a single partial block; masks with left padding
  // (a row of only masked keys) and padding inside the sequence.
  for (const [B, T, H, Dh, padded] of [[2, 128, 4, 32, true], [3, 37, 2, 8, false], [2, 37, 3, 16, true]] as const) {
    const qkv = f32(randArray(B * T * 3 * H * Dh, 7 + T, 2), [B, T, 3 * H * Dh]) as tf.Tensor3D;
    const c = f32(randArray(B * T * H * Dh, 8 + T), [B, T, H * Dh]);
    const mask = padded ? tf.tensor2d(Array.from({ length: B * T }, (_, i) => (i % T < 3 && i < T) || i % T === 20 ? 0 : 1), [B, T]) : undefined;
    const fast = fused.rowsAttention(qkv, H, H, Dh, mask);
    const slow = compositeAttention(qkv, H, mask);
    assert.deepEqual(fast.shape, [B, T, H * Dh]);
    assert.deepEqual(await bytes(fast), await bytes(slow), `(${B}, ${T}, ${H}, ${Dh}) output`);
    const gFast = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(fused.rowsAttention(x as tf.Tensor3D, H, H, Dh, mask), c)))(qkv);
    const gSlow = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(compositeAttention(x as tf.Tensor3D, H, mask), c)))(qkv);
    assert.deepEqual(await bytes(gFast), await bytes(gSlow), `(${B}, ${T}, ${H}, ${Dh}) gradient`);
    tf.dispose([qkv, c, fast, slow, gFast, gSlow, ...(mask ? [mask] : [])]);
  }
});

/** float64 causal attention, q (B, T, H, Dh), k/v (B, T, Hkv, Dh) row-major, mask (B, T) → (B, T, H, Dh). */
function attention64(q: Float64Array, k: Float64Array, v: Float64Array, mask: number[], B: number, T: number, H: number, Hkv: number, Dh: number): Float64Array {
  const out = new Float64Array(B * T * H * Dh);
  const g = H / Hkv;
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < T; i++) {
    const kv = Math.floor(h / g);
    const s: number[] = [];
    for (let j = 0; j <= i; j++) {
      if (mask[b * T + j] === 0) continue;
      let d = 0;
      for (let e = 0; e < Dh; e++) d += q[((b * T + i) * H + h) * Dh + e] * k[((b * T + j) * Hkv + kv) * Dh + e];
      s[j] = d / Math.sqrt(Dh);
    }
    const vis = [...s.keys()].filter((j) => s[j] !== undefined);
    if (vis.length === 0) continue;
    const m = Math.max(...vis.map((j) => s[j]));
    const z = vis.reduce((acc, j) => acc + Math.exp(s[j] - m), 0);
    for (const j of vis) {
      const p = Math.exp(s[j] - m) / z;
      for (let e = 0; e < Dh; e++) out[((b * T + i) * H + h) * Dh + e] += p * v[((b * T + j) * Hkv + kv) * Dh + e];
    }
  }
  return out;
}

test('rowsAttention with grouped-query heads: value and gradients of q, k, v equal float64 and finite differences', async () => {
  if (!shipped) return;
  await initBackend('wasm');
  const B = 2, T = 53, H = 4, Hkv = 2, Dh = 4; // T > one row block; two query heads per key/value head
  const q = randArray(B * T * H * Dh, 31, 2), k = randArray(B * T * Hkv * Dh, 32, 2), v = randArray(B * T * Hkv * Dh, 33);
  const c = randArray(B * T * H * Dh, 34);
  const mask = Array.from({ length: B * T }, (_, i) => (i >= T && i % T < 2) || i % T === 40 ? 0 : 1);
  const tq = f32(q, [B, T, H * Dh]), tk = f32(k, [B, T, Hkv * Dh]), tv = f32(v, [B, T, Hkv * Dh]), tc = f32(c, [B, T, H * Dh]);
  const tm = tf.tensor2d(mask, [B, T]);
  const run = (a: tf.Tensor, b: tf.Tensor, d: tf.Tensor) => fused.rowsAttention([a, b, d] as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D], H, Hkv, Dh, tm);
  assertClose(await run(tq, tk, tv).data(), attention64(q, k, v, mask, B, T, H, Hkv, Dh), 1e-5, 'output');
  const [dq, dk, dv] = tf.grads((a: tf.Tensor, b: tf.Tensor, d: tf.Tensor) => tf.sum(tf.mul(run(a, b, d), tc)))([tq, tk, tv]);
  const loss = (qq: Float64Array, kk: Float64Array, vv: Float64Array) => attention64(qq, kk, vv, mask, B, T, H, Hkv, Dh).reduce((s, o, i) => s + o * c[i], 0);
  // Finite differences on the rows of the last sequence (every head, every key/value head, the masked key included).
  const from = (B - 1) * T;
  const part = (x: Float64Array, width: number, f: (y: Float64Array) => number) =>
    numericGrad((tail) => { const y = Float64Array.from(x); y.set(tail, from * width); return f(y); }, x.slice(from * width), 1e-5);
  assertClose((await dq.data()).slice(from * H * Dh), part(q, H * Dh, (y) => loss(y, k, v)), 1e-4, 'dq');
  assertClose((await dk.data()).slice(from * Hkv * Dh), part(k, Hkv * Dh, (y) => loss(q, y, v)), 1e-4, 'dk');
  assertClose((await dv.data()).slice(from * Hkv * Dh), part(v, Hkv * Dh, (y) => loss(q, k, y)), 1e-4, 'dv');
  tf.dispose([tq, tk, tv, tc, tm, dq, dk, dv]);
});
