/**
 * Generation: KV-cache greedy decoding equals greedy decoding that recomputes the whole sequence each
 * step; batched left-padded generation equals per-prompt generation; seeded sampling is reproducible;
 * EOS stops a row; temperature/top-p sampling follows the softmax distribution (float64 reference).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { gpt2ConfigJson, llamaConfigJson, parseConfig } from '../../src/engine/config';
import { generate, sampleToken } from '../../src/engine/generate';
import { mulberry32 } from '../../src/core/random';
import { ByteTokenizer } from '../../src/engine/tokenizer';
import type { TransformerLM } from '../../src/engine/transformer';
import type { EngineTokenizer } from '../../src/engine/types';
import { randomModel } from './engine-fixtures';

const GPT2 = parseConfig(gpt2ConfigJson({ vocabSize: 259, maxPositions: 32, hiddenSize: 16, numLayers: 2, numHeads: 2 }), 't');
const LLAMA = parseConfig(llamaConfigJson({ vocabSize: 259, maxPositions: 32, hiddenSize: 16, numLayers: 2, numHeads: 4, numKvHeads: 2, intermediateSize: 24, ropeTheta: 300 }), 't');
/** A tokenizer whose EOS no random model will produce first: no early stop in the greedy comparisons. */
const tok: EngineTokenizer = { ...new ByteTokenizer(), encode: (s) => new ByteTokenizer().encode(s), decode: (ids) => new ByteTokenizer().decode(ids), eosId: -1, padId: 258, vocabSize: 259 };

/** Greedy decoding by full recomputation: forward the whole sequence, take the last row's argmax. */
async function greedyRecompute(m: TransformerLM, prompt: number[], n: number): Promise<number[]> {
  const seq = [...prompt];
  for (let i = 0; i < n; i++) {
    const ids = tf.tensor2d([seq], [1, seq.length], 'int32');
    const logits = m.forward(ids, tf.ones([1, seq.length]) as tf.Tensor2D);
    const data = (await logits.data()) as Float32Array;
    const V = logits.shape[2];
    const last = data.subarray((seq.length - 1) * V);
    let best = 0;
    for (let v = 1; v < V; v++) if (last[v] > last[best]) best = v;
    seq.push(best);
    tf.dispose([ids, logits]);
  }
  return seq.slice(prompt.length);
}

for (const config of [GPT2, LLAMA]) {
  test(`${config.modelType}: KV-cache greedy generation equals full recomputation, batched with left padding too`, async () => {
    await tf.setBackend('cpu');
    const m = randomModel(config, 31);
    const prompts = [[72, 105, 33], [5, 6, 7, 8, 9, 10], [200]];
    const expected: number[][] = [];
    for (const p of prompts) expected.push(await greedyRecompute(m, p, 10));
    for (const [i, p] of prompts.entries()) assert.deepEqual(await generate(m, tok, p, { maxNewTokens: 10 }), [expected[i]], `prompt ${i} alone`);
    const before = tf.memory().numTensors;
    assert.deepEqual(await generate(m, tok, prompts, { maxNewTokens: 10 }), expected, 'batched');
    assert.equal(tf.memory().numTensors, before, 'no tensor leaked');
    m.dispose();
  });
}

test('seeded sampling is reproducible; EOS stops a row; the context length caps generation', async () => {
  await tf.setBackend('cpu');
  const m = randomModel(GPT2, 32);
  const opts = { maxNewTokens: 12, temperature: 1.5, topP: 0.95, seed: 7 };
  const a = await generate(m, tok, [1, 2, 3], opts);
  assert.deepEqual(await generate(m, tok, [1, 2, 3], opts), a);
  assert.notDeepEqual(await generate(m, tok, [1, 2, 3], { ...opts, seed: 8 }), a);
  const first = (await generate(m, tok, [1, 2, 3], { maxNewTokens: 3 }))[0];
  const eosTok = { ...tok, eosId: first[1] };
  assert.deepEqual(await generate(m, eosTok, [1, 2, 3], { maxNewTokens: 3 }), [[first[0]]]);
  assert.deepEqual(await generate(m, eosTok, [1, 2, 3], { maxNewTokens: 3, stopOnEos: false }), [first]);
  assert.equal((await generate(m, tok, Array(30).fill(1), { maxNewTokens: 10 }))[0].length, 2);
  m.dispose();
});

test('sampleToken follows softmax(logits / T) restricted to the top-p nucleus', () => {
  const logits = [0, Math.log(3), Math.log(6), -50]; // probabilities 0.1, 0.3, 0.6, ~0
  assert.equal(sampleToken(logits, 0, 1, mulberry32(1)), 2);
  assert.equal(sampleToken(logits, 1, 0.5, mulberry32(1)), 2); // nucleus {2}
  const n = 6000;
  const count = [0, 0, 0, 0];
  const rand = mulberry32(3);
  for (let i = 0; i < n; i++) count[sampleToken(logits, 1, 1, rand)]++;
  [0.1, 0.3, 0.6, 0].forEach((p, i) => assert.ok(Math.abs(count[i] / n - p) < 0.025, `token ${i}: ${count[i] / n} vs ${p}`));
  const top = [0, 0, 0, 0];
  for (let i = 0; i < n; i++) top[sampleToken(logits, 1, 0.8, rand)]++; // nucleus {2, 1}: 0.6/0.9, 0.3/0.9
  assert.equal(top[0], 0);
  assert.ok(Math.abs(top[2] / n - 2 / 3) < 0.025);
  const hot = [0, 0, 0, 0]; // T = 2: probabilities ∝ sqrt(1, 3, 6)
  for (let i = 0; i < n; i++) hot[sampleToken(logits, 2, 1, rand)]++;
  const z = 1 + Math.sqrt(3) + Math.sqrt(6);
  assert.ok(Math.abs(hot[1] / n - Math.sqrt(3) / z) < 0.025);
});
