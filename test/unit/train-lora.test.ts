/**
 * LoRA through the trainer on real tfjs with the tiny saved model: DPO with adapters starts at ln 2, the loss
 * falls and the chosen log-prob rises; only the adapters move (base weights bit-identical in memory, even
 * with weight decay); RUN/adapter is a PEFT folder whose base + adapter reproduces the trained policy's
 * held-out log-probs; RUN/model holds the merged weights (checked against a float64 merge of the saved files)
 * and scores the same; cancel + resume reproduces the uninterrupted run (losses, adapter bytes); the
 * built-in model keeps a full SFT stage before LoRA; SPIN keeps training the same adapters with the
 * start-of-iteration reference (precomputed and live) and resumes exactly inside iteration 2; bad lora
 * configs give clear errors; the final model keeps an F16 source's dtype (full, resumed, and LoRA merged).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadPretrained, saveModel } from '../../src/engine/checkpoint';
import { enableLora, loadLoraAdapter } from '../../src/engine/lora';
import { buildBatch, disposeBatch, sequenceLogps } from '../../src/engine/logps';
import { decodeFloats, readHeader, readTensorBytes } from '../../src/engine/safetensors';
import type { TransformerLM } from '../../src/engine/transformer';
import type { EngineTokenizer } from '../../src/engine/types';
import { resolveConfig, type TrainConfig } from '../../src/train/config';
import type { FinishedEvent, StepEvent, TrainEvent } from '../../src/train/runs/events';
import { resolveHyper } from '../../src/train/losses/index';
import { runTraining } from '../../src/train/pipeline/index';
import { computeRefTable } from '../../src/train/stage/reference';
import { runPaths } from '../../src/train/runs/folder';
import { spinIterationDir } from '../../src/train/pipeline/spin';
import { runStage } from '../../src/train/stage/index';
import { cancelThenResume, stepLosses, tinyModelFixture, tinyShape, toyPairs, writeJsonl } from './train-fixtures';

let dir = '';
let modelDir = '';
let toyData = '';
const toy = toyPairs(12);
type Pair = (typeof toy)[number];

before(async () => {
  ({ dir, modelDir } = await tinyModelFixture('lora', 13, 32));
  toyData = writeJsonl(join(dir, 'toy.pairs.jsonl'), toy);
});

function base(runId: string, extra: Partial<TrainConfig> = {}): TrainConfig {
  return { data: toyData, model: modelDir, method: 'dpo', out: dir, runId, backend: 'wasm', lr: 3e-2, batchSize: 4, epochs: 3,
    maxLength: 32, evalFraction: 0.25, evalEvery: 3, warmupRatio: 0, seed: 7, lora: { r: 4 }, ...extra };
}
const stepsOf = (ev: TrainEvent[]) => ev.filter((e): e is StepEvent => e.type === 'step');

/** Summed completion log-probs [chosen, rejected, chosen, …] of `pairs` under `model`, one batch. */
async function pairLogps(model: TransformerLM, tokenizer: EngineTokenizer, pairs: Pair[]): Promise<Float32Array> {
  const batch = buildBatch(tokenizer, pairs.flatMap((p) => [{ prompt: p.prompt, completion: p.chosen }, { prompt: p.prompt, completion: p.rejected }]), { maxLength: 32 });
  const l = sequenceLogps(model, batch);
  const sums = (await l.sum.data()) as Float32Array;
  tf.dispose([l.sum, l.mean, l.count]);
  disposeBatch(batch);
  return sums;
}

const tensorOf = (file: string, name: string) => {
  const h = readHeader(file);
  const info = h.tensors.get(name);
  assert.ok(info, `${file} has ${name}`);
  return { values: decodeFloats(readTensorBytes(h, name), info.dtype, name), shape: info.shape, bytes: Buffer.from(readTensorBytes(h, name)) };
};

