/**
 * Checkpoint IO: safetensors headers written by hand are valid (sorted, contiguous, 8-byte aligned);
 * save → load round trips are bit-exact for F32 and, after one quantisation, for F16/BF16; F16/BF16
 * rounding is round-to-nearest-even against float64 references; "transformer."-prefixed and bare GPT-2
 * keys; sharded indexes; clear errors for pickles, missing files, shape mismatches, unknown model types.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { gpt2ConfigJson, llamaConfigJson, parseConfig } from '../../src/engine/config';
import { createRandomModel, paramToHf } from '../../src/engine/models';
import { loadModelWeights, loadPretrained, saveModel } from '../../src/engine/checkpoint';
import { createBuiltinModel } from '../../src/engine/builtin';
import { ByteTokenizer } from '../../src/engine/tokenizer';
import {
  encodeFloats, decodeFloats, readHeader, writeSafetensors, floatToF16Bits, f32BitsToBf16Bits, quantize, type FloatDtype,
} from '../../src/engine/safetensors';
import type { TransformerLM } from '../../src/engine/transformer';

const tmp = () => mkdtempSync(join(tmpdir(), 'dap-ckpt-'));
const GPT2_JSON = gpt2ConfigJson({ vocabSize: 23, maxPositions: 8, hiddenSize: 8, numLayers: 2, numHeads: 2 });
const LLAMA_JSON = llamaConfigJson({ vocabSize: 19, maxPositions: 16, hiddenSize: 8, numLayers: 1, numHeads: 2, numKvHeads: 1, intermediateSize: 12, ropeTheta: 500 });

async function weightsOf(m: TransformerLM): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const p of m.params.values()) out.set(p.spec.name, await paramToHf(p));
  return out;
}

/** Writes a model folder by hand (independent of saveModel): config.json + one safetensors file. */
async function writeFolder(dir: string, configJson: Record<string, unknown>, m: TransformerLM, prefix: string, dtype: FloatDtype = 'F32'): Promise<void> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(configJson));
  const w = await weightsOf(m);
  writeSafetensors(join(dir, 'model.safetensors'), [...m.params.values()].map((p) => ({
    name: (p.spec.name.startsWith('lm_head') ? '' : prefix) + p.spec.name, dtype, shape: p.spec.hfShape, bytes: encodeFloats(w.get(p.spec.name)!, dtype),
  })));
}

test('F16 and BF16 encoding rounds to nearest even (float64 reference) and round-trips exactly after one quantisation', () => {
  // F16 spacing at 1 is 2^-10: 1 + 2^-11 is a tie → rounds to even (1); 1 + 3·2^-11 → 1 + 2^-9.
  assert.equal(floatToF16Bits(1 + 2 ** -11), 0x3c00);
  assert.equal(floatToF16Bits(1 + 3 * 2 ** -11), 0x3c02);
  assert.equal(floatToF16Bits(65520), 0x7c00); // overflow → +Inf
  assert.equal(floatToF16Bits(2 ** -24), 0x0001); // smallest subnormal
  assert.equal(floatToF16Bits(-2), 0xc000);
  // BF16 keeps the top 16 bits of float32: 1 + 2^-8 is a tie → even (1.0 = 0x3f80); 1 + 3·2^-8 → 0x3f82.
  const bits = (x: number) => new Uint32Array(new Float32Array([x]).buffer)[0];
  assert.equal(f32BitsToBf16Bits(bits(1 + 2 ** -8)), 0x3f80);
  assert.equal(f32BitsToBf16Bits(bits(1 + 3 * 2 ** -8)), 0x3f82);
  const values = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i * 1.7) * 10 ** ((i % 9) - 4));
  for (const dt of ['F16', 'BF16'] as const) {
    const q = quantize(values, dt);
    // nearest representable: no other candidate value is closer (float64 check of the two neighbours)
    for (let i = 0; i < values.length; i++) {
      const rel = Math.abs(q[i] - values[i]) / Math.abs(values[i] || 1);
      assert.ok(rel <= (dt === 'F16' ? 2 ** -11 : 2 ** -8) || Math.abs(values[i]) < 6.2e-5, `${dt} value ${values[i]} → ${q[i]}`);
    }
    assert.deepEqual(decodeFloats(encodeFloats(q, dt), dt, 't'), q);
  }
});

