/**
 * GPT-2 and Llama forward passes and sequence log-probs against the float64 reference of
 * engine-reference.ts (right padding, masks, GQA, rope_theta ≠ 10000, Qwen2 biases, tied/untied heads),
 * gradients against finite differences of the reference, and left-padded positions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { gpt2ConfigJson, llamaConfigJson, parseConfig, type ModelConfig } from '../../src/engine/config';
import { padRows, sequenceLogps, disposeBatch } from '../../src/engine/logps';
import { gpt2Reference, llamaReference, rng, sequenceLogpReference, type Weights } from './engine-reference';
import { hfWeights, randomModel } from './engine-fixtures';
import { ropeInvFreq } from '../../src/engine/llama';

const GPT2 = parseConfig(gpt2ConfigJson({ vocabSize: 37, maxPositions: 16, hiddenSize: 16, numLayers: 2, numHeads: 4 }), 'test');
const LLAMA = parseConfig(llamaConfigJson({ vocabSize: 41, maxPositions: 32, hiddenSize: 32, numLayers: 2, numHeads: 4, numKvHeads: 2, intermediateSize: 48, ropeTheta: 5000, rmsNormEps: 1e-5 }), 'test');
const QWEN2 = parseConfig(llamaConfigJson({ modelType: 'qwen2', vocabSize: 29, maxPositions: 32, hiddenSize: 16, numLayers: 1, numHeads: 4, numKvHeads: 1, intermediateSize: 24, ropeTheta: 1e6, tieWordEmbeddings: true }), 'test');

const refFor = (c: ModelConfig) => (c.family === 'gpt2' ? gpt2Reference : llamaReference);

/** Rows of different lengths (right padding) with prompt/completion splits. */
function sampleRows(V: number): { promptIds: number[]; completionIds: number[]; truncated: boolean }[] {
  const r = rng(7);
  const tok = () => Math.floor(((r() + 1) / 2) * V);
  return [
    { promptIds: [1, 2, 3], completionIds: [4, 5, 6, 7, 8], truncated: false },
    { promptIds: [tok(), tok()], completionIds: [tok()], truncated: false },
    { promptIds: [tok(), tok(), tok(), tok(), tok()], completionIds: [tok(), tok(), tok()], truncated: false },
  ];
}

for (const [label, config] of [['gpt2', GPT2], ['llama (GQA 4/2, rope_theta 5000, untied)', LLAMA], ['qwen2 (q/k/v bias, GQA 4/1, tied)', QWEN2]] as const) {
  test(`${label}: logits and sequence log-probs match the float64 reference with right padding`, async () => {
    await tf.setBackend('cpu');
    const m = randomModel(config, 3);
    const w = await hfWeights(m);
    const rows = sampleRows(config.vocabSize);
    const batch = padRows(rows, 0);
    const logits = m.forward(batch.ids, batch.attentionMask);
    const got = (await logits.data()) as Float32Array;
    const [B, T, V] = logits.shape;
    const lp = sequenceLogps(m, batch);
    const [sum, mean, count] = await Promise.all([lp.sum.data(), lp.mean.data(), lp.count.data()]);
    let maxErr = 0;
    for (let b = 0; b < B; b++) {
      const ids = [...rows[b].promptIds, ...rows[b].completionIds];
      const mask = ids.map(() => 1);
      const ref = refFor(config)(config, w, ids, mask);
      for (let t = 0; t < ids.length; t++) {
        for (let v = 0; v < V; v++) maxErr = Math.max(maxErr, Math.abs(got[(b * T + t) * V + v] - ref[t][v]) / (1 + Math.abs(ref[t][v])));
      }
      const cm = ids.map((_, t) => (t >= rows[b].promptIds.length ? 1 : 0));
      const r = sequenceLogpReference(ref, ids, cm);
      assert.equal(count[b], rows[b].completionIds.length);
      assert.equal(r.count, rows[b].completionIds.length);
      assert.ok(Math.abs(sum[b] - r.sum) < 1e-4 * (1 + Math.abs(r.sum)), `row ${b}: sum ${sum[b]} vs ${r.sum}`);
      assert.ok(Math.abs(mean[b] - r.sum / r.count) < 1e-4 * (1 + Math.abs(r.sum)), `row ${b}: mean`);
    }
    assert.ok(maxErr < 1e-4, `max relative logit error ${maxErr}`);
    tf.dispose([logits, lp.sum, lp.mean, lp.count]);
    disposeBatch(batch);
    m.dispose();
  });
}

