/**
 * The trainer's data reading (src/train/data/) on real files: every TRL pair form the data
 * core reads (standard, conversational, implicit prompt, with and without id), RRHF rows ranked by their
 * scores, mixed task files compiled with their log like `dap export`, an annotation log given as DATA,
 * error messages `file:line: field: problem` (control characters escaped), SPIN's generated-equals-target
 * rule on conversational targets, and one short training run on implicit-prompt pairs.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compilePairs } from '../../src/core/compile';
import { loadProject } from '../../src/core/project';
import { ByteTokenizer, HfTokenizer, byteTokenizerJson } from '../../src/engine/tokenizer';
import { examplesFor, readSourceData } from '../../src/train/data/index';
import { runTraining } from '../../src/train/pipeline/index';
import { spinPairs } from '../../src/train/pipeline/spin';
import { tinyModelFixture, writeJsonl } from './train-fixtures';

let dir = '';
let modelDir = '';
before(async () => {
  ({ dir, modelDir } = await tinyModelFixture('data', 6, 32));
});

const user = (content: string) => ({ role: 'user', content });
const assistant = (content: string) => ({ role: 'assistant', content });
const pairEvent = (item: string, choice: 'a' | 'b' | 'tie') => ({ v: 1, item, annotator: 'ann', ts: '2024-01-01T00:00:00Z', kind: 'pair', shown: [0, 1], choice });

test('TRL pair files in every form: standard, conversational, implicit prompt (strings and messages), with and without id', async () => {
  const file = writeJsonl(join(dir, 'trl.jsonl'), [
    { prompt: 'Q1:', chosen: ' yes', rejected: ' no', id: 'a' },
    { prompt: [user('hi')], chosen: [assistant('hello')], rejected: [assistant('go away')] },
    { chosen: 'Q3: the answer is 4', rejected: 'Q3: the answer is 5' },
    { chosen: [user('hey'), assistant('good')], rejected: [user('hey'), assistant('bad')], id: 7 },
  ]);
  const src = await readSourceData(file);
  assert.equal(src.source, 'pairs');
  assert.deepEqual(src.pairs, [
    { prompt: 'Q1:', chosen: ' yes', rejected: ' no', id: 'a' },
    { prompt: [user('hi')], chosen: [assistant('hello')], rejected: [assistant('go away')] },
    // TRL's implicit-prompt split: the common prefix, minus the space before the split.
    { prompt: 'Q3: the answer is', chosen: ' 4', rejected: ' 5' },
    { prompt: [user('hey')], chosen: [assistant('good')], rejected: [assistant('bad')], id: '7' },
  ]);
  // Conversions of a pair file are unchanged: rankings chosen 0 / rejected 1.
  assert.deepEqual(examplesFor(src, 'rankings')[2], { prompt: 'Q3: the answer is', responses: [' 4', ' 5'], ranks: [0, 1] });
  // A compiled export repeats an item's id on each of its pair rows: still one pair per row.
  const exported = writeJsonl(join(dir, 'export.jsonl'), [
    { prompt: 'P', chosen: 'a', rejected: 'b', id: 'x' }, { prompt: 'P', chosen: 'a', rejected: 'c', id: 'x' },
  ]);
  assert.deepEqual((await readSourceData(exported)).pairs.map((p) => p.rejected), ['b', 'c']);
});

test('RRHF {"query","responses","scores"} rows need no log: ranks and pairs by score, ties share a rank and give no pair', async () => {
  const file = writeJsonl(join(dir, 'rrhf.jsonl'), [
    { query: 'Q:', responses: ['a', 'b', 'c'], scores: [1, 3, 1] },
    { query: 'R:', responses: ['x', 'y'], scores: [0.5, -2], id: 'r2' },
  ]);
  const src = await readSourceData(file);
  assert.equal(src.source, 'labelled');
  assert.deepEqual(examplesFor(src, 'rankings').map((r) => [r.prompt, r.responses, r.ranks]), [['Q:', ['a', 'b', 'c'], [1, 0, 1]], ['R:', ['x', 'y'], [0, 1]]]);
  assert.deepEqual(examplesFor(src, 'pairs').map((p) => [p.prompt, p.chosen, p.rejected]), [['Q:', 'b', 'a'], ['Q:', 'b', 'c'], ['R:', 'x', 'y']]);
  assert.deepEqual(examplesFor(src, 'sft').map((r) => r.completion), ['b', 'x']);
  assert.deepEqual(examplesFor(src, 'pairs').map((p) => p.id), [undefined, undefined, 'r2']);
  // best_vs_rest keeps only pairs won by the top group (same as export --pairs best_vs_rest)
  const two = writeJsonl(join(dir, 'rrhf3.jsonl'), [{ query: 'Q:', responses: ['a', 'b', 'c'], scores: [3, 2, 1] }]);
  assert.deepEqual((await readSourceData(two, undefined, 'best_vs_rest')).pairs.map((p) => [p.chosen, p.rejected]), [['a', 'b'], ['a', 'c']]);
  // RRHF and TRL pair rows together: both carry their labels.
  const both = writeJsonl(join(dir, 'both.jsonl'), [{ prompt: 'P', chosen: 'u', rejected: 'v' }, { query: 'Q', responses: ['m', 'n'], scores: [0, 1] }]);
  assert.deepEqual((await readSourceData(both)).pairs.map((p) => [p.chosen, p.rejected]), [['u', 'v'], ['n', 'm']]);
});

test('a mixed task file (a TRL pair first, then other formats) is compiled with its annotation log, like dap export', async () => {
  const sub = mkdtempSync(join(tmpdir(), 'dap-data-mixed-'));
  const tasks = writeJsonl(join(sub, 'mixed.tasks.jsonl'), [
    { id: 'p', prompt: 'P:', chosen: ' c', rejected: ' r' },
    { id: 'q', prompt: 'Q:', responses: ['one', 'two'] },
    { id: 's', query: 'S:', responses: ['x', 'y'], scores: [1, 2] },
  ]);
  const noLog = await readSourceData(tasks).then(() => '', (e: Error) => e.message);
  assert.match(noLog, /mixed\.tasks\.jsonl: read as a task file \(its first row is a TRL pair row but line 2 is a task row.*mixed\.annotations\.jsonl does not exist/);
  const log = writeJsonl(join(sub, 'mixed.annotations.jsonl'), [pairEvent('p', 'b'), pairEvent('q', 'a'), pairEvent('s', 'a')]);
  const src = await readSourceData(tasks);
  assert.equal(src.source, 'project');
  assert.deepEqual(src.pairs.map((p) => [p.prompt, p.chosen, p.rejected]), [['P:', ' r', ' c'], ['Q:', 'one', 'two'], ['S:', 'x', 'y']]);
  const p = await loadProject(tasks, log);
  assert.deepEqual(src.pairs, compilePairs(p.items, p.resolution.judgments));
  // The log given as DATA means its task file with this log (never X.annotations.annotations.jsonl).
  assert.deepEqual(await readSourceData(log), src);
  assert.deepEqual(await readSourceData(log, log), src);
  await assert.rejects(readSourceData(log, join(sub, 'other.annotations.jsonl')), /mixed\.annotations\.jsonl is an annotation log \(of .*mixed\.tasks\.jsonl\) but --log names another log/);
  const orphan = writeJsonl(join(sub, 'orphan.annotations.jsonl'), [pairEvent('p', 'a')]);
  await assert.rejects(readSourceData(orphan), /orphan\.annotations\.jsonl: an annotation log, but its task file .*orphan\.tasks\.jsonl does not exist/);
});

test('data errors read file:line: field: problem, with control characters escaped', async () => {
  const bad = join(dir, 'bad.jsonl');
  writeFileSync(bad, [JSON.stringify({ prompt: 'a', chosen: 'b', rejected: 'c' }), '{"prompt": "x\u0001\u001b[31m', JSON.stringify({ prompt: 'x', chosen: 3, rejected: 'y' }), '[1]'].join('\n') + '\n');
  const msg = await readSourceData(bad).then(() => '', (e: Error) => e.message);
  assert.match(msg, /^3 error\(s\) in the data:\n/);
  assert.match(msg, new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: line: invalid JSON \\(`));
  assert.match(msg, /:3: chosen: expected a string \(the prompt is a string\), got number/);
  assert.match(msg, /:4: line: expected a JSON object, got array/);
  assert.doesNotMatch(msg, /\(line\)|\(row\)|[\u0000-\u0009\u000b-\u001f]/);
  const binary = join(dir, 'binary.jsonl');
  writeFileSync(binary, Buffer.concat([Buffer.from(JSON.stringify({ prompt: 'a', completion: 'b' }) + '\n'), Buffer.from([0xff, 0xfe, 0x00, 0x07, 0x0a])]));
  await assert.rejects(readSourceData(binary), /binary\.jsonl:2: line: not UTF-8 text/);
  const sft = writeJsonl(join(dir, 'sftbad.jsonl'), [{ prompt: 'a', completion: 'b' }, { prompt: 'a', completion: 5 }]);
  await assert.rejects(readSourceData(sft), /sftbad\.jsonl:2: completion: expected a string or a list of messages, got number/);
});

test('SPIN leaves out generations equal to a conversational target as training renders it (with and without a chat template)', () => {
  const template = '{% for m in messages %}<{{ m.role }}>{{ m.content }}{{ eos_token }}{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}';
  const chat = new HfTokenizer(byteTokenizerJson(), { eos_token: '<|eos|>', pad_token: '<|pad|>', chat_template: template }, {});
  const rows = [
    { prompt: [user('2+2?')], completion: [assistant('4')] as unknown as string }, // as read from a conversational SFT file
    { prompt: [user('3+3?')], completion: '6' }, // compileSft keeps strings with message prompts
    { prompt: 'plain', completion: ' text' },
    { prompt: [user('x')], completion: [assistant('y')] as unknown as string },
  ];
  for (const tok of [new ByteTokenizer(), chat]) {
    const { pairs, same } = spinPairs(tok, rows, ['4', '6', ' text', 'z']);
    assert.equal(same, 3);
    assert.deepEqual(pairs, [{ prompt: [user('x')], chosen: [assistant('y')], rejected: [assistant('z')] }]);
  }
});

test('dap train data: a short DPO run on implicit-prompt conversational pairs', async () => {
  const data = writeJsonl(join(dir, 'implicit.jsonl'), Array.from({ length: 6 }, (_, i) => ({
    chosen: [user(`Q${i}`), assistant('yes')], rejected: [user(`Q${i}`), assistant('no')] })));
  const out = await runTraining({ data, model: modelDir, method: 'dpo', out: dir, runId: 'implicit', backend: 'wasm', maxSteps: 2, batchSize: 2, maxLength: 32 });
  assert.equal(out.status, 'finished', out.error);
  assert.equal(out.summary?.steps, 2);
});
