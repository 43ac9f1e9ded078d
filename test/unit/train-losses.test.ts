/**
 * Tests for the loss registry (src/train/losses): every loss and its TRL-named metrics against float64
 * values computed here from the formulas in plain JavaScript, the stable log-sigmoid, DPO = ln 2 when
 * policy = reference, and the direction of one AdamW step on a toy bigram model (chosen log-prob up,
 * rejected down) for every method.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/engine/backend';
import * as ops from '../../src/engine/ops';
import { LOSSES, getLoss, resolveHyper, logSigmoid, type LossHyper, type LossOutput, type DataKind } from '../../src/train/losses/index';
import { AdamW } from '../../src/train/stage/optimizer';

before(async () => { await initBackend('cpu'); });

/** float64 references. */
const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
const logsig = (x: number) => -softplus(-x);
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const mean = (a: number[]) => a.reduce((p, q) => p + q, 0) / a.length;
const relu = (x: number) => Math.max(0, x);

/** Deterministic toy inputs: B rows of chosen/rejected sums, counts, and reference sums. */
const B = 6;
function series(seed: number, lo: number, hi: number): number[] {
  let s = seed >>> 0; // mulberry32
  return Array.from({ length: B }, () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return lo + ((hi - lo) * ((t ^ (t >>> 14)) >>> 0)) / 4294967296;
  });
}
const cSum = series(1, -30, -5), rSum = series(2, -30, -5);
const cCnt = [5, 7, 3, 9, 4, 6], rCnt = [6, 4, 8, 5, 7, 3];
const refCSum = series(3, -30, -5), refRSum = series(4, -30, -5);
const cMean = cSum.map((v, i) => v / cCnt[i]), rMean = rSum.map((v, i) => v / rCnt[i]);
const refCMean = refCSum.map((v, i) => v / cCnt[i]), refRMean = refRSum.map((v, i) => v / rCnt[i]);

function pairInputs() {
  const t = (a: number[]) => tf.tensor1d(a, 'float32');
  return {
    chosen: { sum: t(cSum), mean: t(cMean), count: t(cCnt) },
    rejected: { sum: t(rSum), mean: t(rMean), count: t(rCnt) },
    refChosen: { sum: t(refCSum), mean: t(refCMean) },
    refRejected: { sum: t(refRSum), mean: t(refRMean) },
  };
}

/** tf.tidy for a loss result (keeps its tensors, frees the intermediates). */
const tidyLoss = (f: () => LossOutput): LossOutput => tf.tidy(() => f() as unknown as tf.TensorContainer) as unknown as LossOutput;

async function values(out: LossOutput): Promise<Record<string, number>> {
  const res: Record<string, number> = { loss: (await out.loss.data())[0] };
  for (const [k, v] of Object.entries(out.metrics)) res[k] = (await v.data())[0];
  return res;
}
function close(actual: number, expected: number, what: string, tol = 1e-5): void {
  assert.ok(Math.abs(actual - expected) <= tol * (1 + Math.abs(expected)), `${what}: got ${actual}, expected ${expected}`);
}
/** Expected TRL pair metrics from float64 rewards and logps. */
function expectPairMetrics(got: Record<string, number>, rc: number[], rr: number[], lc: number[], lr: number[], what: string): void {
  close(got['rewards/chosen'], mean(rc), `${what} rewards/chosen`);
  close(got['rewards/rejected'], mean(rr), `${what} rewards/rejected`);
  close(got['rewards/margins'], mean(rc.map((v, i) => v - rr[i])), `${what} rewards/margins`);
  close(got['rewards/accuracies'], mean(rc.map((v, i) => (v > rr[i] ? 1 : 0))), `${what} rewards/accuracies`);
  close(got['logps/chosen'], mean(lc), `${what} logps/chosen`);
  close(got['logps/rejected'], mean(lr), `${what} logps/rejected`);
}