test('a written safetensors header is valid: sorted names, contiguous offsets, 8-byte aligned, format pt', () => {
  const dir = tmp();
  const path = join(dir, 'x.safetensors');
  writeSafetensors(path, [
    { name: 'b', dtype: 'F32', shape: [2, 3], bytes: encodeFloats(new Float32Array(6).fill(1), 'F32') },
    { name: 'a', dtype: 'F16', shape: [3], bytes: encodeFloats(new Float32Array([1, 2, 3]), 'F16') },
    { name: 'c', dtype: 'BF16', shape: [1], bytes: encodeFloats(new Float32Array([5]), 'BF16') },
  ]);
  const buf = readFileSync(path);
  const n = Number(buf.readBigUInt64LE(0));
  assert.equal(n % 8, 0);
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  assert.deepEqual(header.__metadata__, { format: 'pt' });
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  assert.deepEqual(names, ['a', 'b', 'c']);
  let expectedStart = 0;
  for (const k of names) {
    const [s, e] = header[k].data_offsets;
    assert.equal(s, expectedStart);
    expectedStart = e;
  }
  assert.equal(8 + n + expectedStart, buf.length);
  assert.deepEqual(Array.from(decodeFloats(buf.subarray(8 + n, 8 + n + 6), 'F16', 't')), [1, 2, 3]);
  assert.equal(readHeader(path).tensors.get('c')!.dtype, 'BF16');
});

for (const dtype of ['F32', 'F16', 'BF16'] as const) {
  test(`GPT-2 (prefixed keys) and Llama save → load round-trip bit-exactly in ${dtype}`, async () => {
    await tf.setBackend('cpu');
    for (const [json, prefix] of [[GPT2_JSON, 'transformer.'], [GPT2_JSON, ''], [LLAMA_JSON, '']] as const) {
      const src = join(tmp(), 'src');
      const m0 = createRandomModel(parseConfig(json, 't'), 11, 0.5);
      await writeFolder(src, json, m0, prefix, dtype);
      const m1 = loadModelWeights(src);
      assert.equal(m1.keyPrefix, prefix);
      const w0 = await weightsOf(m0), w1 = await weightsOf(m1);
      for (const [k, v] of w0) assert.deepEqual(w1.get(k), quantize(v, dtype), `${k} after load`);
      const out = join(tmp(), 'out');
      await saveModel(m1, out);
      const h0 = readHeader(join(src, 'model.safetensors')), h1 = readHeader(join(out, 'model.safetensors'));
      assert.deepEqual([...h1.tensors.keys()].sort(), [...h0.tensors.keys()].sort());
      for (const [k, info] of h0.tensors) assert.equal(h1.tensors.get(k)!.dtype, info.dtype, k);
      assert.deepEqual(readFileSync(join(out, 'model.safetensors')).subarray(8 + 0), readFileSync(join(src, 'model.safetensors')).subarray(8 + 0));
      const m2 = loadModelWeights(out);
      const w2 = await weightsOf(m2);
      for (const [k, v] of w1) assert.deepEqual(w2.get(k), v, `${k} after second load`);
      [m0, m1, m2].forEach((m) => m.dispose());
    }
  });
}

test('the built-in model round-trips with its byte tokenizer, and saving into the source folder is refused', async () => {
  await tf.setBackend('cpu');
  const m = createBuiltinModel(3, { numLayers: 1, hiddenSize: 16, numHeads: 2, maxPositions: 16 });
  const dir = join(tmp(), 'builtin');
  await saveModel(m, dir);
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  assert.equal(cfg.model_type, 'gpt2');
  assert.equal(cfg.dap_tokenizer, 'bytes');
  assert.ok(existsSync(join(dir, 'tokenizer.json')));
  const { model, tokenizer } = loadPretrained(dir);
  assert.ok(tokenizer instanceof ByteTokenizer);
  const ids = tf.tensor2d([[72, 105, 256]], [1, 3], 'int32');
  const mask = tf.ones([1, 3]) as tf.Tensor2D;
  assert.deepEqual(await model.forward(ids, mask).data(), await m.forward(ids, mask).data());
  await assert.rejects(saveModel(model, dir), /refusing to overwrite/);
  m.dispose();
  model.dispose();
});

