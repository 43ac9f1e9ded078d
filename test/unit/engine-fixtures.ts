/**
 * Shared helpers of the engine tests: models whose every weight (norms and biases included) is random, so
 * no term can hide behind a zero or a one, and their weights read back in the HF layout as float64.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from '../../src/engine/config';
import { createRandomModel, paramToHf } from '../../src/engine/models';
import type { TransformerLM } from '../../src/engine/transformer';
import { rng, type Weights } from './engine-reference';
import { main } from '../../src/cli/main';

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

/**
 * Runs the CLI in this process and captures the text it writes to stdout and stderr (string writes only:
 * node's test runner reports to its parent through the same stdout with binary Buffer writes, which pass
 * through).
 */
export async function runCli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const o = process.stdout.write.bind(process.stdout), e = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string | Uint8Array, ...rest: never[]) => (typeof s === 'string' ? ((out += s), true) : o(s, ...rest))) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array, ...rest: never[]) => (typeof s === 'string' ? ((err += s), true) : e(s, ...rest))) as typeof process.stderr.write;
  try {
    return { code: await main(args), out, err };
  } finally {
    process.stdout.write = o;
    process.stderr.write = e;
  }
}