test('DPO with LoRA on a model folder: ln 2 at step 1, learns, writes a PEFT adapter and a merged model that score like the policy', async () => {
  const events: TrainEvent[] = [];
  const out = await runTraining(base('learn'), { onEvent: (e) => events.push(e) });
  assert.equal(out.status, 'finished', out.error);
  const started = events.find((e) => e.type === 'started');
  assert.ok(started?.type === 'started');
  assert.deepEqual(started.config.lora, { r: 4, alpha: 8, targetModules: ['c_attn'] }, 'PEFT defaults: alpha 8, GPT-2 targets c_attn');
  // Trainable parameters: r·(in + out) for the single c_attn (32 → 96) of the one-block model.
  const baseCount = [...readHeader(join(modelDir, 'model.safetensors')).tensors.values()].reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0);
  const adapters = 4 * (32 + 96);
  const line = events.find((e) => e.type === 'log' && e.message.startsWith('dpo: trainable params'));
  assert.ok(line?.type === 'log');
  assert.equal(line.message, `dpo: trainable params: ${adapters} || all params: ${(baseCount + adapters).toLocaleString('en-US')} || trainable%: ${(100 * adapters / (baseCount + adapters)).toFixed(4)} (LoRA r=4 on 1 module)`);

  const steps = stepsOf(events);
  assert.equal(steps.length, 9);
  assert.ok(Math.abs(steps[0].metrics.loss - Math.LN2) < 1e-6, `step-1 loss ${steps[0].metrics.loss}`);
  assert.ok(steps[8].metrics.loss < steps[0].metrics.loss - 0.02, `loss fell: ${steps[0].metrics.loss} → ${steps[8].metrics.loss}`);
  assert.ok(steps[8].metrics['logps/chosen'] > steps[0].metrics['logps/chosen'], 'chosen log-prob rose');
  const finished = events.at(-1) as FinishedEvent;
  assert.equal(finished.summary.adapter, runPaths(out.runDir).adapter);
  assert.equal(finished.summary.model, runPaths(out.runDir).finalModel);
  assert.ok(!existsSync(join(finished.summary.checkpoint!, 'model')) && existsSync(join(finished.summary.checkpoint!, 'adapter', 'adapter_model.safetensors')), 'LoRA checkpoints hold the adapter only');

  // PEFT layout.
  const adapterDir = runPaths(out.runDir).adapter;
  const cfg = JSON.parse(readFileSync(join(adapterDir, 'adapter_config.json'), 'utf8'));
  assert.deepEqual([cfg.peft_type, cfg.task_type, cfg.r, cfg.lora_alpha, cfg.target_modules, cfg.base_model_name_or_path], ['LORA', 'CAUSAL_LM', 4, 8, ['c_attn'], resolve(modelDir)]);
  const adapterFile = join(adapterDir, 'adapter_model.safetensors');
  const key = 'base_model.model.transformer.h.0.attn.c_attn';
  assert.deepEqual([...readHeader(adapterFile).tensors.keys()].sort(), [`${key}.lora_A.weight`, `${key}.lora_B.weight`]);

  // Base + adapter reproduces the trained policy: its held-out mean log-probs equal the final eval's.
  const split = JSON.parse(readFileSync(runPaths(out.runDir).split, 'utf8')) as { evalPrompts: string[] };
  const evalPairs = toy.filter((p) => split.evalPrompts.includes(p.prompt));
  assert.equal(evalPairs.length, 3);
  const lastEval = events.filter((e) => e.type === 'eval').at(-1);
  assert.ok(lastEval?.type === 'eval' && lastEval.step === 9);
  const { model: adapted, tokenizer } = loadPretrained(modelDir);
  loadLoraAdapter(adapted, adapterDir);
  const a = await pairLogps(adapted, tokenizer, evalPairs);
  const mean = (k: number) => evalPairs.reduce((s, _, i) => s + a[2 * i + k], 0) / evalPairs.length;
  assert.ok(Math.abs(mean(0) - lastEval.metrics['eval_logps/chosen']) < 1e-4, `chosen ${mean(0)} vs ${lastEval.metrics['eval_logps/chosen']}`);
  assert.ok(Math.abs(mean(1) - lastEval.metrics['eval_logps/rejected']) < 1e-4, `rejected ${mean(1)} vs ${lastEval.metrics['eval_logps/rejected']}`);
  const { model: merged } = loadPretrained(runPaths(out.runDir).finalModel);
  const m = await pairLogps(merged, tokenizer, evalPairs);
  a.forEach((v, i) => assert.ok(Math.abs(v - m[i]) < 1e-4, `merged model sequence ${i}: ${m[i]} vs adapted ${v}`));
  const { model: plain } = loadPretrained(modelDir);
  const p = await pairLogps(plain, tokenizer, evalPairs);
  assert.ok(p.some((v, i) => Math.abs(v - a[i]) > 1e-3), 'the adapter changed the scores (the comparison is not vacuous)');
  for (const x of [adapted, merged, plain]) x.dispose();

  // The merged c_attn equals a float64 merge of the saved files: W (in, out) + (8/4)·(B·A)ᵀ; every other tensor is the base's, bit for bit.
  const finalFile = join(runPaths(out.runDir).finalModel, 'model.safetensors');
  const A = tensorOf(adapterFile, `${key}.lora_A.weight`), B = tensorOf(adapterFile, `${key}.lora_B.weight`); // (r, in), (out, r)
  const baseHeader = readHeader(join(modelDir, 'model.safetensors'));
  for (const name of baseHeader.tensors.keys()) {
    const got = tensorOf(finalFile, name);
    if (!name.endsWith('attn.c_attn.weight')) {
      assert.ok(got.bytes.equals(tensorOf(join(modelDir, 'model.safetensors'), name).bytes), `${name} unchanged`);
      continue;
    }
    const W = tensorOf(join(modelDir, 'model.safetensors'), name).values; // Conv1D (in, out)
    const [inDim, outDim] = got.shape;
    for (let i = 0; i < inDim; i++) for (let o = 0; o < outDim; o++) {
      let d = 0;
      for (let k = 0; k < 4; k++) d += B.values[o * 4 + k] * A.values[k * inDim + i];
      const want = W[i * outDim + o] + 2 * d;
      assert.ok(Math.abs(got.values[i * outDim + o] - want) < 1e-6, `${name}[${i},${o}]: ${got.values[i * outDim + o]} vs ${want}`);
    }
  }
});