/** Runs a pairwise loss with the given hyper-parameters and compares loss and metrics. */
async function checkPair(name: string, hp: Partial<LossHyper>, perRow: (i: number, h: LossHyper) => number,
  rewards: (h: LossHyper) => [number[], number[], number[], number[]]): Promise<void> {
  const h = resolveHyper(name, hp);
  const got = await values(tidyLoss(() => getLoss(name).fn(pairInputs() as never, h)));
  close(got.loss, mean(Array.from({ length: B }, (_, i) => perRow(i, h))), `${name} loss`);
  const [rc, rr, lc, lr] = rewards(h);
  expectPairMetrics(got, rc, rr, lc, lr, name);
}
const sumRewards = (h: LossHyper): [number[], number[], number[], number[]] =>
  [cSum.map((v, i) => h.beta * (v - refCSum[i])), rSum.map((v, i) => h.beta * (v - refRSum[i])), cSum, rSum];
const delta = (i: number) => (cSum[i] - refCSum[i]) - (rSum[i] - refRSum[i]);

test('dpo, cdpo, robust, ipo, hinge equal their float64 formulas', async () => {
  await checkPair('dpo', { beta: 0.1 }, (i, h) => -logsig(h.beta * delta(i)), sumRewards);
  await checkPair('dpo', { beta: 0.5 }, (i, h) => -logsig(h.beta * delta(i)), sumRewards);
  await checkPair('cdpo', { beta: 0.3, labelSmoothing: 0.2 }, (i, h) =>
    -(1 - h.labelSmoothing) * logsig(h.beta * delta(i)) - h.labelSmoothing * logsig(-h.beta * delta(i)), sumRewards);
  await checkPair('robust', { beta: 0.3, labelSmoothing: 0.2 }, (i, h) =>
    (-(1 - h.labelSmoothing) * logsig(h.beta * delta(i)) + h.labelSmoothing * logsig(-h.beta * delta(i))) / (1 - 2 * h.labelSmoothing), sumRewards);
  await checkPair('ipo', { beta: 0.1 }, (i, h) => {
    const d = (cMean[i] - refCMean[i]) - (rMean[i] - refRMean[i]) - 1 / (2 * h.beta);
    return d * d;
  }, sumRewards); // TRL's DPOTrainer logs summed rewards/logps for IPO too; its loss alone uses the means
  const ipo = await values(tidyLoss(() => getLoss('ipo').fn(pairInputs() as never, resolveHyper('ipo'))));
  close(ipo['ipo/length_averaged_margin'], mean(cMean.map((v, i) => (v - refCMean[i]) - (rMean[i] - refRMean[i]))), 'ipo/length_averaged_margin');
  await checkPair('hinge', { beta: 0.2 }, (i, h) => relu(1 - h.beta * delta(i)), sumRewards);
  assert.throws(() => tf.tidy(() => getLoss('robust').fn(pairInputs() as never, resolveHyper('robust', { labelSmoothing: 0.5 })).loss), /\[0, 0\.5\)/);
  assert.throws(() => tf.tidy(() => { const x = pairInputs(); return getLoss('dpo').fn({ chosen: x.chosen, rejected: x.rejected } as never, resolveHyper('dpo')).loss; }), /reference/);
});

