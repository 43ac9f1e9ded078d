/**
 * Supervised fine-tuning loss: the token-averaged negative log-likelihood of the target completions over
 * the whole batch (Σ −log p over all completion tokens / number of completion tokens), as TRL's SFTTrainer.
 */
import * as tf from '@tensorflow/tfjs-core';
import { detach, meanOf } from './common';
import type { LossHyper, LossOutput, SftInputs } from './types';

export function sftLoss(x: SftInputs, _hp: LossHyper): LossOutput {
  const tokens = tf.maximum(tf.sum(x.logps.count), 1);
  const loss = tf.div(tf.neg(tf.sum(x.logps.sum)), tokens) as tf.Scalar;
  return { loss, metrics: { 'logps/chosen': meanOf(detach(x.logps.sum)) } };
}
