/**
 * Shared helpers of the engine tests: models whose every weight (norms and biases included) is random, so
 * no term can hide behind a zero or a one, and their weights read back in the HF layout as float64.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from '../../src/engine/config';
import { createRandomModel, paramToHf } from '../../src/engine/models';
import type { TransformerLM } from '../../src/engine/transformer';
import { rng, type Weights } from './engine-reference';

/** A model with every weight random: norms 1 ± 0.3, everything else ± 0.35. */
export function randomModel(config: ModelConfig, seed: number): TransformerLM {
  const m = createRandomModel(config, seed);
  const r = rng(seed + 100);
  for (const p of m.params.values()) {
    const isNorm = /(ln_|norm)/.test(p.spec.name) && p.spec.name.endsWith('weight');
    const vals = Float32Array.from({ length: p.variable.size }, () => (isNorm ? 1 + 0.3 * r() : 0.35 * r()));
    const t = tf.tensor(vals, p.variable.shape);
    p.variable.assign(t);
    t.dispose();
  }
  return m;
}

/** The model's weights in HF layout, as float64. */
export async function hfWeights(m: TransformerLM): Promise<Weights> {
  const w: Weights = new Map();
  for (const p of m.params.values()) w.set(p.spec.name, Float64Array.from(await paramToHf(p)));
  return w;
}
