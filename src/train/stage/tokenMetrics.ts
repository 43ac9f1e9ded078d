/**
 * TRL's token-level metrics of a micro-batch, from the per-row sums `sequenceLogps(…, { tokenStats: true })`
 * returns (positions = completion tokens, the logits at t scoring token t+1, as TRL's shift_logits):
 *   entropy             Σ over the completion tokens of every chosen and rejected row of −Σ_v p log p, / their count
 *   logits/chosen       Σ over the chosen rows' completion tokens of the mean logit over the vocabulary, / their count
 *   logits/rejected     the same over the rejected rows
 *   mean_token_accuracy share of the chosen rows' completion tokens whose argmax logit is the token itself
 * Which rows are "chosen" and "rejected" is the data kind's (batching.ts `roles`). A role with no rows in the
 * micro-batch gives no value. Constants: no gradient flows through them.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { SequenceLogps } from '../../engine/types';

/** Indices into a micro-batch's stacked sequences: which are "chosen" and which "rejected" for the metrics. */
export interface SequenceRoles {
  chosen: number[];
  rejected: number[];
}

/** Σ x[idx] / max(Σ count[idx], 1) as a scalar. */
function perToken(x: tf.Tensor1D, count: tf.Tensor1D, idx: number[]): tf.Scalar {
  const i = tf.tensor1d(idx, 'int32');
  return tf.div(tf.sum(tf.gather(x, i)), tf.maximum(tf.sum(tf.gather(count, i)), 1)) as tf.Scalar;
}

/** entropy, logits/chosen, logits/rejected, mean_token_accuracy of one micro-batch (see the file comment). */
export function tokenMetrics(l: SequenceLogps, roles: SequenceRoles): Record<string, tf.Scalar> {
  const s = l.tokenStats;
  if (!s) throw new Error('tokenMetrics needs sequenceLogps(…, { tokenStats: true })');
  const out: Record<string, tf.Scalar> = {};
  const both = [...roles.chosen, ...roles.rejected];
  if (both.length > 0) out['entropy'] = perToken(s.entropy, l.count, both);
  if (roles.chosen.length > 0) {
    out['logits/chosen'] = perToken(s.meanLogit, l.count, roles.chosen);
    out['mean_token_accuracy'] = perToken(s.correct, l.count, roles.chosen);
  }
  if (roles.rejected.length > 0) out['logits/rejected'] = perToken(s.meanLogit, l.count, roles.rejected);
  return out;
}
