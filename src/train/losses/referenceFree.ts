/**
 * Pairwise losses that need no reference model: SLiC-HF, SimPO and ORPO. Their rewards/* are the policy-only
 * rewards TRL's CPO/ORPO trainers log (documented per method); logps/* are always the SUMMED policy log-probs,
 * as for every method (TRL's DPOTrainer meaning, so runs of different methods compare).
 */
import * as tf from '@tensorflow/tfjs-core';
import { detach, logSigmoid, meanOf, pairMetrics } from './common';
import type { LossHyper, LossOutput, PairInputs } from './types';

/**
 * SLiC-HF (Zhao et al. 2023): max(0, δ − log πθ(y_w) + log πθ(y_l)) − λ·log πθ(y_ref), with y_ref = the
 * chosen response (the SFT target). Log-probs are SUMS over completion tokens (sequence likelihoods), and
 * the regulariser is averaged over the batch like the hinge. Rewards metrics: the summed log-probs (β = 1).
 */
export function slicLoss(x: PairInputs, hp: LossHyper): LossOutput {
  const hinge = tf.relu(tf.add(tf.sub(x.rejected.sum, x.chosen.sum), hp.delta)); // (B,)
  const perRow = tf.sub(hinge, tf.mul(x.chosen.sum, hp.lambda)); // (B,)
  const c = detach(x.chosen.sum), r = detach(x.rejected.sum);
  return { loss: meanOf(perRow), metrics: pairMetrics(c, r, c, r) };
}

/**
 * SimPO (Meng et al. 2024): −log σ(β·(p̄_w − p̄_l) − γ), p̄ = length-averaged log-prob. Same as TRL's CPO
 * trainer with loss_type="simpo" (which subtracts γ/β before scaling by β). Rewards: β·p̄ (TRL's choice);
 * logps/*: summed log-probs.
 */
export function simpoLoss(x: PairInputs, hp: LossHyper): LossOutput {
  const logits = tf.sub(tf.mul(tf.sub(x.chosen.mean, x.rejected.mean), hp.beta), hp.gamma); // (B,)
  const perRow = tf.neg(logSigmoid(logits));
  const c = detach(x.chosen.mean), r = detach(x.rejected.mean);
  return { loss: meanOf(perRow), metrics: pairMetrics(tf.mul(c, hp.beta), tf.mul(r, hp.beta), detach(x.chosen.sum), detach(x.rejected.sum)) };
}

/** log(1 − exp(x)) for x < 0, as log(−expm1(x)); x is clipped to ≤ −1e-6 so a certain sequence stays finite. */
function log1mExp(x: tf.Tensor): tf.Tensor {
  return tf.log(tf.neg(tf.expm1(tf.minimum(x, -1e-6))));
}

/**
 * ORPO (Hong et al. 2024, as TRL): NLL(chosen) − λ·mean(log σ(log odds ratio)), where
 * log odds ratio = (p̄_w − p̄_l) − (log(1 − e^{p̄_w}) − log(1 − e^{p̄_l})) on length-averaged log-probs and
 * NLL(chosen) is the token-averaged cross-entropy of the chosen completions. λ is `beta` (TRL: 0.1).
 * Rewards: β·p̄ (TRL's ORPOTrainer); logps/*: summed log-probs; extra metrics nll_loss, log_odds_ratio,
 * log_odds_chosen (TRL's names).
 */
export function orpoLoss(x: PairInputs, hp: LossHyper): LossOutput {
  const pw = x.chosen.mean, pl = x.rejected.mean; // (B,)
  const logOdds = tf.sub(tf.sub(pw, pl), tf.sub(log1mExp(pw), log1mExp(pl))); // (B,)
  const ratio = logSigmoid(logOdds); // (B,)
  const nll = tf.div(tf.neg(tf.sum(x.chosen.sum)), tf.maximum(tf.sum(x.chosen.count), 1)) as tf.Scalar;
  const loss = tf.sub(nll, tf.mul(meanOf(ratio), hp.beta)) as tf.Scalar;
  const c = detach(pw), r = detach(pl);
  const metrics = pairMetrics(tf.mul(c, hp.beta), tf.mul(r, hp.beta), detach(x.chosen.sum), detach(x.rejected.sum));
  metrics['nll_loss'] = detach(nll) as tf.Scalar;
  metrics['log_odds_ratio'] = meanOf(detach(ratio));
  metrics['log_odds_chosen'] = meanOf(detach(logOdds));
  return { loss, metrics };
}
