/**
 * Shared by the engine benchmark (bench/engine.bench.ts), the LoRA benchmark (bench/lora.bench.ts) and the
 * GPU benchmark (bench/gpu-bench-main.ts): model shapes, the training step that is timed (forward +
 * backward + SGD update of the real GPT-2 model from src/engine, next-token loss through
 * ops.pickLogProbs; or LoRA adapters only, updated by the trainer's AdamW), and the FLOP count.
 *
 * FLOPs per step = 6·P·B·T + 12·L·B·T²·D, where P counts the parameters that take part in matrix
 * products (12·L·D² for the blocks with a 4·D MLP, plus the tied LM head V·D; not the embedding
 * lookups, norms or biases) and the second term is attention (QKᵀ and P·V: 2·B·T²·D each per layer
 * forward, ×3 for forward + backward; the causal half is computed in full).
 */
import * as tf from '@tensorflow/tfjs-core';
import { gpt2ConfigJson, parseConfig } from '../src/engine/config';
import { createRandomModel } from '../src/engine/models';
import { enableLora, loraParameterCount } from '../src/engine/lora';
import * as ops from '../src/engine/ops';
import { AdamW } from '../src/train/stage/optimizer';

/** One benchmarked model shape with its batch. */
export interface BenchShape {
  name: string;
  vocab: number;
  dModel: number;
  layers: number;
  heads: number;
  batch: number;
  seqLen: number;
}

/** The built-in model's shape (4 layers, d=128, byte vocabulary) and GPT-2 small (124 M parameters). */
export const TINY: BenchShape = { name: 'tiny', vocab: 259, dModel: 128, layers: 4, heads: 4, batch: 8, seqLen: 128 };
export const GPT2_SMALL: BenchShape = { name: 'gpt2-small', vocab: 50257, dModel: 768, layers: 12, heads: 12, batch: 2, seqLen: 64 };

/** Parameters taking part in matrix products (see the file comment). */
export function matmulParams(s: BenchShape): number {
  return 12 * s.layers * s.dModel ** 2 + s.vocab * s.dModel;
}

/** FLOPs of one forward + backward step (see the file comment). */
export function stepFlops(s: BenchShape): number {
  return 6 * matmulParams(s) * s.batch * s.seqLen + 12 * s.layers * s.batch * s.seqLen ** 2 * s.dModel;
}

/** Result of timing a few training steps. */
export interface TrainingTiming {
  tokensPerSec: number;
  gflops: number;
  stepMs: number;
  /** Loss of the warm-up step (initial weights: equal across backends/kernels for the same seed). */
  firstLoss: number;
  lastLoss: number;
  /** Parameters updated by the step (all weights, or the adapters under LoRA). */
  trainableParams: number;
}

/** Optional variant of the timed step: LoRA adapters (rank r on `targets`) trained with AdamW instead of SGD on every weight. */
export interface TrainingVariant {
  lora?: { r: number; alpha: number; targets: string[] };
  /** Full training with the trainer's AdamW (as PyTorch's nanoGPT step) instead of SGD. */
  adamw?: boolean;
}

/** Deterministic token ids in [0, vocab) as (B, T) int32. */
function syntheticIds(B: number, T: number, vocab: number, seed: number): tf.Tensor2D {
  let s = seed >>> 0;
  const ids = new Int32Array(B * T);
  for (let i = 0; i < ids.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    ids[i] = s % vocab;
  }
  return tf.tensor2d(ids, [B, T], 'int32');
}

/** Times `steps` training steps after one warm-up step, on the active backend. */
export async function timeTraining(shape: BenchShape, steps: number, seed = 1, variant: TrainingVariant = {}): Promise<TrainingTiming> {
  const config = parseConfig(
    gpt2ConfigJson({ vocabSize: shape.vocab, maxPositions: Math.max(shape.seqLen, 128), hiddenSize: shape.dModel, numLayers: shape.layers, numHeads: shape.heads }),
    `bench ${shape.name}`,
  );
  const model = createRandomModel(config, seed);
  const B = shape.batch, T = shape.seqLen;
  const ids = syntheticIds(B, T, shape.vocab, seed + 2);
  const mask = tf.ones([B, T]) as tf.Tensor2D;
  if (variant.lora) enableLora(model, { r: variant.lora.r, alpha: variant.lora.alpha, targetModules: variant.lora.targets, seed });
  const vars = model.trainableVariables();
  const adamw = variant.lora || variant.adamw ? new AdamW(vars) : null;
  const opt = tf.train.sgd(0.01);
  const loss = (): tf.Scalar => {
    const logits = model.forward(ids, mask); // (B, T, V)
    const inputs = tf.slice(logits, [0, 0, 0], [B, T - 1, shape.vocab]) as tf.Tensor3D; // (B, T-1, V)
    const targets = tf.slice(ids, [0, 1], [B, T - 1]) as tf.Tensor2D; // (B, T-1)
    return tf.neg(tf.mean(ops.pickLogProbs(inputs, targets))) as tf.Scalar;
  };
  const step = async (): Promise<number> => {
    const { value, grads } = tf.variableGrads(loss, vars);
    if (adamw) adamw.apply(vars.map((v) => grads[v.name]), 1e-3);
    else opt.applyGradients(grads);
    tf.dispose(grads);
    const l = (await value.data())[0];
    value.dispose();
    return l;
  };
  try {
    const firstLoss = await step();
    let lastLoss = firstLoss;
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) lastLoss = await step();
    const stepMs = (performance.now() - t0) / steps;
    return {
      tokensPerSec: (B * T) / (stepMs / 1000),
      gflops: stepFlops(shape) / (stepMs / 1000) / 1e9,
      stepMs,
      firstLoss,
      lastLoss,
      trainableParams: variant.lora ? loraParameterCount(model) : model.parameterCount(),
    };
  } finally {
    opt.dispose();
    adamw?.dispose();
    model.dispose();
    tf.dispose([ids, mask]);
  }
}

/** GFLOP/s of an n×n float32 product on the active backend (reads the result back each time). */
export async function matmulGflops(n: number, reps: number): Promise<number> {
  const a = tf.randomNormal([n, n]);
  const b = tf.randomNormal([n, n]);
  await tf.matMul(a, b).data();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) {
    const c = tf.matMul(a, b);
    await c.data();
    c.dispose();
  }
  const s = (performance.now() - t0) / 1000 / reps;
  tf.dispose([a, b]);
  return (2 * n ** 3) / s / 1e9;
}

export const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;
