/**
 * KTO (Ethayarajh et al. 2024, as TRL's KTOTrainer). With r = log πθ(y|x) − log πref(y|x) (sums) and a KL
 * estimate z (detached, clamped at 0):
 *   desirable:   w_D · (1 − σ(β(r − z)))       undesirable:   w_U · (1 − σ(β(z − r)))
 * loss = mean over the batch. z = mean over mismatched pairs (prompt i with another row's completion) of
 * (policy − ref) sums when those are supplied (TRL's estimate), else the batch mean of the rows' own r.
 * Rewards: β·r of desirable rows (rewards/chosen) and undesirable rows (rewards/rejected); accuracies =
 * share of desirable rows with r > z and undesirable rows with r < z. Extra metric: kl.
 */
import * as tf from '@tensorflow/tfjs-core';
import { detach } from './common';
import type { LossHyper, LossOutput, UnpairedInputs } from './types';

/** Mean of x over the rows where mask = 1 (0 when none). */
function maskedMean(x: tf.Tensor, mask: tf.Tensor): tf.Scalar {
  return tf.div(tf.sum(tf.mul(x, mask)), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
}

export function ktoLoss(x: UnpairedInputs, hp: LossHyper): LossOutput {
  const r = tf.sub(x.logps.sum, x.ref.sum); // (B,)
  const klRaw = x.klPolicy && x.klRef ? tf.mean(tf.sub(x.klPolicy, x.klRef)) : tf.mean(r);
  const z = detach(tf.maximum(klRaw, 0)); // ()
  const des = x.labels; // (B,) 1/0
  const und = tf.sub(1, des);
  const desLoss = tf.mul(tf.sub(1, tf.sigmoid(tf.mul(tf.sub(r, z), hp.beta))), hp.desirableWeight); // (B,)
  const undLoss = tf.mul(tf.sub(1, tf.sigmoid(tf.mul(tf.sub(z, r), hp.beta))), hp.undesirableWeight); // (B,)
  const perRow = tf.add(tf.mul(desLoss, des), tf.mul(undLoss, und));
  const loss = tf.mean(perRow) as tf.Scalar;
  const rewards = detach(tf.mul(r, hp.beta));
  const right = tf.add(tf.mul(tf.cast(tf.greater(r, z), 'float32'), des), tf.mul(tf.cast(tf.less(r, z), 'float32'), und));
  const metrics: Record<string, tf.Scalar> = {
    'rewards/chosen': maskedMean(rewards, des),
    'rewards/rejected': maskedMean(rewards, und),
    'rewards/margins': tf.sub(maskedMean(rewards, des), maskedMean(rewards, und)) as tf.Scalar,
    'rewards/accuracies': tf.mean(detach(right)) as tf.Scalar,
    'logps/chosen': maskedMean(detach(x.logps.sum), des),
    'logps/rejected': maskedMean(detach(x.logps.sum), und),
    kl: z as tf.Scalar,
  };
  return { loss, metrics };
}