test('a sharded checkpoint (model.safetensors.index.json) loads and saves back with the same shards', async () => {
  await tf.setBackend('cpu');
  const m0 = createRandomModel(parseConfig(LLAMA_JSON, 't'), 4);
  const dir = join(tmp(), 'sharded');
  mkdirSync(dir);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(LLAMA_JSON));
  const w = await weightsOf(m0);
  const names = [...w.keys()].sort();
  const shards = [names.slice(0, 4), names.slice(4)];
  const weightMap: Record<string, string> = {};
  shards.forEach((ns, i) => {
    const f = `model-0000${i + 1}-of-00002.safetensors`;
    writeSafetensors(join(dir, f), ns.map((n) => ({ name: n, dtype: 'F32', shape: m0.params.get(n)!.spec.hfShape, bytes: encodeFloats(w.get(n)!, 'F32') })));
    for (const n of ns) weightMap[n] = f;
  });
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }));
  const m1 = loadModelWeights(dir);
  const w1 = await weightsOf(m1);
  for (const [k, v] of w) assert.deepEqual(w1.get(k), v, k);
  const out = join(tmp(), 'out');
  await saveModel(m1, out);
  const index = JSON.parse(readFileSync(join(out, 'model.safetensors.index.json'), 'utf8'));
  assert.deepEqual(index.weight_map, weightMap);
  assert.ok(index.metadata.total_size > 0);
  const w2 = await weightsOf(loadModelWeights(out));
  for (const [k, v] of w) assert.deepEqual(w2.get(k), v, k);
  m0.dispose();
  m1.dispose();
});

test('pickle checkpoints are refused without being opened; missing files, bad shapes and unknown types name the path', async () => {
  await tf.setBackend('cpu');
  const dir = tmp();
  assert.throws(() => loadModelWeights(dir), (e: Error) => e.message.includes(join(dir, 'config.json')) && /missing file/.test(e.message));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(GPT2_JSON));
  assert.throws(() => loadModelWeights(dir), (e: Error) => e.message.includes(join(dir, 'model.safetensors')) && /missing file/.test(e.message));
  // Not a real pickle: content that would crash any unpickler — the loader must refuse before reading it.
  writeFileSync(join(dir, 'pytorch_model.bin'), 'not a pickle');
  assert.throws(() => loadModelWeights(dir), (e: Error) => e.message.includes(join(dir, 'pytorch_model.bin')) && /refusing to load a pickle/.test(e.message));
  // Wrong shape vs config
  const m = createRandomModel(parseConfig(gpt2ConfigJson({ vocabSize: 23, maxPositions: 8, hiddenSize: 8, numLayers: 2, numHeads: 2 }), 't'), 1);
  const bad = join(tmp(), 'bad');
  await writeFolder(bad, { ...GPT2_JSON, n_positions: 9 }, m, '');
  assert.throws(() => loadModelWeights(bad), (e: Error) => e.message.includes(join(bad, 'model.safetensors')) && /wpe\.weight" has shape \[8,8\] but config\.json implies \[9,8\]/.test(e.message));
  const unk = join(tmp(), 'unk');
  mkdirSync(unk);
  writeFileSync(join(unk, 'config.json'), JSON.stringify({ model_type: 'bert' }));
  assert.throws(() => loadModelWeights(unk), (e: Error) => e.message.includes(join(unk, 'config.json')) && /unsupported model_type "bert"/.test(e.message));
  // tokenizer.json missing for a non-builtin model
  const notok = join(tmp(), 'notok');
  await writeFolder(notok, GPT2_JSON, m, '');
  assert.throws(() => loadPretrained(notok), (e: Error) => e.message.includes(join(notok, 'tokenizer.json')));
  m.dispose();
});
