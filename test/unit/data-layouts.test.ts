/**
 * Public preference-dataset layouts read the same way by every command (issue 13): UltraFeedback-binarized
 * rows (a string prompt beside full conversations, scores, messages) through validate, stats, the task reader
 * the annotator uses, export, the trainer's reader, logps and review; unpaired KTO and SFT rows through
 * validate and stats (as dap train reads them), with bad rows named file:line: field: problem.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/engine/backend';
import { readTasks } from '../../src/core/tasks';
import { readLabelledFile } from '../../src/train/data/labelledFiles';
import { runCli } from './engine-fixtures';

const dir = mkdtempSync(join(tmpdir(), 'dap-layouts-'));
const jsonl = (name: string, rows: unknown[]) => {
  const p = join(dir, name);
  writeFileSync(p, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return p;
};
before(async () => { await initBackend('wasm'); });

const user = (c: string) => ({ role: 'user', content: c });
const assistant = (c: string) => ({ role: 'assistant', content: c });
/** Two rows as HuggingFaceH4/ultrafeedback_binarized publishes them. */
const ultra = [
  { prompt: 'What is 2+2?', prompt_id: 'p1', chosen: [user('What is 2+2?'), assistant('4')], rejected: [user('What is 2+2?'), assistant('5')],
    messages: [user('What is 2+2?'), assistant('4')], score_chosen: 8.5, score_rejected: 3 },
  { prompt: 'Name a colour.', prompt_id: 'p2', chosen: [user('Name a colour.'), assistant('Blue.')], rejected: [user('Name a colour.'), assistant('Seven.')],
    messages: [user('Name a colour.'), assistant('Blue.')], score_chosen: 7, score_rejected: 2.5 },
];

test('UltraFeedback-binarized: conversational with an implicit prompt (TRL), scores kept on the responses', async () => {
  const file = jsonl('ultra.jsonl', ultra);
  const { items, issues } = await readTasks(file);
  assert.deepEqual(issues, []);
  assert.equal(items.length, 2);
  assert.equal(items[0].format, 'trl_pair_implicit');
  assert.deepEqual(items[0].prompt, [user('What is 2+2?')]);
  assert.deepEqual(items[0].responses, [{ text: '4', score: 8.5 }, { text: '5', score: 3 }]);
  assert.deepEqual(items[0].sourcePreference, [[0], [1]]);
  assert.deepEqual(items[0].meta, { prompt_id: 'p1', messages: ultra[0].messages }, 'other columns kept as metadata');

  const v = await runCli(['validate', file]);
  assert.equal(v.code, 0, v.out + v.err);
  assert.match(v.out, /2 valid items; 0 errors, 0 warnings/);
  const s = await runCli(['stats', file, '--json']);
  assert.equal(s.code, 0, s.err);
  assert.equal(JSON.parse(s.out).items, 2);

  // dap train's reader: the pairs TRL's DPOTrainer would build (prompt = the shared user turn)
  const read = await readLabelledFile(file, 'all_pairs');
  assert.ok('data' in read);
  assert.deepEqual(read.data.pairs.map((p) => [p.prompt, p.chosen, p.rejected]), [
    [[user('What is 2+2?')], [assistant('4')], [assistant('5')]],
    [[user('Name a colour.')], [assistant('Blue.')], [assistant('Seven.')]],
  ]);

  // dap export with an annotation log (an annotator overturns row 2)
  const log = join(dir, 'ultra.annotations.jsonl');
  writeFileSync(log, [
    { v: 1, item: items[0].id, annotator: 'a', ts: '2026-01-01T00:00:00Z', kind: 'pair', shown: [0, 1], choice: 'a' },
    { v: 1, item: items[1].id, annotator: 'a', ts: '2026-01-01T00:00:01Z', kind: 'pair', shown: [0, 1], choice: 'b' },
  ].map((e) => JSON.stringify(e)).join('\n') + '\n');
  const ex = await runCli(['export', file, '--format', 'trl']);
  assert.equal(ex.code, 0, ex.err);
  const rows = ex.out.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(rows.map((r) => [r.prompt, r.chosen, r.rejected]), [
    [[user('What is 2+2?')], [assistant('4')], [assistant('5')]],
    [[user('Name a colour.')], [assistant('Seven.')], [assistant('Blue.')]],
  ]);

  // dap logps: one row per pair, chosen and rejected scored under the extracted prompt
  const lp = await runCli(['logps', '--model', 'builtin', '--data', file, '--backend', 'wasm']);
  assert.equal(lp.code, 0, lp.err);
  const scored = lp.out.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(scored.length, 2);
  assert.ok(scored.every((r) => Number.isFinite(r.chosen.sum) && r.chosen.tokens > 0 && r.rejected.tokens > 0));

  // dap review: the rows are their own labels
  const rv = await runCli(['review', file, '--json']);
  assert.equal(rv.code, 0, rv.err);
});

