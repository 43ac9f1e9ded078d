/**
 * Reference-based pairwise losses (DPO family). r = β·(log πθ(y|x) − log πref(y|x)) over a whole
 * completion; Δ = (log-ratio of chosen) − (log-ratio of rejected). Metrics as TRL's DPOTrainer logs them for
 * every loss type: rewards/* = β·(policy − reference) SUMMED log-probs and logps/* = summed policy log-probs,
 * IPO included (its loss uses length-averaged log-ratios; that quantity is logged as ipo/length_averaged_margin).
 */
import * as tf from '@tensorflow/tfjs-core';
import { detach, logSigmoid, meanOf, pairMetrics, requireRef } from './common';
import type { LossHyper, LossOutput, PairInputs } from './types';

/** Log-ratios (policy − reference) of chosen and rejected, as sums or length-averaged means. */
function logRatios(x: PairInputs, method: string, averaged: boolean): { chosen: tf.Tensor; rejected: tf.Tensor } {
  const rc = requireRef(x.refChosen, method);
  const rr = requireRef(x.refRejected, method);
  return averaged
    ? { chosen: tf.sub(x.chosen.mean, rc.mean), rejected: tf.sub(x.rejected.mean, rr.mean) }
    : { chosen: tf.sub(x.chosen.sum, rc.sum), rejected: tf.sub(x.rejected.sum, rr.sum) };
}

/**
 * Shared tail of every method here: per-row losses → mean loss + TRL metrics (always from summed log-probs),
 * plus TRL's rpo_alpha term when rpoAlpha > 0 (RPO, Pang et al. 2024): α · NLL(chosen), the negative
 * log-likelihood of the batch's chosen completions averaged over their tokens (TRL's cross-entropy over the
 * chosen labels), logged as nll_loss. It keeps the chosen responses likely while the pair term pushes the
 * rejected ones down (plain DPO lowers both on small models).
 */
function finish(perRow: tf.Tensor, x: PairInputs, hp: LossHyper, method: string): LossOutput {
  const lr = logRatios(x, method, false);
  const chosenRewards = detach(tf.mul(lr.chosen, hp.beta)); // (B,)
  const rejectedRewards = detach(tf.mul(lr.rejected, hp.beta)); // (B,)
  const metrics = pairMetrics(chosenRewards, rejectedRewards, detach(x.chosen.sum), detach(x.rejected.sum));
  const pairLoss = meanOf(perRow);
  if (!(hp.rpoAlpha > 0)) return { loss: pairLoss, metrics };
  const nll = tf.neg(tf.div(tf.sum(x.chosen.sum), tf.maximum(tf.sum(x.chosen.count), 1))) as tf.Scalar; // token mean over the batch
  metrics['nll_loss'] = detach(nll);
  return { loss: tf.add(pairLoss, tf.mul(nll, hp.rpoAlpha)) as tf.Scalar, metrics };
}

/** DPO (Rafailov et al. 2023): −log σ(βΔ). */
export function dpoLoss(x: PairInputs, hp: LossHyper): LossOutput {
  const lr = logRatios(x, 'dpo', false);
  const logits = tf.mul(tf.sub(lr.chosen, lr.rejected), hp.beta); // (B,) βΔ
  return finish(tf.neg(logSigmoid(logits)), x, hp, 'dpo');
}

/** Conservative DPO (Mitchell 2023, TRL "sigmoid" with label_smoothing): −(1−ε) log σ(βΔ) − ε log σ(−βΔ). */
export function cdpoLoss(x: PairInputs, hp: LossHyper): LossOutput {
  const eps = hp.labelSmoothing;
  const lr = logRatios(x, 'cdpo', false);
  const logits = tf.mul(tf.sub(lr.chosen, lr.rejected), hp.beta);
  const perRow = tf.neg(tf.add(tf.mul(logSigmoid(logits), 1 - eps), tf.mul(logSigmoid(tf.neg(logits)), eps)));
  return finish(perRow, x, hp, 'cdpo');
}

/** Robust DPO (Chowdhury et al. 2024, TRL "robust"): [−(1−ε) log σ(βΔ) + ε log σ(−βΔ)] / (1 − 2ε), ε < 0.5. */
export function robustLoss(x: PairInputs, hp: LossHyper): LossOutput {
  const eps = hp.labelSmoothing;
  if (!(eps >= 0 && eps < 0.5)) throw new Error(`robust: labelSmoothing ε must be in [0, 0.5), got ${eps}`);
  const lr = logRatios(x, 'robust', false);
  const logits = tf.mul(tf.sub(lr.chosen, lr.rejected), hp.beta);
  const num = tf.add(tf.mul(logSigmoid(logits), -(1 - eps)), tf.mul(logSigmoid(tf.neg(logits)), eps));
  return finish(tf.div(num, 1 - 2 * eps), x, hp, 'robust');
}

/** IPO (Azar et al. 2023): (Δ̄ − 1/(2β))², Δ̄ from length-averaged log-probs (as TRL does). */
export function ipoLoss(x: PairInputs, hp: LossHyper): LossOutput {
  const lr = logRatios(x, 'ipo', true);
  const margin = tf.sub(lr.chosen, lr.rejected); // (B,) Δ̄
  const d = tf.sub(margin, 1 / (2 * hp.beta)); // (B,)
  const out = finish(tf.mul(d, d), x, hp, 'ipo');
  out.metrics['ipo/length_averaged_margin'] = meanOf(detach(margin));
  return out;
}

/** Hinge (SLiC-style on the DPO log-ratio, TRL "hinge"): max(0, 1 − βΔ). */
export function hingeLoss(x: PairInputs, hp: LossHyper): LossOutput {
  const lr = logRatios(x, 'hinge', false);
  const logits = tf.mul(tf.sub(lr.chosen, lr.rejected), hp.beta);
  return finish(tf.relu(tf.sub(1, logits)), x, hp, 'hinge');
}