test('rpoAlpha adds α · the token-mean NLL of the chosen completions to every reference-based pair loss (TRL rpo_alpha), logged as nll_loss', async () => {
  const nll = -cSum.reduce((p, q) => p + q, 0) / cCnt.reduce((p, q) => p + q, 0); // over all chosen tokens of the batch
  for (const alpha of [1, 0.25]) {
    await checkPair('dpo', { beta: 0.1, rpoAlpha: alpha }, (i, h) => -logsig(h.beta * delta(i)) + alpha * nll, sumRewards);
    await checkPair('hinge', { beta: 0.2, rpoAlpha: alpha }, (i, h) => relu(1 - h.beta * delta(i)) + alpha * nll, sumRewards);
    await checkPair('cdpo', { beta: 0.3, labelSmoothing: 0.2, rpoAlpha: alpha }, (i, h) =>
      -(1 - h.labelSmoothing) * logsig(h.beta * delta(i)) - h.labelSmoothing * logsig(-h.beta * delta(i)) + alpha * nll, sumRewards);
    const got = await values(tidyLoss(() => getLoss('ipo').fn(pairInputs() as never, resolveHyper('ipo', { rpoAlpha: alpha }))));
    close(got['nll_loss'], nll, 'ipo nll_loss');
  }
  const off = await values(tidyLoss(() => getLoss('dpo').fn(pairInputs() as never, resolveHyper('dpo'))));
  assert.equal(off['nll_loss'], undefined, 'rpoAlpha 0 (the default) adds nothing and logs no nll_loss');
  close(off.loss, mean(Array.from({ length: B }, (_, i) => -logsig(0.1 * delta(i)))), 'dpo without the term');
  // Its gradient: d(α·NLL)/d(chosen.sum_i) = −α / Σ counts, on top of the pair term's.
  const grads = tf.tidy(() => {
    const x = pairInputs();
    const g = tf.grad((s: tf.Tensor) => getLoss('dpo').fn({ ...x, chosen: { ...x.chosen, sum: s as tf.Tensor1D } } as never, resolveHyper('dpo', { rpoAlpha: 0.5 })).loss);
    return Array.from(g(x.chosen.sum).dataSync());
  });
  const total = cCnt.reduce((p, q) => p + q, 0);
  grads.forEach((g, i) => close(g, -0.1 * sigmoid(-0.1 * delta(i)) / B - 0.5 / total, `d loss / d chosen.sum[${i}]`));
});

test('slic, simpo, orpo (reference-free) equal their float64 formulas', async () => {
  await checkPair('slic', {}, (i, h) => relu(h.delta - cSum[i] + rSum[i]) - h.lambda * cSum[i], () => [cSum, rSum, cSum, rSum]);
  await checkPair('simpo', {}, (i, h) => -logsig(h.beta * (cMean[i] - rMean[i]) - h.gamma),
    (h) => [cMean.map((v) => h.beta * v), rMean.map((v) => h.beta * v), cSum, rSum]);
  const h = resolveHyper('orpo');
  const log1mexp = (x: number) => Math.log(1 - Math.exp(x));
  const logOdds = cMean.map((pw, i) => (pw - rMean[i]) - (log1mexp(pw) - log1mexp(rMean[i])));
  const nll = -cSum.reduce((p, q) => p + q, 0) / cCnt.reduce((p, q) => p + q, 0);
  const got = await values(tidyLoss(() => getLoss('orpo').fn(pairInputs() as never, h)));
  close(got.loss, nll - h.beta * mean(logOdds.map(logsig)), 'orpo loss');
  close(got['nll_loss'], nll, 'orpo nll_loss');
  close(got['log_odds_chosen'], mean(logOdds), 'orpo log_odds_chosen');
  expectPairMetrics(got, cMean.map((v) => h.beta * v), rMean.map((v) => h.beta * v), cSum, rSum, 'orpo');
});

test('rrhf: ranked-pair hinge per group + NLL of the best, against float64', async () => {
  // Two groups: sequences 0,1,2 (ranks 0,1,1: 0 best, 1 and 2 tied) and 3,4 (ranks 1,0: 4 best).
  const means = [-1.2, -0.7, -2.0, -0.4, -0.9];
  const counts = [3, 5, 2, 4, 6];
  const sums = means.map((m, i) => m * counts[i]);
  const better = [0, 0, 4], worse = [1, 2, 3], best = [0, 4];
  const run = async (hp: Partial<LossHyper>) => values(tidyLoss(() => getLoss('rrhf').fn({
    logps: { sum: tf.tensor1d(sums), mean: tf.tensor1d(means), count: tf.tensor1d(counts) },
    better: tf.tensor1d(better, 'int32'), worse: tf.tensor1d(worse, 'int32'), pairGroup: tf.tensor1d([0, 0, 1], 'int32'),
    best: tf.tensor1d(best, 'int32'), groups: 2,
  } as never, resolveHyper('rrhf', hp))));
  const got = await run({ sftWeight: 0.5 });
  const rank = better.reduce((acc, b, k) => acc + relu(means[worse[k]] - means[b]), 0) / 2;
  const sft = -mean(best.map((i) => means[i]));
  close(got.loss, rank + 0.5 * sft, 'rrhf loss');
  close(got['rank_loss'], rank, 'rrhf rank_loss');
  close(got['sft_loss'], sft, 'rrhf sft_loss (mean token NLL, the default)');
  close(got['rewards/accuracies'], mean(better.map((b, k) => (means[b] > means[worse[k]] ? 1 : 0))), 'rrhf accuracies');
  expectPairMetrics(got, better.map((i) => means[i]), worse.map((i) => means[i]), better.map((i) => sums[i]), worse.map((i) => sums[i]), 'rrhf');
  // The paper's summed NLL as the option.
  const paper = await run({ sftWeight: 0.5, rrhfSftReduction: 'sum' });
  const sftSum = -mean(best.map((i) => sums[i]));
  close(paper['sft_loss'], sftSum, 'rrhf sft_loss (sum)');
  close(paper.loss, rank + 0.5 * sftSum, 'rrhf loss (sum)');
  await assert.rejects(run({ rrhfSftReduction: 'median' as never }), /rrhfSftReduction must be "mean" or "sum"/);
});

