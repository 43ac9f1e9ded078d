/**
 * Causal self-attention for both families, with grouped-query attention (num_key_value_heads < heads:
 * query head h uses key/value head ⌊h / (H/Hkv)⌋, as HF's repeat_kv) and an optional KV cache.
 * Without a cache the fast path is ops.causalAttention; with one, queries at absolute positions
 * Tpast..Tpast+Tq−1 attend to all cached and new keys under a causal + padding bias of −1e9, and
 * tf.softmax subtracts the row maximum, so fully masked rows (left padding) stay finite.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as ops from './ops';

/** (B, Hkv, T, Dh) → (B, Hkv·g, T, Dh), each kv head repeated g times consecutively. */
export function repeatKv(x: tf.Tensor4D, g: number): tf.Tensor4D {
  if (g === 1) return x;
  const [B, Hkv, T, Dh] = x.shape;
  const flat = tf.reshape(x, [B * Hkv, 1, T * Dh]); // (B·Hkv, 1, T·Dh)
  return tf.reshape(tf.tile(flat, [1, g, 1]), [B, Hkv * g, T, Dh]);
}

/**
 * Additive bias (B, 1, Tq, Tk): 0 where query i (absolute position past + i) may see key j (j ≤ past + i
 * and keyMask[b, j] = 1), −1e9 elsewhere. keyMask (B, Tk) float32 covers past and new keys.
 */
export function cachedAttentionBias(keyMask: tf.Tensor2D, past: number, tq: number): tf.Tensor4D {
  const [B, Tk] = keyMask.shape;
  const causal = new Float32Array(tq * Tk);
  for (let i = 0; i < tq; i++) for (let j = 0; j <= past + i && j < Tk; j++) causal[i * Tk + j] = 1;
  return tf.tidy(() => {
    const allowed = tf.mul(tf.tensor4d(causal, [1, 1, tq, Tk]), tf.reshape(keyMask, [B, 1, 1, Tk])); // (B, 1, Tq, Tk)
    return tf.mul(tf.sub(1, allowed), -1e9) as tf.Tensor4D;
  });
}

/** Output and the full keys/values (past + new) to cache. */
export interface AttentionResult {
  out: tf.Tensor4D; // (B, H, Tq, Dh)
  k: tf.Tensor4D; // (B, Hkv, Tpast + Tq, Dh)
  v: tf.Tensor4D; // (B, Hkv, Tpast + Tq, Dh)
}

/**
 * q (B, H, Tq, Dh); k, v (B, Hkv, Tq, Dh) for the new tokens; keyMask (B, Tpast + Tq);
 * past: cached (B, Hkv, Tpast, Dh) keys/values or null.
 */
export function selfAttention(
  q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, keyMask: tf.Tensor2D, past: { k: tf.Tensor4D; v: tf.Tensor4D } | null,
): AttentionResult {
  const [, H, Tq, Dh] = q.shape;
  const g = H / k.shape[1];
  const kAll = past ? (tf.concat([past.k, k], 2) as tf.Tensor4D) : k; // (B, Hkv, Tk, Dh)
  const vAll = past ? (tf.concat([past.v, v], 2) as tf.Tensor4D) : v;
  const kRep = repeatKv(kAll, g); // (B, H, Tk, Dh)
  const vRep = repeatKv(vAll, g);
  let out: tf.Tensor4D;
  if (!past) {
    out = ops.causalAttention(q, kRep, vRep, keyMask);
  } else {
    const scores = tf.mul(tf.matMul(q, kRep, false, true), 1 / Math.sqrt(Dh)); // (B, H, Tq, Tk)
    const probs = tf.softmax(tf.add(scores, cachedAttentionBias(keyMask, past.k.shape[2], Tq))); // (B, H, Tq, Tk)
    out = tf.matMul(probs, vRep) as tf.Tensor4D; // (B, H, Tq, Dh)
  }
  return { out, k: kAll, v: vAll };
}
