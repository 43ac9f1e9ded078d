/**
 * Conversational rows through real chat templates (a tokenizer folder on disk, jinja rendering): when the
 * generation prompt adds text the rendered conversation lacks (DeepSeek-R1/Qwen3-style "<think>\n"), the
 * prompt is cut to the common prefix of both renderings (as TRL does) so the completion keeps the
 * assistant turn's end token; generation prompts keep the full generation prompt. A pair's (and a ranking's)
 * completions share ONE prompt: the prefix common to the rendered prompt and every rendered conversation.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { byteTokenizerJson, loadTokenizer } from '../../src/engine/tokenizer';
import { buildPairBatch, disposeBatch, renderRow, tokenizeRow } from '../../src/engine/logps';
import { layoutOf } from '../../src/train/stage/batching';
import { initBackend } from '../../src/engine/backend';
import { promptIds } from '../../src/train/pipeline/generation';

before(async () => { await initBackend('cpu'); }); // buildPairBatch makes tensors

/** A tokenizer folder: the byte tokenizer (EOS "<|eos|>" = 257) with the given chat template. */
function tokenizerWithTemplate(template: string) {
  const dir = mkdtempSync(join(tmpdir(), 'dap-chat-'));
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(byteTokenizerJson()));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ eos_token: '<|eos|>', pad_token: '<|pad|>', chat_template: template }));
  return loadTokenizer(dir, { model_type: 'llama' });
}

const bytes = (s: string) => Array.from(new TextEncoder().encode(s));
const user = [{ role: 'user', content: 'hi' }];
const answer = [{ role: 'assistant', content: 'yo' }];

test('a generation prompt the conversation lacks ("<think>\\n") is cut: the completion keeps its end token', () => {
  const tok = tokenizerWithTemplate(
    "{% for m in messages %}[{{ m.role }}]{{ m.content }}{{ eos_token }}{% endfor %}{% if add_generation_prompt %}[assistant]<think>\n{% endif %}");
  assert.equal(tok.applyChatTemplate!(user, true), '[user]hi<|eos|>[assistant]<think>\n');
  const r = renderRow(tok, { prompt: user, completion: answer });
  assert.deepEqual(r, { promptText: '[user]hi<|eos|>[assistant]', completionText: 'yo<|eos|>', appendEos: false });
  const ids = tokenizeRow(tok, { prompt: user, completion: answer });
  assert.deepEqual(ids.completionIds, [...bytes('yo'), 257]);
  assert.deepEqual(ids.promptIds, [...bytes('[user]hi'), 257, ...bytes('[assistant]')]);
  // Generation continues the prompt with the full generation prompt.
  assert.deepEqual(promptIds(tok, user, 100), [...bytes('[user]hi'), 257, ...bytes('[assistant]<think>\n')]);
});

test('a template whose generation prompt is a prefix of the conversation splits exactly there', () => {
  const tok = tokenizerWithTemplate(
    "{% for m in messages %}<{{ m.role }}>\n{{ m.content }}{{ eos_token }}\n{% endfor %}{% if add_generation_prompt %}<assistant>\n{% endif %}");
  const r = renderRow(tok, { prompt: user, completion: answer });
  assert.deepEqual(r, { promptText: '<user>\nhi<|eos|>\n<assistant>\n', completionText: 'yo<|eos|>\n', appendEos: false });
  assert.deepEqual(promptIds(tok, user, 100), [...bytes('<user>\nhi'), 257, ...bytes('\n<assistant>\n')]);
});

test('a pair gets ONE prompt when the generation prompt adds text: the prefix shared by the prompt and both conversations', () => {
  const tok = tokenizerWithTemplate(
    "{% for m in messages %}[{{ m.role }}]{{ m.content }}{{ eos_token }}{% endfor %}{% if add_generation_prompt %}[assistant]<think>\n{% endif %}");
  // The chosen answer starts with the text the generation prompt adds, the rejected one does not.
  const chosen = [{ role: 'assistant', content: '<think>\nhmm</think>yes' }];
  const rejected = [{ role: 'assistant', content: 'no' }];
  // Cut per completion (the old behaviour), the two would be scored after different prompts:
  assert.equal(renderRow(tok, { prompt: user, completion: chosen }).promptText, '[user]hi<|eos|>[assistant]<think>\n');
  assert.equal(renderRow(tok, { prompt: user, completion: rejected }).promptText, '[user]hi<|eos|>[assistant]');
  const rowCompletions = [chosen, rejected];
  const c = renderRow(tok, { prompt: user, completion: chosen, rowCompletions });
  const r = renderRow(tok, { prompt: user, completion: rejected, rowCompletions });
  assert.equal(c.promptText, '[user]hi<|eos|>[assistant]');
  assert.equal(r.promptText, c.promptText);
  assert.equal(c.completionText, '<think>\nhmm</think>yes<|eos|>');
  assert.equal(r.completionText, 'no<|eos|>');
  // What the trainer scores (its pair layout) and `dap logps` (buildPairBatch) tokenise the same way.
  const batch = buildPairBatch(tok, [{ prompt: user, chosen, rejected }]);
  assert.deepEqual(batch.rows[0].promptIds, batch.rows[1].promptIds);
  assert.deepEqual(batch.rows[0].completionIds, [...bytes('<think>\nhmm</think>yes'), 257]);
  disposeBatch(batch);
  const layout = layoutOf('pairs', [{ prompt: user, chosen, rejected }], [0], 'mismatched');
  const [a, b] = layout.sequences.map((s) => tokenizeRow(tok, s));
  assert.deepEqual(a.promptIds, b.promptIds);
  assert.deepEqual(a.promptIds, [...bytes('[user]hi'), 257, ...bytes('[assistant]')]);
  // A ranking's responses share one prompt too.
  const ranked = layoutOf('rankings', [{ prompt: user, responses: ['no', '<think>\nhmm</think>yes', '<think>\nok'], ranks: [1, 0, 2] }], [0], 'mismatched');
  const prompts = ranked.sequences.map((s) => renderRow(tok, s).promptText);
  assert.deepEqual(prompts, Array(3).fill('[user]hi<|eos|>[assistant]'));
});