test('sft: token-averaged NLL; kto with mismatched-pair and batch-mean KL estimates', async () => {
  const got = await values(tidyLoss(() => getLoss('sft').fn({ logps: pairInputs().chosen } as never, resolveHyper('sft'))));
  close(got.loss, -cSum.reduce((p, q) => p + q, 0) / cCnt.reduce((p, q) => p + q, 0), 'sft loss');

  const labels = [1, 0, 1, 1, 0, 0];
  const r = cSum.map((v, i) => v - refCSum[i]);
  const h = resolveHyper('kto', { beta: 0.2, desirableWeight: 1.5, undesirableWeight: 0.7 });
  const expectKto = (z: number) => mean(r.map((ri, i) => labels[i] ? h.desirableWeight * (1 - sigmoid(h.beta * (ri - z))) : h.undesirableWeight * (1 - sigmoid(h.beta * (z - ri)))));
  const klP = [-10, -12, -9], klR = [-11, -14, -9.5];
  const zMismatched = Math.max(0, mean(klP.map((v, i) => v - klR[i])));
  const run = (withKl: boolean) => tidyLoss(() => {
    const x = pairInputs();
    return getLoss('kto').fn({ logps: x.chosen, ref: x.refChosen, labels: tf.tensor1d(labels),
      ...(withKl ? { klPolicy: tf.tensor1d(klP), klRef: tf.tensor1d(klR) } : {}) } as never, h);
  });
  const a = await values(run(true));
  close(a.loss, expectKto(zMismatched), 'kto loss (mismatched KL)');
  close(a.kl, zMismatched, 'kto kl');
  const dIdx = labels.map((l, i) => (l ? i : -1)).filter((i) => i >= 0);
  close(a['rewards/chosen'], mean(dIdx.map((i) => h.beta * r[i])), 'kto rewards/chosen');
  const b = await values(run(false));
  const zBatch = Math.max(0, mean(r));
  close(b.loss, expectKto(zBatch), 'kto loss (batch-mean KL)');
});

test('logSigmoid is stable and its gradient is σ(−x), ½ at 0', async () => {
  const xs = [-200, -20, -1, 0, 1, 20, 200];
  const [val, grad] = tf.tidy(() => {
    const x = tf.tensor1d(xs);
    return [logSigmoid(x), tf.grad((t: tf.Tensor) => tf.sum(logSigmoid(t)))(x)];
  });
  const v = await val.data(), g = await grad.data();
  xs.forEach((x, i) => {
    close(v[i], logsig(x), `logσ(${x})`);
    close(g[i], sigmoid(-x), `d logσ(${x})`);
  });
});

