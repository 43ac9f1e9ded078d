/**
 * RRHF (Yuan et al. 2023): rank responses by their length-normalised log-prob p = mean token log-prob and
 * penalise every ranked pair that is out of order, plus a fine-tuning term on the best response:
 *   L = Σ_{i ranked below j} max(0, p_i − p_j)  +  sftWeight · (−p_best)
 * The ranking sum is per group (prompt) and averaged over groups; −p_best is the mean-token NLL of the
 * group's best response, averaged over groups. No reference model. Rewards metrics: p of the better and
 * worse member of each ranked pair (accuracy = share of pairs in the right order).
 */
import * as tf from '@tensorflow/tfjs-core';
import { detach, meanOf, pairMetrics } from './common';
import type { LossHyper, LossOutput, RankingInputs } from './types';

export function rrhfLoss(x: RankingInputs, hp: LossHyper): LossOutput {
  const p = x.logps.mean; // (N,)
  const pBetter = tf.gather(p, x.better); // (P,)
  const pWorse = tf.gather(p, x.worse); // (P,)
  const rank = tf.div(tf.sum(tf.relu(tf.sub(pWorse, pBetter))), x.groups) as tf.Scalar; // Σ per group, mean over G
  const sft = tf.neg(meanOf(tf.gather(p, x.best))); // mean over G of −p_best
  const loss = tf.add(rank, tf.mul(sft, hp.sftWeight)) as tf.Scalar;
  const b = detach(pBetter), w = detach(pWorse);
  const metrics = pairMetrics(b, w, b, w);
  metrics['rank_loss'] = detach(rank) as tf.Scalar;
  metrics['sft_loss'] = detach(sft) as tf.Scalar;
  return { loss, metrics };
}
