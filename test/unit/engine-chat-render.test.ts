/**
 * Conversational rows through real chat templates (a tokenizer folder on disk, jinja rendering): when the
 * generation prompt adds text the rendered conversation lacks (DeepSeek-R1/Qwen3-style "<think>\n"), the
 * prompt is cut to the common prefix of both renderings (as TRL does) so the completion keeps the
 * assistant turn's end token; generation prompts keep the full generation prompt.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { byteTokenizerJson, loadTokenizer } from '../../src/engine/tokenizer';
import { renderRow, tokenizeRow } from '../../src/engine/logps';
import { promptIds } from '../../src/train/pipeline/generation';

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
