/**
 * RRHF (Yuan et al. 2023): rank responses by their length-normalised log-prob p = mean token log-prob and
 * penalise every ranked pair that is out of order, plus a fine-tuning term on the best response:
 *   L = Σ_{i ranked below j} max(0, p_i − p_j)  +  sftWeight · NLL(best)
 * The ranking sum is per group (prompt) and averaged over groups. NLL(best), averaged over groups, is by
 * default the mean token NLL −p_best (`rrhfSftReduction: "mean"`): on the same per-token scale as the ranking
 * term and independent of how the batch is padded. "sum" is the paper's −Σ_t log p (grows with the best
 * response's length). No reference model. Metrics: rewards/* = p of the better and worse member of each
 * ranked pair (RRHF's own score; accuracy = share of pairs in the right order), logps/* = their summed
 * log-probs, rank_loss, sft_loss.
 */
import * as tf from '@tensorflow/tfjs-core';
import { detach, meanOf, pairMetrics } from './common';
import type { LossHyper, LossOutput, RankingInputs } from './types';

export function rrhfLoss(x: RankingInputs, hp: LossHyper): LossOutput {
  const red = hp.rrhfSftReduction;
  if (red !== 'mean' && red !== 'sum') throw new Error(`rrhf: rrhfSftReduction must be "mean" or "sum", got ${JSON.stringify(red)}`);
  const p = x.logps.mean; // (N,)
  const pBetter = tf.gather(p, x.better); // (P,)
  const pWorse = tf.gather(p, x.worse); // (P,)
  const rank = tf.div(tf.sum(tf.relu(tf.sub(pWorse, pBetter))), x.groups) as tf.Scalar; // Σ per group, mean over G
  const bestLogp = tf.gather(red === 'mean' ? p : x.logps.sum, x.best); // (G,)
  const sft = tf.neg(meanOf(bestLogp)); // mean over G of NLL(best)
  const loss = tf.add(rank, tf.mul(sft, hp.sftWeight)) as tf.Scalar;
  const b = detach(pBetter), w = detach(pWorse);
  const metrics = pairMetrics(b, w, detach(tf.gather(x.logps.sum, x.better)), detach(tf.gather(x.logps.sum, x.worse)));
  metrics['rank_loss'] = detach(rank) as tf.Scalar;
  metrics['sft_loss'] = detach(sft) as tf.Scalar;
  return { loss, metrics };
}