test('runStage with LoRA moves only the adapters: base weights bit-identical (weight decay on)', async () => {
  const { model, tokenizer } = loadPretrained(modelDir);
  enableLora(model, { r: 2, alpha: 4, targetModules: ['c_attn', 'c_fc'], seed: 3 });
  const baseBefore = new Map<string, Float32Array>();
  for (const [n, p] of model.params) baseBefore.set(n, Float32Array.from((await p.variable.data()) as Float32Array));
  const adaptersBefore = await Promise.all(model.trainableVariables().map(async (v) => Float32Array.from((await v.data()) as Float32Array)));
  const train = toy.slice(0, 8);
  const table = await computeRefTable(model, tokenizer, 'pairs', train, 4, { maxLength: 32 }, 'mismatched');
  const r = await runStage({ stage: 'dpo', kind: 'pairs', loss: 'dpo', hyper: resolveHyper('dpo'), model, tokenizer, train, eval: [],
    reference: { kind: 'precomputed', train: table, eval: { sums: [], means: [] } }, epochs: 2, batchSize: 4, gradAccum: 1, lr: 3e-2,
    schedule: 'constant', warmupRatio: 0, maxGradNorm: 1, weightDecay: 0.1, batchOptions: { maxLength: 32 }, evalEvery: 0, checkpointEvery: 0,
    ktoKl: 'mismatched', seed: 1, runDir: mkdtempSync(join(tmpdir(), 'dap-lora-stage-')), emit: () => {}, shouldStop: () => false });
  assert.equal(r.steps, 4);
  for (const [n, p] of model.params) assert.deepEqual((await p.variable.data()) as Float32Array, baseBefore.get(n), `${n} untouched`);
  const after = await Promise.all(model.trainableVariables().map(async (v) => (await v.data()) as Float32Array));
  assert.equal(after.length, 4, 'A and B of c_attn and c_fc');
  after.forEach((v, i) => assert.ok(v.some((x, j) => x !== adaptersBefore[i][j]), `adapter variable ${i} moved`));
  model.dispose();
});

test('LoRA cancel + resume reproduces the uninterrupted run (per-step losses, adapter and merged model bytes)', async () => {
  const fullEvents: TrainEvent[] = [];
  const full = await runTraining(base('full'), { onEvent: (e) => fullEvents.push(e) });
  assert.equal(full.status, 'finished', full.error);
  const part = await cancelThenResume(base('part'), (e) => e.step >= 4);
  const ckpt = part.checkpoint;
  assert.match(ckpt, /dpo-step-000004$/);
  assert.ok(!existsSync(join(ckpt, 'model')), 'no copy of the base model in the checkpoint');
  const opt = readHeader(join(ckpt, 'optimizer.safetensors'));
  assert.deepEqual([...opt.tensors.entries()].map(([k, t]) => [k, t.shape]).sort(), [['m.0', [32, 4]], ['m.1', [4, 96]], ['v.0', [32, 4]], ['v.1', [4, 96]]], 'optimizer state of the adapters only');
  assert.deepEqual(stepLosses(part.events), stepLosses(fullEvents));
  for (const f of ['adapter/adapter_model.safetensors', 'model/model.safetensors']) {
    assert.ok(readFileSync(join(full.runDir, f)).equals(readFileSync(join(part.runDir, f))), `${f} identical`);
  }
});

