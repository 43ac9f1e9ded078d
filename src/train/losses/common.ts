/**
 * Numerical helpers shared by the losses: a stable log-sigmoid with the exact gradient σ(−x), batch means
 * and the TRL-named reward metrics of pairwise methods.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';

/**
 * log σ(x) = −softplus(−x), computed as −(max(−x, 0) + log1p(exp(−|x|))) so it never overflows; the
 * gradient is written by hand as σ(−x) (autodiff through max/abs would give 1 instead of ½ at x = 0).
 */
export const logSigmoid: (x: tf.Tensor) => tf.Tensor = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x]);
  const value = tf.neg(tf.add(tf.relu(tf.neg(x)), tf.log1p(tf.exp(tf.neg(tf.abs(x))))));
  return { value, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, tf.sigmoid(tf.neg(saved[0]))) };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor) => tf.Tensor;

/** Mean of a (B,) tensor as a scalar. */
export function meanOf(x: tf.Tensor): tf.Scalar {
  return tf.mean(x) as tf.Scalar;
}

/**
 * TRL's pairwise metrics: rewards/chosen, rewards/rejected, rewards/accuracies (share with chosen reward
 * strictly above rejected), rewards/margins, logps/chosen, logps/rejected (policy log-probs as given).
 * Rewards are treated as constants (no gradient flows through metrics).
 */
export function pairMetrics(
  chosenRewards: tf.Tensor, // (B,)
  rejectedRewards: tf.Tensor, // (B,)
  chosenLogps: tf.Tensor, // (B,)
  rejectedLogps: tf.Tensor, // (B,)
): Record<string, tf.Scalar> {
  return {
    'rewards/chosen': meanOf(chosenRewards),
    'rewards/rejected': meanOf(rejectedRewards),
    'rewards/accuracies': meanOf(tf.cast(tf.greater(chosenRewards, rejectedRewards), 'float32')),
    'rewards/margins': meanOf(tf.sub(chosenRewards, rejectedRewards)),
    'logps/chosen': meanOf(chosenLogps),
    'logps/rejected': meanOf(rejectedLogps),
  };
}

/** The reference log-probs of a method that needs them, or a clear error. */
export function requireRef<T>(ref: T | undefined, method: string): T {
  if (!ref) throw new Error(`loss "${method}" needs reference log-probs, but none were supplied`);
  return ref;
}

/**
 * Identity whose gradient is zero (tfjs has no stop_gradient): used for KTO's KL estimate and to mark
 * metric tensors as constants.
 */
export const detach: <T extends tf.Tensor>(x: T) => T = tf.customGrad(((x: tf.Tensor) => ({
  value: tf.clone(x),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as <T extends tf.Tensor>(x: T) => T;
