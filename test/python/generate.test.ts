/**
 * Generation on the torch executor (python/dap_train/generate.py through src/train/torch/generate.ts and
 * generateTasks' torch sampler), on the real torch + transformers stack and the shipped built-in model:
 * greedy answers equal the tfjs engine's token for token on the sample's prompts; sampled answers are
 * deterministic for a seed and change with it; an output is never continued on the other executor; the
 * editor's worker process generates on torch when asked (as *DAP: Generate Responses…* does with
 * `dapStudio.train.executor: torch`); a bad row is an error naming the line.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { builtinModelDir } from '../../src/engine/builtin';
import { generateTasks, type GenerateRequest } from '../../src/train/loop/generateTasks';
import { startTorchGenerator } from '../../src/train/torch/generate';
import { generateInWorker } from '../../src/train/worker/generationJob';
import { ensureWorkerBundle, workerBundle } from '../unit/train-fixtures';
import { python, repoRoot, tempDir, writeJsonl } from './fixtures';

process.env.OMP_NUM_THREADS = '1';
process.env.OPENBLAS_NUM_THREADS = '1';
const dir = tempDir('generate');
// The first 12 lines of the sample (11 distinct prompts), every task family, with their answers (meta) as the sample has them.
const prompts = writeJsonl(join(dir, 'prompts.jsonl'), readFileSync(join(repoRoot, 'media/samples/arith.tasks.jsonl'), 'utf8').trim().split('\n').slice(0, 12)
  .map((l) => JSON.parse(l) as { id: string; prompt: string; meta: unknown }).map(({ id, prompt, meta }) => ({ id, prompt, meta })));
const torch = { python, device: 'cpu' };
const base = (out: string, o: Partial<GenerateRequest> = {}): GenerateRequest =>
  ({ models: ['builtin'], prompts, out: join(dir, out), n: 2, temperature: 0, topP: 1, maxNewTokens: 12, seed: 0, batchSize: 5, backend: 'wasm', ...o });
const responses = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; responses: { text: string; generation: { executor: string } }[] });

test('greedy: the torch executor answers the sample prompts exactly as the tfjs engine does', { timeout: 600_000 }, async () => {
  const onTfjs = await generateTasks(base('greedy-tfjs.tasks.jsonl'));
  const onTorch = await generateTasks(base('greedy-torch.tasks.jsonl', { torch }));
  assert.ok(onTfjs.written >= 10 && onTorch.written === onTfjs.written, `${onTorch.written} vs ${onTfjs.written} items`);
  const a = responses(onTfjs.out);
  const b = responses(onTorch.out);
  assert.deepEqual(b.map((it) => it.responses.map((r) => r.text)), a.map((it) => it.responses.map((r) => r.text)));
  assert.ok(b.every((it) => it.responses.every((r) => r.generation.executor === 'torch')) && a.every((it) => it.responses.every((r) => r.generation.executor === 'tfjs')));
  assert.ok(a.some((it) => it.responses[0].text.length > 0), 'the model answers something');
});

test('sampled on torch: the same seed gives the same file, another seed other samples; no continuing on the other executor', { timeout: 600_000 }, async () => {
  const one = await generateTasks(base('s1.tasks.jsonl', { torch, temperature: 1, seed: 5 }));
  const two = await generateTasks(base('s2.tasks.jsonl', { torch, temperature: 1, seed: 5 }));
  const other = await generateTasks(base('s3.tasks.jsonl', { torch, temperature: 1, seed: 6 }));
  assert.equal(readFileSync(two.out, 'utf8'), readFileSync(one.out, 'utf8'));
  assert.notDeepEqual(responses(other.out).map((it) => it.responses.map((r) => r.text)), responses(one.out).map((it) => it.responses.map((r) => r.text)));
  const texts = responses(one.out).flatMap((it) => it.responses.map((r) => r.text));
  assert.ok(new Set(texts).size > 1, 'samples differ between rows');
  await assert.rejects(generateTasks(base('s1.tasks.jsonl', { temperature: 1, seed: 5 })), /s1\.tasks\.jsonl:1: generated on the torch executor, not tfjs/);
});

test('a bad row is an error naming stdin and the line; the process exits', { timeout: 300_000 }, async () => {
  const gen = startTorchGenerator({ python, device: 'cpu', modelDir: builtinModelDir(), maxNewTokens: 4, temperature: 0, topP: 1, eosId: 257, padId: 258 });
  const [ok] = await gen.generate([{ ids: [87, 104, 97, 116], seed: 1 }]);
  assert.ok(ok.length <= 4);
  await assert.rejects(gen.generate([{ ids: [], seed: 1 }]), /stdin:2: ids: expected a non-empty list of token ids/);
  await gen.close();
});

test('the worker process generates on torch when the job asks for it, with the same greedy answers', { timeout: 600_000 }, async () => {
  ensureWorkerBundle();
  const request = { models: ['builtin'], prompts, out: join(dir, 'worker-torch.tasks.jsonl'), n: 2, temperature: 0, topP: 1, maxNewTokens: 12, seed: 0, batchSize: 5 };
  const r = await generateInWorker({ workerPath: workerBundle, job: { kind: 'tasks', request }, torch, onProgress: () => undefined });
  assert.equal(r.stopped, false);
  const got = responses(r.out);
  assert.ok(got.every((it) => it.responses.every((x) => x.generation.executor === 'torch')));
  assert.deepEqual(got.map((it) => it.responses.map((x) => x.text)), responses(join(dir, 'greedy-tfjs.tasks.jsonl')).map((it) => it.responses.map((x) => x.text)));
});