test('DPO loss is ln 2 when policy = reference; registry entries are complete', async () => {
  const x = pairInputs();
  const same = { chosen: x.chosen, rejected: x.rejected, refChosen: x.chosen, refRejected: x.rejected };
  for (const name of ['dpo', 'cdpo']) {
    const got = await values(getLoss(name).fn(same as never, resolveHyper(name)));
    close(got.loss, Math.LN2, `${name} at policy = reference`, 1e-7);
  }
  for (const [name, spec] of Object.entries(LOSSES)) {
    assert.equal(spec.name, name);
    assert.ok(spec.doc.length > 20 && !spec.doc.includes('\n'), `${name} doc is one line`);
    assert.ok(['pairs', 'rankings', 'sft', 'unpaired'].includes(spec.dataKind));
  }
  assert.equal(resolveHyper('simpo').beta, 2);
  assert.equal(resolveHyper('dpo', { beta: 0.3, delta: undefined }).beta, 0.3);
  assert.throws(() => getLoss('nope'), /unknown loss "nope"/);
});

/**
 * A toy causal model: a bigram logit table W (V, V); sequence = [prompt token 0, completion tokens].
 * logp of a completion = Σ log softmax(W[prev])[next].
 */
test('one AdamW step raises the chosen log-prob and lowers the rejected one, for every method', async () => {
  const V = 6;
  const seqs = [[0, 1, 2], [0, 3, 4]]; // chosen: 1 2, rejected: 3 4 (both after prompt token 0)
  const prev = tf.tensor2d(seqs.map((s) => s.slice(0, -1)), undefined, 'int32'); // (2, 2)
  const next = tf.tensor2d(seqs.map((s) => s.slice(1)), undefined, 'int32'); // (2, 2)
  const logpsOf = (W: tf.Tensor2D) => {
    const lp = ops.pickLogProbs(ops.embedding(W, prev), next); // (2, 2)
    const sum = tf.sum(lp, 1) as tf.Tensor1D; // (2,)
    return { sum, mean: tf.div(sum, 2) as tf.Tensor1D, count: tf.tensor1d([2, 2]) };
  };
  const pick = (l: { sum: tf.Tensor1D; mean: tf.Tensor1D; count: tf.Tensor1D }, i: number) => ({
    sum: tf.slice(l.sum, [i], [1]) as tf.Tensor1D, mean: tf.slice(l.mean, [i], [1]) as tf.Tensor1D, count: tf.slice(l.count, [i], [1]) as tf.Tensor1D });
  const inputsFor: Record<DataKind, (l: ReturnType<typeof logpsOf>, ref: ReturnType<typeof logpsOf>) => unknown> = {
    pairs: (l, ref) => ({ chosen: pick(l, 0), rejected: pick(l, 1), refChosen: pick(ref, 0), refRejected: pick(ref, 1) }),
    rankings: (l) => ({ logps: l, better: tf.tensor1d([0], 'int32'), worse: tf.tensor1d([1], 'int32'), pairGroup: tf.tensor1d([0], 'int32'), best: tf.tensor1d([0], 'int32'), groups: 1 }),
    sft: (l) => ({ logps: pick(l, 0) }),
    unpaired: (l, ref) => ({ logps: l, ref, labels: tf.tensor1d([1, 0]) }),
  };
  for (const [name, spec] of Object.entries(LOSSES)) {
    const W = tf.variable(tf.randomNormal([V, V], 0, 0.1, 'float32', 7)) as tf.Variable<tf.Rank.R2>;
    const opt = new AdamW([W]);
    const before = await tf.tidy(() => logpsOf(W).sum).data();
    const refConst = tf.tidy(() => { const r = logpsOf(W); return { sum: r.sum, mean: r.mean, count: r.count }; });
    const hp = resolveHyper(name);
    const { grads } = tf.variableGrads(() => spec.fn(inputsFor[spec.dataKind](logpsOf(W), refConst) as never, hp).loss, [W]);
    opt.apply([grads[W.name]], 0.01);
    const after = await tf.tidy(() => logpsOf(W).sum).data();
    assert.ok(after[0] > before[0], `${name}: chosen logp ${before[0]} → ${after[0]} should rise`);
    if (spec.dataKind !== 'sft') assert.ok(after[1] < before[1], `${name}: rejected logp ${before[1]} → ${after[1]} should fall`);
    tf.dispose([W, grads[W.name], refConst.sum, refConst.mean, refConst.count]);
    opt.dispose();
  }
});
