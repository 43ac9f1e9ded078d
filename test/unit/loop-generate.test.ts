/**
 * `dap generate`: prompts from every prompt-bearing format, K sampled responses per prompt recorded with
 * their model and settings, pairs of two models, deterministic for a seed, resumable (a stopped run
 * continued gives the uninterrupted file byte for byte, and never rewrites what was there), and refusing an
 * output written with other settings. A tiny random model (real tfjs, wasm) does the sampling.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { readPrompts } from '../../src/core/prompts';
import { readTasks } from '../../src/core/tasks';
import { createBuiltinModel } from '../../src/engine/builtin';
import { saveModel } from '../../src/engine/checkpoint';
import { generateTasks, type GenerateRequest } from '../../src/train/loop/generateTasks';
import { runCli } from './engine-fixtures';
import { ensureWorkerBundle, tinyModelFixture, tinyShape, workerBundle, writeJsonl, type TinyModelFixture } from './train-fixtures';
import { generateInWorker } from '../../src/train/worker/generationJob';

let fx: TinyModelFixture;
let otherModel: string;
let promptsFile: string;
test.before(async () => {
  fx = await tinyModelFixture('generate', 31, 64);
  otherModel = join(fx.dir, 'other');
  const m = createBuiltinModel(32, tinyShape(64));
  await saveModel(m, otherModel);
  m.dispose();
  promptsFile = writeJsonl(join(fx.dir, 'prompts.jsonl'), PROMPT_ROWS);
});
const PROMPT_ROWS = [
  { id: 'q1', prompt: 'What is 2 + 3?', meta: { task: 'add', answer: '5' } },
  { prompt: 'Reverse \'abc\'.' },
  { id: 'q3', prompt: 'Hi', responses: ['a', 'b'] },
  { prompt: 'What is 2 + 3?', completion: 'dup' },
  { prompt: [{ role: 'user', content: 'hello' }], completion: 'x', label: true },
  { chosen: 'Say: yes', rejected: 'Say: no' },
  { query: 'Q:', responses: ['1', '2'], scores: [1, 0] },
  { prompt: 7 },
  { id: 'q9', prompt: 'Count to 3.' },
];

const base = (out: string, over: Partial<GenerateRequest> = {}): GenerateRequest => ({
  models: [fx.modelDir], prompts: promptsFile, out: join(fx.dir, out), n: 3, temperature: 1, topP: 0.9, maxNewTokens: 6, seed: 5, batchSize: 2, ...over,
});

test('prompts come from task rows, SFT/KTO rows, bare prompts; duplicates skipped, bad lines named', async () => {
  const { prompts, issues } = await readPrompts(promptsFile);
  assert.deepEqual(prompts.map((p) => p.prompt), ['What is 2 + 3?', "Reverse 'abc'.", 'Hi', [{ role: 'user', content: 'hello' }], 'Say:', 'Q:', 'Count to 3.']);
  assert.equal(prompts[0].id, 'q1');
  assert.deepEqual(prompts[0].meta, { task: 'add', answer: '5' });
  assert.match(prompts[1].id, /^p:[0-9a-f]{16}$/);
  assert.deepEqual(issues.map((i) => `${i.line}:${i.field}`), ['8:prompt']);
});

test('K responses per prompt, each with its model and settings; same seed → same file; other seed → other samples', async () => {
  const r = await generateTasks(base('a.tasks.jsonl'));
  assert.equal(r.written, 7);
  const { items, issues } = await readTasks(r.out);
  assert.deepEqual(issues, []);
  assert.deepEqual(items.map((i) => i.responses.length), [3, 3, 3, 3, 3, 3, 3]);
  assert.ok(items.every((i) => i.responses.every((x) => x.model === fx.modelDir)));
  const line = JSON.parse(readFileSync(r.out, 'utf8').split('\n')[0]);
  assert.deepEqual(line.meta, { task: 'add', answer: '5' });
  assert.deepEqual(line.responses.map((x: { generation: unknown }) => x.generation), [0, 1, 2].map((sample) => ({ temperature: 1, topP: 0.9, maxNewTokens: 6, seed: 5, sample, executor: 'tfjs' })));
  const again = await generateTasks(base('b.tasks.jsonl'));
  assert.equal(readFileSync(again.out, 'utf8'), readFileSync(r.out, 'utf8'), 'deterministic for a seed');
  const other = await generateTasks(base('c.tasks.jsonl', { seed: 6 }));
  assert.notEqual(readFileSync(other.out, 'utf8'), readFileSync(r.out, 'utf8'));
  const texts = items.flatMap((i) => i.responses.map((x) => x.text));
  assert.ok(new Set(texts).size > items.length, 'samples differ within a prompt');
});

test('a stopped run continued gives the uninterrupted file; what was written is never rewritten', async () => {
  const full = await generateTasks(base('full.tasks.jsonl'));
  let batches = 0;
  const part = await generateTasks(base('part.tasks.jsonl', { shouldStop: () => batches++ >= 2 }));
  assert.equal(part.stopped, true);
  const before = readFileSync(part.out, 'utf8');
  assert.equal(before.split('\n').filter(Boolean).length, 4);
  // A crash mid-append leaves a torn line; the continuation keeps it on its own line (reported, never rewritten).
  const resumed = await generateTasks(base('part.tasks.jsonl'));
  assert.equal(resumed.skipped, 4);
  assert.equal(resumed.written, 3);
  const after = readFileSync(part.out, 'utf8');
  assert.ok(after.startsWith(before), 'the first run\'s lines are untouched');
  assert.equal(after, readFileSync(full.out, 'utf8'));
  const nothing = await generateTasks(base('part.tasks.jsonl'));
  assert.deepEqual([nothing.written, nothing.skipped], [0, 7]);
  assert.equal(readFileSync(part.out, 'utf8'), after);
});

test('a torn last line stays on its own line and its prompt is generated again', async () => {
  const full = await generateTasks(base('torn-ref.tasks.jsonl'));
  const lines = readFileSync(full.out, 'utf8').split('\n').filter(Boolean);
  const torn = join(fx.dir, 'torn.tasks.jsonl');
  writeFileSync(torn, lines.slice(0, 2).join('\n') + '\n' + lines[2].slice(0, 20));
  const r = await generateTasks(base('torn.tasks.jsonl'));
  assert.equal(r.written, 5);
  const text = readFileSync(torn, 'utf8').split('\n');
  assert.equal(text[2], lines[2].slice(0, 20), 'the fragment is kept as it was');
  assert.deepEqual(text.slice(3).filter(Boolean), lines.slice(2));
});

test('two models: n pair items per prompt with one response of each, same sample seeds', async () => {
  const r = await generateTasks(base('cmp.tasks.jsonl', { models: [fx.modelDir, otherModel], n: 2 }));
  const { items } = await readTasks(r.out);
  assert.equal(items.length, 14);
  assert.deepEqual(items.slice(0, 2).map((i) => i.id), ['q1#0', 'q1#1']);
  assert.ok(items.every((i) => i.responses.length === 2 && i.responses[0].model === fx.modelDir && i.responses[1].model === otherModel));
  // Model A's j-th response equals the j-th sample of a one-model run with the same seed.
  const single = await readTasks((await generateTasks(base('single.tasks.jsonl', { n: 2 }))).out);
  assert.deepEqual(items.filter((_, k) => k % 2 === 0).map((i) => i.responses[0].text), single.items.map((i) => i.responses[0].text));
  assert.deepEqual(items.filter((_, k) => k % 2 === 1).map((i) => i.responses[0].text), single.items.map((i) => i.responses[1].text));
});

test('refusals: other settings, other models or (one model) another n in an existing output, one model with n = 1, same model twice', async () => {
  const out = 'refuse.tasks.jsonl';
  await generateTasks(base(out, { n: 2 }));
  await assert.rejects(generateTasks(base(out, { n: 2, temperature: 0.5 })), /refuse\.tasks\.jsonl:1: generated with temperature 1, not 0\.5/);
  await assert.rejects(generateTasks(base(out, { n: 2, models: [otherModel] })), /is not one of/);
  // Another --n with one model: the prompts' items hold 2 responses, so 3 cannot be continued there (nothing is written).
  const before = readFileSync(join(fx.dir, out), 'utf8');
  await assert.rejects(generateTasks(base(out, { n: 3 })), /refuse\.tasks\.jsonl:1: responses: 2 per prompt, not 3 \(--n\); rerun with --n 2/);
  assert.equal(readFileSync(join(fx.dir, out), 'utf8'), before);
  await assert.rejects(generateTasks(base('x.jsonl', { n: 1 })), /at least 2 responses/);
  await assert.rejects(generateTasks(base('y.jsonl', { models: [fx.modelDir, fx.modelDir], n: 1 })), /both models are named/);
  assert.equal(existsSync(join(fx.dir, 'x.jsonl')), false);
});

test('dap generate: progress lines with ETA, summary, usage errors', async () => {
  const out = join(fx.dir, 'cli.tasks.jsonl');
  const r = await runCli(['generate', '--model', fx.modelDir, '--prompts', promptsFile, '--out', out, '--n', '2', '--max-new-tokens', '4', '--batch-size', '4', '--backend', 'wasm']);
  assert.equal(r.code, 1, 'a bad prompt line makes the exit status 1');
  assert.match(r.out, /generate \[#+\.*\] 4\/7 prompts \d+ tok\/s ETA/);
  assert.match(r.out, /done: 7 items written, 0 already there, 7 prompts/);
  assert.match(r.err, /prompts\.jsonl:8: prompt: expected a string or a list of messages, got number/);
  const again = await runCli(['generate', '--model', fx.modelDir, '--prompts', promptsFile, '--out', out, '--n', '2', '--max-new-tokens', '4']);
  assert.match(again.out, /done: 0 items written, 7 already there/);
  assert.equal((await runCli(['generate', '--prompts', promptsFile, '--out', out])).code, 2);
  const jax = await runCli(['generate', '--model', fx.modelDir, '--prompts', promptsFile, '--out', out, '--executor', 'jax']);
  assert.equal(jax.code, 2);
  assert.match(jax.err, /--executor: expected tfjs or torch, got "jax"/);
  const py = await runCli(['generate', '--model', fx.modelDir, '--prompts', promptsFile, '--out', out, '--python', '/usr/bin/python3']);
  assert.equal(py.code, 2);
  assert.match(py.err, /--python and --device are options of --executor torch/);
});

test('in the worker process: progress per batch, a cancel stops after the current batch and a rerun completes the file', async () => {
  ensureWorkerBundle();
  const out = join(fx.dir, 'worker.tasks.jsonl');
  const request = { models: [fx.modelDir], prompts: promptsFile, out, n: 2, temperature: 1, topP: 1, maxNewTokens: 4, seed: 9, batchSize: 1 };
  const abort = new AbortController();
  const seen: number[] = [];
  const stopped = await generateInWorker({ workerPath: workerBundle, job: { kind: 'tasks', request }, backend: 'wasm', signal: abort.signal,
    onProgress: (p) => { seen.push(p.done); if (p.done === 2) abort.abort(); } });
  assert.equal(stopped.stopped, true);
  assert.ok(stopped.written >= 2 && stopped.written < 7, `stopped after ${stopped.written} prompts`);
  assert.deepEqual(seen.slice(0, 2), [1, 2]);
  const rest = await generateInWorker({ workerPath: workerBundle, job: { kind: 'tasks', request }, backend: 'wasm', onProgress: () => undefined });
  assert.deepEqual([rest.stopped, rest.skipped, rest.written + rest.skipped], [false, stopped.written, 7]);
  assert.equal(readFileSync(out, 'utf8'), readFileSync((await generateTasks({ ...request, out: join(fx.dir, 'worker-ref.tasks.jsonl') })).out, 'utf8'));
  await assert.rejects(generateInWorker({ workerPath: workerBundle, job: { kind: 'evaluate', runDir: fx.dir }, onProgress: () => undefined }), /no such model folder|not finished|no final model|metrics|config/);
});