test('a pair with a string prompt and malformed conversations or scores names the field', async () => {
  const file = jsonl('ultra-bad.jsonl', [
    { prompt: 'Q', chosen: [user('Q'), assistant('A')], rejected: 'B' },
    { ...ultra[0], score_chosen: 'high' },
  ]);
  const v = await runCli(['validate', file]);
  assert.equal(v.code, 1);
  assert.match(v.out, /ultra-bad\.jsonl:1: rejected: expected a list of messages, got string/);
  assert.match(v.out, /ultra-bad\.jsonl:2: score_chosen: expected a finite number, got string/);
});

test('unpaired KTO rows and SFT rows: validate and stats accept what dap train reads; bad rows named', async () => {
  const kto = jsonl('kto.jsonl', [
    { prompt: 'Q1', completion: 'good', label: true },
    { prompt: 'Q1', completion: 'bad', label: false },
    { prompt: [user('Q2')], completion: [assistant('fine')], label: true },
  ]);
  const v = await runCli(['validate', kto]);
  assert.equal(v.code, 0, v.out + v.err);
  assert.match(v.out, /3 valid KTO rows \(2 desirable, 1 undesirable\) over 2 prompts; 0 errors/);
  const s = await runCli(['stats', kto, '--json']);
  assert.equal(s.code, 0, s.err);
  assert.deepEqual(JSON.parse(s.out), { tasks: kto, kind: 'unpaired', rows: 3, prompts: 2, desirable: 2, undesirable: 1, issues: { errors: 0, warnings: 0 } });
  const text = await runCli(['stats', kto]);
  assert.match(text.out, /KTO rows: 3 over 2 prompts: 2 desirable \(label true\), 1 undesirable/);
  const read = await readLabelledFile(kto, 'all_pairs');
  assert.ok('data' in read && read.data.kind === 'unpaired' && read.data.kto.length === 3, 'dap train reads the same rows');

  const sft = jsonl('sft.jsonl', [{ prompt: 'Q', completion: 'A' }, { prompt: 'Q2', completion: 'B' }]);
  const vs = await runCli(['validate', sft]);
  assert.equal(vs.code, 0, vs.out);
  assert.match(vs.out, /2 valid SFT rows over 2 prompts/);

  const bad = jsonl('kto-bad.jsonl', [
    { prompt: 'Q1', completion: 'good', label: true },
    { prompt: 'Q1', completion: 'bad', label: 'no' },
    { prompt: 'P', responses: ['a', 'b'] },
    { prompt: 5, completion: 'x', label: false },
  ]);
  const vb = await runCli(['validate', bad]);
  assert.equal(vb.code, 1);
  assert.deepEqual(vb.out.trim().split('\n'), [
    `${bad}:2: label: expected true or false, got string`,
    `${bad}:3: line: a task row that needs annotations in a file of KTO {"prompt","completion","label"} rows (the first row's kind; a file holds one kind of compiled rows)`,
    `${bad}:4: prompt: expected a string or a list of messages, got number`,
    `${bad}: 1 valid KTO row (1 desirable, 0 undesirable) over 1 prompt; 3 errors, 0 warnings`,
  ]);
});
