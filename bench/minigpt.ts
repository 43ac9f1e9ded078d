/**
 * A minimal GPT-2-shaped causal LM built only from src/engine/ops.ts, for the engine benchmark and the
 * kernel leak test while (and independently of) the real model in src/engine. Pre-LayerNorm blocks,
 * separate q/k/v weights (slicing activations is slow on wasm), GELU MLP, tied LM head.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as ops from '../src/engine/ops';

/** Shape of the mini model. */
export interface MiniGptConfig {
  /** Vocabulary size V. */
  vocab: number;
  /** Model width D. */
  dModel: number;
  /** Number of transformer blocks L. */
  layers: number;
  /** Attention heads H (D must be divisible by H). */
  heads: number;
  /** Longest sequence T the position table covers. */
  maxPositions: number;
}

interface Block {
  ln1g: tf.Variable; ln1b: tf.Variable; wq: tf.Variable; wk: tf.Variable; wv: tf.Variable;
  bq: tf.Variable; bk: tf.Variable; bv: tf.Variable; wo: tf.Variable; bo: tf.Variable;
  ln2g: tf.Variable; ln2b: tf.Variable; wfc: tf.Variable; bfc: tf.Variable; wproj: tf.Variable; bproj: tf.Variable;
}

/** The mini GPT: variables plus forward/loss. */
export class MiniGpt {
  readonly wte: tf.Variable; // (V, D)
  readonly wpe: tf.Variable; // (P, D)
  readonly lnfG: tf.Variable;
  readonly lnfB: tf.Variable;
  readonly blocks: Block[] = [];

  constructor(readonly config: MiniGptConfig, seed = 1) {
    const { vocab: V, dModel: D, layers: L, maxPositions: P } = config;
    let s = seed;
    const own = (t: tf.Tensor) => {
      const v = tf.variable(t);
      t.dispose();
      return v;
    };
    const w = (shape: number[], std = 0.02) => own(tf.randomNormal(shape, 0, std, 'float32', s++));
    const z = (n: number) => own(tf.zeros([n]));
    const o = (n: number) => own(tf.ones([n]));
    this.wte = w([V, D]);
    this.wpe = w([P, D], 0.01);
    for (let l = 0; l < L; l++) {
      this.blocks.push({
        ln1g: o(D), ln1b: z(D), wq: w([D, D]), wk: w([D, D]), wv: w([D, D]), bq: z(D), bk: z(D), bv: z(D),
        wo: w([D, D], 0.02 / Math.sqrt(2 * L)), bo: z(D), ln2g: o(D), ln2b: z(D),
        wfc: w([D, 4 * D]), bfc: z(4 * D), wproj: w([4 * D, D], 0.02 / Math.sqrt(2 * L)), bproj: z(D),
      });
    }
    this.lnfG = o(D);
    this.lnfB = z(D);
  }

  /** Every variable. */
  variables(): tf.Variable[] {
    return [this.wte, this.wpe, this.lnfG, this.lnfB, ...this.blocks.flatMap((b) => Object.values(b) as tf.Variable[])];
  }

  /** Parameters that take part in matrix products (all weight matrices + the tied head), for FLOP counts. */
  static matmulParamsOf(config: MiniGptConfig): number {
    const { vocab: V, dModel: D, layers: L } = config;
    return L * 12 * D * D + V * D;
  }

  /** ids (B, T) int32, mask (B, T) float32 → logits (B, T, V). */
  forward(ids: tf.Tensor2D, mask: tf.Tensor2D): tf.Tensor3D {
    const [B, T] = ids.shape;
    const { dModel: D, heads: H } = this.config;
    const Dh = D / H;
    const pos = tf.slice(this.wpe, [0, 0], [T, D]); // (T, D)
    let x = tf.add(ops.embedding(this.wte as tf.Tensor as tf.Tensor2D, ids), pos) as tf.Tensor3D; // (B, T, D)
    const toHeads = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [B, T, H, Dh]), [0, 2, 1, 3]) as tf.Tensor4D; // (B, H, T, Dh)
    for (const b of this.blocks) {
      const h = ops.layerNorm(x, b.ln1g as tf.Tensor as tf.Tensor1D, b.ln1b as tf.Tensor as tf.Tensor1D);
      const q = toHeads(ops.linear(h, b.wq as tf.Tensor as tf.Tensor2D, b.bq as tf.Tensor as tf.Tensor1D));
      const k = toHeads(ops.linear(h, b.wk as tf.Tensor as tf.Tensor2D, b.bk as tf.Tensor as tf.Tensor1D));
      const v = toHeads(ops.linear(h, b.wv as tf.Tensor as tf.Tensor2D, b.bv as tf.Tensor as tf.Tensor1D));
      const att = ops.causalAttention(q, k, v, mask); // (B, H, T, Dh)
      const merged = tf.reshape(tf.transpose(att, [0, 2, 1, 3]), [B, T, D]); // (B, T, D)
      x = tf.add(x, ops.linear(merged, b.wo as tf.Tensor as tf.Tensor2D, b.bo as tf.Tensor as tf.Tensor1D));
      const h2 = ops.layerNorm(x, b.ln2g as tf.Tensor as tf.Tensor1D, b.ln2b as tf.Tensor as tf.Tensor1D);
      const m = ops.gelu(ops.linear(h2, b.wfc as tf.Tensor as tf.Tensor2D, b.bfc as tf.Tensor as tf.Tensor1D));
      x = tf.add(x, ops.linear(m, b.wproj as tf.Tensor as tf.Tensor2D, b.bproj as tf.Tensor as tf.Tensor1D));
    }
    const hf = ops.layerNorm(x, this.lnfG as tf.Tensor as tf.Tensor1D, this.lnfB as tf.Tensor as tf.Tensor1D);
    const logits = tf.matMul(tf.reshape(hf, [B * T, D]), this.wte, false, true); // (B·T, V)
    return tf.reshape(logits, [B, T, this.config.vocab]) as tf.Tensor3D;
  }

  /** Mean next-token negative log-likelihood over positions 0..T-2. ids (B, T) int32. */
  loss(ids: tf.Tensor2D, mask: tf.Tensor2D): tf.Scalar {
    const [B, T] = ids.shape;
    const logits = this.forward(ids, mask); // (B, T, V)
    const inputs = tf.slice(logits, [0, 0, 0], [B, T - 1, this.config.vocab]) as tf.Tensor3D; // (B, T-1, V)
    const targets = tf.slice(ids, [0, 1], [B, T - 1]) as tf.Tensor2D; // (B, T-1)
    const lp = ops.pickLogProbs(inputs, targets); // (B, T-1)
    const m = tf.slice(mask, [0, 1], [B, T - 1]);
    return tf.neg(tf.div(tf.sum(tf.mul(lp, m)), tf.sum(m))) as tf.Scalar;
  }

  dispose(): void {
    for (const v of this.variables()) v.dispose();
  }
}

/** Deterministic token ids in [0, vocab) as an int32 (B, T) tensor, and an all-ones mask. */
export function syntheticBatch(B: number, T: number, vocab: number, seed = 3): { ids: tf.Tensor2D; mask: tf.Tensor2D } {
  let s = seed >>> 0;
  const ids = new Int32Array(B * T);
  for (let i = 0; i < ids.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    ids[i] = s % vocab;
  }
  return { ids: tf.tensor2d(ids, [B, T], 'int32'), mask: tf.ones([B, T]) as tf.Tensor2D };
}