test('built-in model + LoRA: the SFT stage trains every weight, the DPO stage only adapters on the SFT model', async () => {
  const events: TrainEvent[] = [];
  const out = await runTraining(base('builtin', { model: undefined, builtin: tinyShape(32), sftEpochs: 1, maxSteps: 3, lr: 1e-2 }), { onEvent: (e) => events.push(e) });
  assert.equal(out.status, 'finished', out.error);
  const logs = events.filter((e) => e.type === 'log').map((e) => (e.type === 'log' ? e.message : ''));
  assert.ok(logs.some((l) => /^sft: trainable params: ([\d,]+) \|\| all params: \1 \|\| trainable%: 100\.0000$/.test(l)), logs.join('\n'));
  assert.ok(logs.some((l) => /^dpo: trainable params: 512 \|\|.*\(LoRA r=4 on 1 module\)$/.test(l)), logs.join('\n'));
  const dpo = stepsOf(events).filter((e) => e.stage === 'dpo');
  assert.ok(Math.abs(dpo[0].metrics.loss - Math.LN2) < 1e-6, 'the reference is the SFT model (adapters start at B = 0)');
  const cfg = JSON.parse(readFileSync(join(runPaths(out.runDir).adapter, 'adapter_config.json'), 'utf8'));
  assert.equal(cfg.base_model_name_or_path, resolve(runPaths(out.runDir).sftModel));
});

const spinLora = (runId: string, reference: 'precomputed' | 'live') => base(runId, { method: 'spin', reference, lr: 5e-2, epochs: 1, spin: { iterations: 2, maxNewTokens: 4 } });
/** The uninterrupted precomputed-reference SPIN + LoRA run, compared with cancel + resume below. */
let spinFull: { events: TrainEvent[]; runDir: string } | undefined;

