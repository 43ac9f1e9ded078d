/**
 * Hugging Face model folders as users bring them, on disk: a tokenizer with ids beyond the model's
 * embedding rows is a clear error naming tokenizer.json (not a backend gather error), and `dap logps`
 * on a short-context model keeps room for the completion when the prompt is long (default prompt budget:
 * half of --max-length, as training uses); a chat template that rejects a row names the data file:line,
 * the template's file and the row's roles; a tied model whose checkpoint also stores lm_head.weight is
 * saved with that copy equal to the trained embeddings.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { runCli } from './engine-fixtures';
import { llamaConfigJson, parseConfig } from '../../src/engine/config';
import { loadPretrained, saveModel } from '../../src/engine/checkpoint';
import { createRandomModel } from '../../src/engine/models';
import { byteTokenizerJson } from '../../src/engine/tokenizer';
import { readHeader, writeSafetensors } from '../../src/engine/safetensors';

/** A tiny BF16 Llama folder (GQA, tied embeddings, context 32) with the byte tokenizer plus `extraTokens`, and a chat template. */
async function llamaFolder(extraTokens: string[], chatTemplate?: string): Promise<string> {
  await tf.setBackend('cpu');
  const raw = llamaConfigJson({ vocabSize: 259, maxPositions: 32, hiddenSize: 16, numLayers: 1, numHeads: 4, numKvHeads: 2, intermediateSize: 24, tieWordEmbeddings: true, bosTokenId: 256, eosTokenId: 257 });
  const m = createRandomModel(parseConfig(raw, 'config.json'), 5, 0.3);
  for (const p of m.params.values()) p.dtype = 'BF16';
  const dir = join(mkdtempSync(join(tmpdir(), 'dap-folders-')), 'model');
  await saveModel(m, dir);
  m.dispose();
  const tj = byteTokenizerJson() as { added_tokens: unknown[] };
  extraTokens.forEach((content, i) => tj.added_tokens.push({ id: 259 + i, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tj));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ bos_token: '<|bos|>', eos_token: '<|eos|>', pad_token: '<|pad|>', chat_template: chatTemplate }));
  return dir;
}

test('a token id beyond the model\'s embeddings is an error naming tokenizer.json and the token', async () => {
  const dir = await llamaFolder(['<|tool|>']);
  const { model, tokenizer } = loadPretrained(dir);
  try {
    assert.deepEqual(tokenizer.encode('ab'), [97, 98]);
    assert.throws(() => tokenizer.encode('a <|tool|>'), (e: Error) =>
      e.message.startsWith(join(dir, 'tokenizer.json') + ': token "<|tool|>" has id 259, outside the model\'s vocabulary of 259'));
  } finally {
    model.dispose();
  }
  const data = join(dir, '..', 'rows.jsonl');
  writeFileSync(data, JSON.stringify({ prompt: 'call <|tool|>', completion: 'x' }) + '\n');
  const res = await runCli(['logps', '--model', dir, '--data', data, '--backend', 'cpu']);
  assert.equal(res.code, 1);
  assert.match(res.err, /tokenizer\.json: token "<\|tool\|>" has id 259/);
});

test('dap logps on a 32-token model with a long prompt scores the whole completion by default', async () => {
  const dir = await llamaFolder([]);
  const data = join(dir, '..', 'long.jsonl');
  writeFileSync(data, JSON.stringify({ prompt: 'p'.repeat(200), completion: 'abc' }) + '\n');
  const res = await runCli(['logps', '--model', dir, '--data', data, '--backend', 'cpu']);
  assert.equal(res.code, 0, res.err);
  const got = JSON.parse(res.out.trim()).completion;
  assert.equal(got.tokens, 4); // "abc" + EOS, after a prompt cut to its last 16 tokens
  const explicit = await runCli(['logps', '--model', dir, '--data', data, '--backend', 'cpu', '--max-prompt-length', '16']);
  assert.deepEqual(JSON.parse(explicit.out.trim()).completion, got);
});

test('a chat template that raises names the row (file:line: field), the template file and the roles', async () => {
  const template = "{% for m in messages %}{% if m['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}"
    + "[{{ m['role'] }}]{{ m['content'] }}{{ eos_token }}{% endfor %}{% if add_generation_prompt %}[assistant]{% endif %}";
  const dir = await llamaFolder([], template);
  const data = join(dir, '..', 'chat.jsonl');
  const turn = (role: string, content: string) => [{ role, content }];
  writeFileSync(data, [
    JSON.stringify({ prompt: turn('user', 'hi'), chosen: turn('assistant', 'yo'), rejected: turn('assistant', 'no') }),
    JSON.stringify({ prompt: [...turn('system', 'terse'), ...turn('user', 'hi')], chosen: turn('assistant', 'yo'), rejected: turn('assistant', 'no') }),
  ].join('\n') + '\n');
  const res = await runCli(['logps', '--model', dir, '--data', data, '--backend', 'cpu', '--batch-size', '1']);
  assert.equal(res.code, 1);
  assert.equal(res.out.trim().split('\n').length, 1); // the first row was scored
  assert.match(res.err, new RegExp(`chat\\.jsonl:2: chosen: .*tokenizer_config\\.json: chat_template: the chat template failed on a conversation with roles \\[system, user\\]: System role not supported`));
});

test('a tied model saved with a stored lm_head.weight copy writes the trained embeddings into that copy', async () => {
  const dir = await llamaFolder([]);
  // Add lm_head.weight = the embeddings, as some tied checkpoints store it.
  const file = join(dir, 'model.safetensors');
  const h = readHeader(file);
  const buf = readFileSync(file);
  const tensor = (k: string) => { const i = h.tensors.get(k)!; return { name: k, dtype: i.dtype, shape: i.shape, bytes: buf.subarray(h.dataStart + i.dataOffsets[0], h.dataStart + i.dataOffsets[1]) }; };
  writeSafetensors(file, [...[...h.tensors.keys()].map(tensor), { ...tensor('model.embed_tokens.weight'), name: 'lm_head.weight' }]);
  const { model } = loadPretrained(dir);
  const emb = model.params.get('model.embed_tokens.weight')!;
  const moved = tf.add(emb.variable, 0.5);
  emb.variable.assign(moved); // stands for training
  moved.dispose();
  const out = join(dir, '..', 'trained');
  await saveModel(model, out);
  model.dispose();
  const o = readHeader(join(out, 'model.safetensors'));
  const ob = readFileSync(join(out, 'model.safetensors'));
  const bytesOf = (k: string) => { const i = o.tensors.get(k)!; assert.equal(i.dtype, 'BF16'); return ob.subarray(o.dataStart + i.dataOffsets[0], o.dataStart + i.dataOffsets[1]); };
  assert.ok(!bytesOf('model.embed_tokens.weight').equals(tensor('model.embed_tokens.weight').bytes)); // it was trained
  assert.ok(bytesOf('lm_head.weight').equals(bytesOf('model.embed_tokens.weight')));
});
