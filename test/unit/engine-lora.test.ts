/**
 * LoRA: adapters start with B = 0 (model output unchanged), only adapters are trainable, the adapted model
 * equals the float64 reference run on merged weights W + (α/r)·B·A read back from the saved PEFT file,
 * and adapter files use PEFT's key names, shapes and adapter_config.json fields and load back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { gpt2ConfigJson, llamaConfigJson, parseConfig } from '../../src/engine/config';
import { enableLora, loadLoraAdapter, mergeLora, saveLoraAdapter } from '../../src/engine/lora';
import { decodeFloats, readHeader, readTensorBytes } from '../../src/engine/safetensors';
import { rng, gpt2Reference, llamaReference } from './engine-reference';
import { hfWeights, randomModel } from './engine-fixtures';

const GPT2 = parseConfig(gpt2ConfigJson({ vocabSize: 31, maxPositions: 16, hiddenSize: 16, numLayers: 2, numHeads: 4 }), 't');
const LLAMA = parseConfig(llamaConfigJson({ vocabSize: 27, maxPositions: 16, hiddenSize: 16, numLayers: 2, numHeads: 4, numKvHeads: 2, intermediateSize: 24, ropeTheta: 2000 }), 't');
const ids = [2, 7, 1, 8, 2, 8];

for (const [config, targets, expectKeys] of [
  [GPT2, ['c_attn', 'c_proj'], ['base_model.model.transformer.h.0.attn.c_attn', 'base_model.model.transformer.h.1.mlp.c_proj']],
  [LLAMA, ['q_proj', 'v_proj', 'down_proj'], ['base_model.model.model.layers.0.self_attn.q_proj', 'base_model.model.model.layers.1.mlp.down_proj']],
] as const) {
  test(`${config.modelType}: LoRA starts as a no-op, trains only adapters, matches merged weights and saves in PEFT layout`, async () => {
    await tf.setBackend('cpu');
    const m = randomModel(config, 21);
    const x = tf.tensor2d([ids], [1, ids.length], 'int32');
    const mask = tf.ones([1, ids.length]) as tf.Tensor2D;
    const before = await m.forward(x, mask).data();
    const modules = enableLora(m, { r: 2, alpha: 8, targetModules: [...targets], seed: 1 });
    assert.equal(modules.length, config.family === 'gpt2' ? 6 : 6); // gpt2: c_attn + attn.c_proj + mlp.c_proj per layer; llama: q, v, down per layer
    assert.deepEqual(await m.forward(x, mask).data(), before, 'B = 0: output unchanged');
    const trainable = m.trainableVariables();
    assert.equal(trainable.length, 2 * modules.length);
    const { grads, value } = tf.variableGrads(() => tf.sum(tf.mul(m.forward(x, mask), 0.01)) as tf.Scalar, trainable);
    value.dispose();
    const bGrad = grads[[...m.lora.values()][0].b.name];
    assert.ok((await tf.sum(tf.abs(bGrad)).data())[0] > 0, 'B receives a gradient');
    tf.dispose(grads);
    // Give B random values so the adapters matter, then compare with the reference on merged weights.
    const r = rng(5);
    for (const ad of m.lora.values()) ad.b.assign(tf.tensor(Float32Array.from({ length: ad.b.size }, () => 0.3 * r()), ad.b.shape));
    const dir = mkdtempSync(join(tmpdir(), 'dap-lora-'));
    await saveLoraAdapter(m, dir, '/models/base');
    const cfg = JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8'));
    assert.equal(cfg.peft_type, 'LORA');
    assert.equal(cfg.task_type, 'CAUSAL_LM');
    assert.deepEqual([cfg.r, cfg.lora_alpha, cfg.target_modules, cfg.base_model_name_or_path], [2, 8, [...targets], '/models/base']);
    assert.equal(cfg.fan_in_fan_out, config.family === 'gpt2');
    const h = readHeader(join(dir, 'adapter_model.safetensors'));
    assert.deepEqual(h.metadata, { format: 'pt' });
    for (const k of expectKeys) assert.ok(h.tensors.has(`${k}.lora_A.weight`) && h.tensors.has(`${k}.lora_B.weight`), `has ${k}`);
    assert.equal(h.tensors.size, 2 * modules.length);
    // Merged float64 weights from the saved PEFT tensors: ΔW_hf = s·(B·A) (out, in), transposed for GPT-2 Conv1D.
    const w = await hfWeights(m);
    for (const mod of modules) {
      const key = `base_model.model.${m.peftModulePath(mod)}`;
      const A = decodeFloats(readTensorBytes(h, `${key}.lora_A.weight`), 'F32', 'A'); // (r, in)
      const B = decodeFloats(readTensorBytes(h, `${key}.lora_B.weight`), 'F32', 'B'); // (out, r)
      const [rank, inDim] = h.tensors.get(`${key}.lora_A.weight`)!.shape;
      const outDim = h.tensors.get(`${key}.lora_B.weight`)!.shape[0];
      const base = Float64Array.from(w.get(`${mod}.weight`)!);
      for (let o = 0; o < outDim; o++) {
        for (let i = 0; i < inDim; i++) {
          let d = 0;
          for (let k = 0; k < rank; k++) d += B[o * rank + k] * A[k * inDim + i];
          base[config.family === 'gpt2' ? i * outDim + o : o * inDim + i] += (8 / 2) * d;
        }
      }
      w.set(`${mod}.weight`, base);
    }
    const ref = (config.family === 'gpt2' ? gpt2Reference : llamaReference)(config, w, ids, ids.map(() => 1));
    const got = (await m.forward(x, mask).data()) as Float32Array;
    const V = config.vocabSize;
    for (let t = 0; t < ids.length; t++) for (let v = 0; v < V; v++) assert.ok(Math.abs(got[t * V + v] - ref[t][v]) < 1e-4 * (1 + Math.abs(ref[t][v])), `logit ${t},${v}`);
    // Loading the adapter into a fresh copy of the base model reproduces the adapted output.
    const m2 = randomModel(config, 21);
    loadLoraAdapter(m2, dir);
    assert.deepEqual(await m2.forward(x, mask).data(), got);
    m.dispose();
    m2.dispose();
  });
}

test('LoRA target modules that match nothing give a clear error listing the available modules', async () => {
  await tf.setBackend('cpu');
  const m = randomModel(GPT2, 1);
  assert.throws(() => enableLora(m, { r: 4, alpha: 8, targetModules: ['q_proj'] }), /match no linear module.*available: .*c_attn/);
  m.dispose();
});

test('mergeLora folds W + (α/r)·A·B into the weights (float64 check), removes the adapters and keeps the logits', async () => {
  await tf.setBackend('cpu');
  const m = randomModel(LLAMA, 9);
  const modules = enableLora(m, { r: 3, alpha: 6, targetModules: ['q_proj', 'down_proj'], seed: 4 });
  const r = rng(11);
  for (const ad of m.lora.values()) ad.b.assign(tf.tensor(Float32Array.from({ length: ad.b.size }, () => 0.5 * (r() - 0.5)), ad.b.shape));
  // Expected merged weights in float64, from the storage-layout base W (in, out), A (in, r), B (r, out).
  const expected = new Map<string, Float64Array>();
  for (const mod of modules) {
    const W = (await m.params.get(`${mod}.weight`)!.variable.data()) as Float32Array;
    const ad = m.lora.get(mod)!;
    const A = (await ad.a.data()) as Float32Array, B = (await ad.b.data()) as Float32Array;
    const [inDim, rank] = ad.a.shape as [number, number];
    const outDim = ad.b.shape[1] as number;
    const e = Float64Array.from(W);
    for (let i = 0; i < inDim; i++) for (let o = 0; o < outDim; o++) {
      let d = 0;
      for (let k = 0; k < rank; k++) d += A[i * rank + k] * B[k * outDim + o];
      e[i * outDim + o] += (6 / 3) * d;
    }
    expected.set(mod, e);
  }
  const x = tf.tensor2d([ids], [1, ids.length], 'int32');
  const mask = tf.ones([1, ids.length]) as tf.Tensor2D;
  const adapted = (await m.forward(x, mask).data()) as Float32Array;
  const baseCount = m.params.size;
  assert.deepEqual(mergeLora(m), modules);
  assert.equal(m.lora.size, 0);
  assert.equal(m.loraSettings, null);
  assert.equal(m.trainableVariables().length, baseCount, 'all base weights are trainable again');
  for (const [mod, e] of expected) {
    const got = (await m.params.get(`${mod}.weight`)!.variable.data()) as Float32Array;
    e.forEach((v, i) => assert.ok(Math.abs(got[i] - v) < 1e-6 * (1 + Math.abs(v)), `${mod}[${i}]: ${got[i]} vs ${v}`));
  }
  const merged = (await m.forward(x, mask).data()) as Float32Array;
  let maxDiff = 0;
  adapted.forEach((v, i) => { maxDiff = Math.max(maxDiff, Math.abs(v - merged[i])); });
  assert.ok(maxDiff < 1e-5, `merged vs adapted logits differ by ${maxDiff}`);
  assert.ok(expected.size === 4, 'q_proj and down_proj of 2 layers');
  m.dispose();
});
