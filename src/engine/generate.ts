/**
 * Text generation with a KV cache: prompts are left-padded into one batch (position ids from the mask,
 * as HF generate does), prefilled once, then decoded one token per step. Greedy when temperature is 0,
 * else temperature + nucleus (top-p) sampling from a seeded PRNG on the host, so a seed reproduces the
 * same tokens (one stream for the batch, or one per row with `rowSeeds`). Stops per row at EOS (when stopOnEos) and overall at maxNewTokens or the model's context.
 * Logits are read with `await data()` so the WebGPU backend works.
 */
import * as tf from '@tensorflow/tfjs-core';
import { mulberry32 } from '../core/random';
import type { KvCache, TransformerLM } from './transformer';
import type { EngineTokenizer } from './types';

/** Generation settings. */
export interface GenerateOptions {
  /** Most new tokens per prompt (default 64). */
  maxNewTokens?: number;
  /** 0 = greedy (default); > 0 divides the logits before sampling. */
  temperature?: number;
  /** Nucleus sampling: keep the smallest set of tokens whose probability reaches topP (default 1 = all). */
  topP?: number;
  /** PRNG seed for sampling (default 0): one stream shared by the rows, in row order. */
  seed?: number;
  /**
   * One PRNG seed per row (overrides `seed`): each row samples from its own stream, so a row's tokens do not
   * depend on which other rows share its batch (what resumable generation needs).
   */
  rowSeeds?: number[];
  /** Stop a row at its first EOS (default true; the EOS is not returned). */
  stopOnEos?: boolean;
}

/** Picks the next token from one row of logits. */
export function sampleToken(logits: Float32Array | number[], temperature: number, topP: number, rand: () => number): number {
  const V = logits.length;
  let best = 0;
  for (let v = 1; v < V; v++) if (logits[v] > logits[best]) best = v;
  if (temperature <= 0) return best;
  const probs = new Float64Array(V);
  let z = 0;
  for (let v = 0; v < V; v++) z += probs[v] = Math.exp((logits[v] - logits[best]) / temperature);
  const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => probs[b] - probs[a] || a - b);
  let keep = V;
  if (topP < 1) {
    let cum = 0;
    for (let i = 0; i < V; i++) {
      cum += probs[order[i]] / z;
      if (cum >= topP) {
        keep = i + 1;
        break;
      }
    }
  }
  let mass = 0;
  for (let i = 0; i < keep; i++) mass += probs[order[i]];
  let u = rand() * mass;
  for (let i = 0; i < keep; i++) {
    u -= probs[order[i]];
    if (u <= 0) return order[i];
  }
  return order[keep - 1];
}

function disposeCache(c: KvCache | null): void {
  if (!c) return;
  for (const l of c.layers) {
    l.k.dispose();
    l.v.dispose();
  }
}

/**
 * Generates continuations of one or more prompts (token ids). Returns the new token ids per prompt
 * (without the prompt and without the stopping EOS).
 */
export async function generate(model: TransformerLM, tokenizer: EngineTokenizer, promptIds: number[] | number[][], options: GenerateOptions = {}): Promise<number[][]> {
  const prompts = (Array.isArray(promptIds[0]) ? promptIds : [promptIds]) as number[][];
  const B = prompts.length;
  const maxNew = options.maxNewTokens ?? 64;
  const temperature = options.temperature ?? 0;
  const topP = options.topP ?? 1;
  const stopOnEos = options.stopOnEos ?? true;
  if (options.rowSeeds && options.rowSeeds.length !== B) throw new Error(`generate: ${options.rowSeeds.length} row seeds for ${B} prompts`);
  const shared = mulberry32(options.seed ?? 0);
  const rands = options.rowSeeds ? options.rowSeeds.map((s) => mulberry32(s)) : prompts.map(() => shared);
  const P = Math.max(...prompts.map((p) => p.length));
  if (prompts.some((p) => p.length === 0)) throw new Error('generate: every prompt needs at least one token');
  const steps = Math.min(maxNew, model.config.maxPositions - P);
  if (steps <= 0) return prompts.map(() => []);
  // Left-pad the prompts; position ids count real tokens only.
  const ids = new Int32Array(B * P).fill(tokenizer.padId);
  const mask = new Float32Array(B * P);
  const pos = new Int32Array(B * P);
  const nextPos = new Int32Array(B);
  prompts.forEach((p, b) => {
    const off = P - p.length;
    p.forEach((tok, i) => {
      ids[b * P + off + i] = tok;
      mask[b * P + off + i] = 1;
      pos[b * P + off + i] = i;
    });
    nextPos[b] = p.length;
  });
  const maskRows: number[][] = Array.from({ length: B }, (_, b) => Array.from(mask.subarray(b * P, (b + 1) * P)));
  const outputs: number[][] = prompts.map(() => []);
  const done = new Array<boolean>(B).fill(false);
  let cache: KvCache | null = null;
  let stepIds = tf.tensor2d(ids, [B, P], 'int32');
  let stepPos = pos;
  try {
    for (let s = 0; s < steps; s++) {
      const keyMask = tf.tensor2d(maskRows.flat(), [B, maskRows[0].length]);
      const r: { logits: tf.Tensor3D; cache: KvCache } = model.step(stepIds, keyMask, stepPos, cache);
      keyMask.dispose();
      stepIds.dispose();
      disposeCache(cache);
      cache = r.cache;
      const Tq = r.logits.shape[1];
      const V = r.logits.shape[2];
      const last = tf.tidy(() => tf.reshape(tf.slice(r.logits, [0, Tq - 1, 0], [B, 1, V]), [B, V]));
      r.logits.dispose();
      const data = (await last.data()) as Float32Array;
      last.dispose();
      const next = new Int32Array(B);
      for (let b = 0; b < B; b++) {
        if (done[b]) {
          next[b] = tokenizer.padId;
          continue;
        }
        const tok = sampleToken(data.subarray(b * V, (b + 1) * V), temperature, topP, rands[b]);
        next[b] = tok;
        if (stopOnEos && tok === tokenizer.eosId) done[b] = true;
        else outputs[b].push(tok);
      }
      if (done.every((d) => d)) break;
      for (let b = 0; b < B; b++) maskRows[b].push(1);
      stepIds = tf.tensor2d(next, [B, 1], 'int32');
      stepPos = Int32Array.from(nextPos);
      for (let b = 0; b < B; b++) nextPos[b]++;
    }
  } finally {
    disposeCache(cache);
    if (!stepIds.isDisposed) stepIds.dispose();
  }
  return outputs;
}
