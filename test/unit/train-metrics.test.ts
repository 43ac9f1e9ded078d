/**
 * The metrics' meaning (README "Metrics"): TRL's names with TRL's DPOTrainer definitions. The engine's
 * per-position token statistics against float64 values from the model's own logits (rows of different
 * lengths, padded together), and a real one-step training run whose logged logps/*, rewards/*, entropy,
 * logits/chosen, logits/rejected and mean_token_accuracy equal float64 values computed here from the
 * initial model, row by row without padding — for IPO, whose loss uses length-averaged log-probs while its
 * logged rewards/* and logps/* are sums as in TRL.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadPretrained } from '../../src/engine/checkpoint';
import { buildBatch, disposeBatch, sequenceLogps, tokenizeRow, type PromptCompletion } from '../../src/engine/logps';
import type { TransformerLM } from '../../src/engine/transformer';
import type { EngineTokenizer } from '../../src/engine/types';
import { runTraining } from '../../src/train/pipeline/index';
import type { StepEvent, TrainEvent } from '../../src/train/runs/events';
import { tinyModelFixture, writeJsonl } from './train-fixtures';

let dir = '';
let modelDir = '';
before(async () => {
  ({ dir, modelDir } = await tinyModelFixture('metrics', 23, 64));
});

/** float64 statistics of one unpadded row: per completion position t (logits at t score token t+1). */
async function rowStats(model: TransformerLM, ids: number[], promptLen: number) {
  const logits = tf.tidy(() => model.forward(tf.tensor2d([ids], [1, ids.length], 'int32'), tf.ones([1, ids.length]) as tf.Tensor2D));
  const V = logits.shape[2];
  const flat = await logits.data();
  logits.dispose();
  let logp = 0, entropy = 0, meanLogit = 0, correct = 0, count = 0;
  for (let t = promptLen - 1; t < ids.length - 1; t++) {
    const row = Array.from(flat.subarray(t * V, (t + 1) * V), Number);
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((a, l) => a + Math.exp(l - max), 0));
    logp += row[ids[t + 1]] - lse;
    entropy += -row.reduce((a, l) => a + Math.exp(l - lse) * (l - lse), 0);
    meanLogit += row.reduce((a, l) => a + l, 0) / V;
    correct += row.indexOf(max) === ids[t + 1] ? 1 : 0;
    count += 1;
  }
  return { logp, entropy, meanLogit, correct, count };
}

const close = (a: number, b: number, what: string, tol = 2e-4) =>
  assert.ok(Math.abs(a - b) <= tol * (1 + Math.abs(b)), `${what}: got ${a}, expected ${b}`);

function rowsOf(tokenizer: EngineTokenizer, rows: PromptCompletion[]) {
  return rows.map((r) => { const t = tokenizeRow(tokenizer, r, { maxLength: 64, maxPromptLength: 32 }); return { ids: [...t.promptIds, ...t.completionIds], promptLen: t.promptIds.length }; });
}

test('sequenceLogps token statistics equal float64 values from the logits, padding masked', async () => {
  const { model, tokenizer } = loadPretrained(modelDir);
  const rows: PromptCompletion[] = [
    { prompt: 'Q: 2+2?', completion: ' 4' },
    { prompt: 'Say hello', completion: ' hello there, friend' },
    { prompt: 'x', completion: ' a much longer completion than the others' },
  ];
  const batch = buildBatch(tokenizer, rows, { maxLength: 64, maxPromptLength: 32 });
  const l = sequenceLogps(model, batch, { tokenStats: true });
  const [sum, count, ent, ml, cor] = await Promise.all([l.sum, l.count, l.tokenStats!.entropy, l.tokenStats!.meanLogit, l.tokenStats!.correct].map((t) => t.data()));
  const ref = rowsOf(tokenizer, rows);
  for (let i = 0; i < rows.length; i++) {
    const s = await rowStats(model, ref[i].ids, ref[i].promptLen);
    close(sum[i], s.logp, `row ${i} logp`);
    assert.equal(count[i], s.count, `row ${i} count`);
    close(ent[i], s.entropy, `row ${i} entropy sum`);
    close(ml[i], s.meanLogit, `row ${i} mean-logit sum`);
    assert.equal(cor[i], s.correct, `row ${i} argmax hits`);
  }
  disposeBatch(batch);
  tf.dispose([l.sum, l.mean, l.count, l.tokenStats!.entropy, l.tokenStats!.meanLogit, l.tokenStats!.correct]);
  model.dispose();
});

test('a training step logs TRL meanings: summed logps/rewards (IPO too), entropy, logits/*, mean_token_accuracy', async () => {
  const pairs = [
    { prompt: 'Q1:', chosen: ' yes it is', rejected: ' no' },
    { prompt: 'Question two?', chosen: ' 42', rejected: ' forty-something, maybe' },
    { prompt: 'Q3', chosen: ' ok', rejected: ' not ok at all' },
  ];
  const data = writeJsonl(join(dir, 'ipo-pairs.jsonl'), pairs);
  const events: TrainEvent[] = [];
  const out = await runTraining({ data, model: modelDir, method: 'ipo', out: dir, runId: 'ipo-metrics', backend: 'wasm',
    batchSize: 3, maxSteps: 1, maxLength: 64, evalFraction: 0, lr: 1e-3 }, { onEvent: (e) => events.push(e) });
  assert.equal(out.status, 'finished', out.error);
  const m = events.find((e): e is StepEvent => e.type === 'step')!.metrics;
  const { model, tokenizer } = loadPretrained(modelDir);
  const c = rowsOf(tokenizer, pairs.map((p) => ({ prompt: p.prompt, completion: p.chosen })));
  const r = rowsOf(tokenizer, pairs.map((p) => ({ prompt: p.prompt, completion: p.rejected })));
  const cs = await Promise.all(c.map((x) => rowStats(model, x.ids, x.promptLen)));
  const rs = await Promise.all(r.map((x) => rowStats(model, x.ids, x.promptLen)));
  model.dispose();
  const mean = (a: number[]) => a.reduce((p, q) => p + q, 0) / a.length;
  const total = (a: typeof cs, k: 'entropy' | 'meanLogit' | 'correct' | 'count') => a.reduce((p, q) => p + q[k], 0);
  close(m['logps/chosen'], mean(cs.map((s) => s.logp)), 'logps/chosen (sum over tokens)');
  close(m['logps/rejected'], mean(rs.map((s) => s.logp)), 'logps/rejected (sum over tokens)');
  // policy = reference at the first step: summed rewards are 0 (a length-averaged reward would be 0 too, so
  // the sums are pinned by logps above and by train-losses.test.ts)
  close(m['rewards/chosen'], 0, 'rewards/chosen', 1e-5);
  close(m['ipo/length_averaged_margin'], 0, 'ipo/length_averaged_margin', 1e-5);
  close(m['entropy'], (total(cs, 'entropy') + total(rs, 'entropy')) / (total(cs, 'count') + total(rs, 'count')), 'entropy');
  close(m['logits/chosen'], total(cs, 'meanLogit') / total(cs, 'count'), 'logits/chosen');
  close(m['logits/rejected'], total(rs, 'meanLogit') / total(rs, 'count'), 'logits/rejected');
  close(m['mean_token_accuracy'], total(cs, 'correct') / total(cs, 'count'), 'mean_token_accuracy');
});
