/**
 * Model construction: picks the architecture class for a config, lists its weight specs, creates
 * parameters from host arrays (the checkpoint loader) or from a seeded GPT-2-style initialisation
 * (N(0, 0.02), residual output projections scaled by 1/√(2·n_layer), norms at 1, biases at 0).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from './config';
import { Gpt2Model, gpt2WeightSpecs } from './gpt2';
import { LlamaModel, llamaWeightSpecs } from './llama';
import { mulberry32 } from '../core/random';
import { normalArray } from './random';
import type { FloatDtype } from './safetensors';
import type { Param, TransformerLM, WeightSpec } from './transformer';

/** The weight specs of a config's architecture. */
export function weightSpecsFor(config: ModelConfig): WeightSpec[] {
  return config.family === 'gpt2' ? gpt2WeightSpecs(config) : llamaWeightSpecs(config);
}

/** Instantiates the architecture class over ready parameters. */
export function buildModel(config: ModelConfig, params: Param[]): TransformerLM {
  return config.family === 'gpt2' ? new Gpt2Model(config, params) : new LlamaModel(config, params);
}

/** Storage shape of a spec: HF shape, or its transpose for (out, in) linear weights. */
export function storageShape(spec: WeightSpec): number[] {
  return spec.transposed ? [spec.hfShape[1], spec.hfShape[0]] : spec.hfShape;
}

/** Transposes a row-major (rows, cols) matrix. */
export function transpose2d(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = values[o + c];
  }
  return out;
}

/** Makes a Param from values in the HF layout of its spec. */
export function paramFromHf(spec: WeightSpec, hfValues: Float32Array, dtype: FloatDtype): Param {
  const values = spec.transposed ? transpose2d(hfValues, spec.hfShape[0], spec.hfShape[1]) : hfValues;
  const initial = tf.tensor(values, storageShape(spec), 'float32');
  const variable = tf.variable(initial, true); // shares the data; the temporary handle is released below
  initial.dispose();
  return { spec, dtype, variable };
}

/** Host values of a param in the HF layout of its spec. */
export async function paramToHf(p: Param): Promise<Float32Array> {
  const values = (await p.variable.data()) as Float32Array;
  const [a, b] = storageShape(p.spec);
  return p.spec.transposed ? transpose2d(values, a, b) : values;
}

/** A model with seeded random weights (GPT-2 initialisation, see the file comment). */
export function createRandomModel(config: ModelConfig, seed: number, initRange = 0.02): TransformerLM {
  const rand = mulberry32(seed);
  const residualStd = initRange / Math.sqrt(2 * config.numLayers);
  const params = weightSpecsFor(config).map((spec) => {
    const n = spec.hfShape.reduce((p, q) => p * q, 1);
    let v: Float32Array;
    if (spec.init === 'zeros') v = new Float32Array(n);
    else if (spec.init === 'ones') v = new Float32Array(n).fill(1);
    else v = normalArray(n, spec.init === 'residual' ? residualStd : initRange, rand);
    return paramFromHf(spec, v, 'F32');
  });
  return buildModel(config, params);
}