for (const reference of ['precomputed', 'live'] as const) {
  test(`SPIN + LoRA (${reference} reference): iterations train the same adapters; iteration 2's reference is the policy at its start`, async () => {
    const events: TrainEvent[] = [];
    const out = await runTraining(spinLora(`spin-${reference}`, reference), { onEvent: (e) => events.push(e) });
    assert.equal(out.status, 'finished', out.error);
    if (reference === 'precomputed') spinFull = { events, runDir: out.runDir };
    for (const it of [1, 2]) {
      const first = stepsOf(events).find((e) => e.stage === `spin-${it}` && e.step === 1);
      assert.ok(first && Math.abs(first.metrics.loss - Math.LN2) < 1e-6, `iteration ${it} starts at ln 2: ${first?.metrics.loss}`);
      assert.ok(existsSync(join(spinIterationDir(out.runDir, it), 'adapter', 'adapter_model.safetensors')), `iteration ${it} adapter`);
    }
    const a1 = readFileSync(join(spinIterationDir(out.runDir, 1), 'adapter', 'adapter_model.safetensors'));
    const a2 = readFileSync(join(spinIterationDir(out.runDir, 2), 'adapter', 'adapter_model.safetensors'));
    assert.ok(!a1.equals(a2), 'iteration 2 trained the adapters further');
    if (reference === 'live') assert.ok(existsSync(join(spinIterationDir(out.runDir, 2), 'reference-adapter', 'adapter_config.json')));
    else {
      // Iteration 2's precomputed reference = base + iteration 1's adapters (not the base alone), recomputed here.
      const pairs = readFileSync(join(spinIterationDir(out.runDir, 2), 'pairs.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Pair);
      const saved = JSON.parse(readFileSync(runPaths(out.runDir).reference('spin-2'), 'utf8')) as { train: { sums: number[][] } };
      const { model, tokenizer } = loadPretrained(modelDir);
      const plain = await pairLogps(model, tokenizer, pairs);
      loadLoraAdapter(model, join(spinIterationDir(out.runDir, 1), 'adapter'));
      const ref = await pairLogps(model, tokenizer, pairs);
      model.dispose();
      saved.train.sums.forEach(([c, r], i) => assert.ok(Math.abs(c - ref[2 * i]) < 1e-4 && Math.abs(r - ref[2 * i + 1]) < 1e-4, `reference of pair ${i}`));
      assert.ok(plain.some((v, i) => Math.abs(v - ref[i]) > 1e-3), 'iteration 1 moved the adapters (not vacuous)');
    }
    assert.ok(existsSync(join(runPaths(out.runDir).adapter, 'adapter_config.json')) && existsSync(join(runPaths(out.runDir).finalModel, 'model.safetensors')));
  });
}

test('SPIN + LoRA cancelled inside iteration 2 and resumed reproduces the uninterrupted run', async () => {
  assert.ok(spinFull, 'needs the uninterrupted run above');
  const part = await cancelThenResume(spinLora('spin-part', 'precomputed'), (e) => e.stage === 'spin-2' && e.step >= 1);
  assert.match(part.checkpoint, /spin-2-step-000001$/);
  assert.deepEqual(stepLosses(part.events), stepLosses(spinFull.events));
  for (const f of ['adapter/adapter_model.safetensors', 'model/model.safetensors']) {
    assert.ok(readFileSync(join(spinFull.runDir, f)).equals(readFileSync(join(part.runDir, f))), `${f} identical`);
  }
});

test('bad lora settings give clear errors naming the field', async () => {
  const bad: [unknown, RegExp][] = [
    [{ r: 0 }, /config: lora\.r: expected a positive integer, got 0/],
    [{ r: 2.5 }, /config: lora\.r: expected a positive integer, got 2\.5/],
    [{ alpha: 8 }, /config: lora\.r: expected a positive integer, got undefined/],
    [{ r: 8, alpha: 0 }, /config: lora\.alpha: expected a positive number, got 0/],
    [{ r: 8, targetModules: [] }, /config: lora\.targetModules: expected a non-empty list/],
    [{ r: 8, rank: 4 }, /config: lora\.rank: unknown field/],
    [8, /config: lora: expected an object like \{"r": 8\}, got 8/],
  ];
  for (const [lora, re] of bad) assert.throws(() => resolveConfig({ data: toyData, lora } as unknown as TrainConfig), re, JSON.stringify(lora));
  assert.throws(() => resolveConfig({ data: toyData, method: 'sft', lora: { r: 4 } }), /config: lora: LoRA needs a trained base model/);
  assert.equal(resolveConfig({ data: toyData, method: 'sft', model: modelDir, lora: { r: 4 } }).lora?.r, 4);
  const out = await runTraining(base('bad-targets', { lora: { r: 4, targetModules: ['q_proj'] } }));
  assert.equal(out.status, 'failed');
  assert.match(out.error ?? '', /config: lora\.targetModules: \[q_proj\] match no linear module of this gpt2 model \(available: c_attn, c_proj, c_fc\)/);
});

test('the final model keeps the source dtype (F16 base): full fine-tuning, resumed from an F32 checkpoint, and LoRA merged', async () => {
  const { model } = loadPretrained(modelDir);
  const f16Dir = join(dir, 'tiny-f16');
  await saveModel(model, f16Dir, { dtype: 'F16' });
  model.dispose();
  const dtypes = (file: string) => new Set([...readHeader(file).tensors.values()].map((t) => t.dtype));
  let n = 0;
  const part = await runTraining(base('f16-full', { model: f16Dir, lora: undefined, maxSteps: 3 }), { onEvent: (e) => { if (e.type === 'step') n = e.step; }, shouldStop: () => n >= 1 });
  assert.equal(part.status, 'cancelled', part.error);
  assert.deepEqual(dtypes(join(part.summary!.checkpoint!, 'model', 'model.safetensors')), new Set(['F32']), 'checkpoints stay float32 (exact resume)');
  const resumed = await runTraining({ data: toyData, resume: part.summary!.checkpoint! });
  assert.equal(resumed.status, 'finished', resumed.error);
  assert.deepEqual(dtypes(join(runPaths(resumed.runDir).finalModel, 'model.safetensors')), new Set(['F16']));
  assert.equal(JSON.parse(readFileSync(join(runPaths(resumed.runDir).finalModel, 'config.json'), 'utf8')).torch_dtype, 'float16');
  const lora = await runTraining(base('f16-lora', { model: f16Dir, maxSteps: 2 }));
  assert.equal(lora.status, 'finished', lora.error);
  assert.deepEqual(dtypes(join(runPaths(lora.runDir).finalModel, 'model.safetensors')), new Set(['F16']));
  assert.deepEqual(dtypes(join(runPaths(lora.runDir).adapter, 'adapter_model.safetensors')), new Set(['F32']));
});