test('gradients of summed completion log-probs match finite differences of the float64 reference', async () => {
  await tf.setBackend('cpu');
  for (const config of [GPT2, LLAMA]) {
    const m = randomModel(config, 5);
    const w = await hfWeights(m);
    const rows = sampleRows(config.vocabSize).slice(0, 2);
    const batch = padRows(rows, 0);
    const names = config.family === 'gpt2'
      ? ['h.0.attn.c_attn.weight', 'h.1.mlp.c_fc.bias', 'wpe.weight', 'ln_f.weight']
      : ['model.layers.0.self_attn.k_proj.weight', 'model.layers.1.mlp.down_proj.weight', 'model.norm.weight', 'lm_head.weight'];
    const vars = names.map((n) => m.params.get(n)!.variable);
    const { grads } = tf.variableGrads(() => tf.sum(sequenceLogps(m, batch).sum) as tf.Scalar, vars);
    const refTotal = (wt: Weights) => rows.reduce((acc, r) => {
      const ids = [...r.promptIds, ...r.completionIds];
      const logits = refFor(config)(config, wt, ids, ids.map(() => 1));
      return acc + sequenceLogpReference(logits, ids, ids.map((_, t) => (t >= r.promptIds.length ? 1 : 0))).sum;
    }, 0);
    for (const [i, name] of names.entries()) {
      const p = m.params.get(name)!;
      const g = (await grads[vars[i].name].data()) as Float32Array;
      const hf = p.spec.hfShape;
      for (const k of [0, 7, Math.floor(p.variable.size / 2) + 1]) {
        // storage index k ↔ HF index: transposed weights are stored (in, out) for HF (out, in)
        const hfIndex = p.spec.transposed ? (k % hf[0]) * hf[1] + Math.floor(k / hf[0]) : k;
        const eps = 1e-5;
        const wp = new Map(w), wm = new Map(w);
        const base = w.get(name)!;
        const plus = Float64Array.from(base), minus = Float64Array.from(base);
        plus[hfIndex] += eps;
        minus[hfIndex] -= eps;
        wp.set(name, plus);
        wm.set(name, minus);
        const fd = (refTotal(wp) - refTotal(wm)) / (2 * eps);
        assert.ok(Math.abs(g[k] - fd) < 2e-3 * (1 + Math.abs(fd)), `${config.modelType} ${name}[${k}]: grad ${g[k]} vs finite difference ${fd}`);
      }
    }
    tf.dispose(grads);
    disposeBatch(batch);
    m.dispose();
  }
});

test('left padding with mask-derived positions gives the same logits as the unpadded sequence', async () => {
  await tf.setBackend('cpu');
  for (const config of [GPT2, LLAMA]) {
    const m = randomModel(config, 9);
    const seq = [3, 1, 4, 1, 5];
    const pad = 3;
    const ids = tf.tensor2d([[0, 0, 0, ...seq]], [1, pad + seq.length], 'int32');
    const mask = tf.tensor2d([[0, 0, 0, 1, 1, 1, 1, 1]]);
    const positions = Int32Array.from([0, 0, 0, 0, 1, 2, 3, 4]);
    const r = m.step(ids, mask, positions, null);
    const padded = (await r.logits.data()) as Float32Array;
    const plainIds = tf.tensor2d([seq], [1, seq.length], 'int32');
    const plain = (await m.forward(plainIds, tf.ones([1, seq.length]) as tf.Tensor2D).data()) as Float32Array;
    const V = config.vocabSize;
    for (let i = 0; i < seq.length * V; i++) assert.ok(Math.abs(padded[pad * V + i] - plain[i]) < 1e-4, `${config.modelType}: element ${i}`);
    m.dispose();
  }
});

test('rope_scaling: "linear" equals the reference at positions / factor; "llama3" scales frequencies per regime', async () => {
  await tf.setBackend('cpu');
  const json = llamaConfigJson({ vocabSize: 23, maxPositions: 32, hiddenSize: 16, numLayers: 1, numHeads: 2, numKvHeads: 2, intermediateSize: 24, ropeTheta: 100 });
  const config = parseConfig({ ...json, rope_scaling: { type: 'linear', factor: 4 } }, 't');
  const m = randomModel(config, 13);
  const w = await hfWeights(m);
  const ids = [1, 5, 9, 2, 7, 3];
  const got = (await m.forward(tf.tensor2d([ids], [1, 6], 'int32'), tf.ones([1, 6]) as tf.Tensor2D).data()) as Float32Array;
  const ref = llamaReference(config, w, ids, ids.map(() => 1), ids.map((_, t) => t / 4));
  for (let t = 0; t < 6; t++) for (let v = 0; v < 23; v++) assert.ok(Math.abs(got[t * 23 + v] - ref[t][v]) < 1e-4 * (1 + Math.abs(ref[t][v])));
  m.dispose();
  // llama3, Dh = 8, θ = 10⁴: frequencies 1, 0.1, 0.01, 0.001 (wavelengths 6.3, 63, 628, 6283); L = 1000,
  // low/high factors 1/4 → wavelengths < 250 kept, > 1000 divided by 8, 628 interpolated.
  const inv = ropeInvFreq(8, 10000, { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 1000 });
  const s = (1000 / (2 * Math.PI * 100) - 1) / 3;
  const expected = [1, 0.1, (1 - s) * 0.01 / 8 + s * 0.01, 0.001 / 8];
  expected.forEach((e, i) => assert.ok(Math.abs(inv[i] - e) < 1e-12 * (1 + e), `inv_freq[${i}] ${inv[i]} vs ${e}`));
  assert.throws(() => parseConfig({ ...json, rope_scaling: { type: 'yarn', factor: 2 } }, 'x/config.json'), /x\/config\.json: rope_scaling type "yarn" is not supported/);
});
