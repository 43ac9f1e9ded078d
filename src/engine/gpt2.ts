/**
 * GPT-2 family: learned position embeddings, pre-LayerNorm blocks, fused c_attn projection stored as HF's
 * Conv1D (in, out) = (D, 3D) and sliced per q/k/v on the weights, GELU (tanh approximation), tied LM head.
 * Weight names follow HF GPT2Model ("h.0.attn.c_attn.weight"); a checkpoint may prefix them with
 * "transformer." (GPT2LMHeadModel.save_pretrained does), which the loader records in keyPrefix.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as ops from './ops';
import * as fused from './fused-ops';
import { selfAttention } from './attention';
import { TransformerLM, type KvCache, type StepResult, type WeightSpec } from './transformer';
import type { ModelConfig } from './config';

/** The weights of a GPT-2 config, in HF names and shapes (Conv1D weights are already (in, out)). */
export function gpt2WeightSpecs(c: ModelConfig): WeightSpec[] {
  const { vocabSize: V, maxPositions: P, hiddenSize: D, intermediateSize: I } = c;
  const s = (name: string, hfShape: number[], init: WeightSpec['init']): WeightSpec => ({ name, hfShape, transposed: false, init });
  const specs = [s('wte.weight', [V, D], 'normal'), s('wpe.weight', [P, D], 'normal')];
  for (let l = 0; l < c.numLayers; l++) {
    const p = `h.${l}.`;
    specs.push(
      s(p + 'ln_1.weight', [D], 'ones'), s(p + 'ln_1.bias', [D], 'zeros'),
      s(p + 'attn.c_attn.weight', [D, 3 * D], 'normal'), s(p + 'attn.c_attn.bias', [3 * D], 'zeros'),
      s(p + 'attn.c_proj.weight', [D, D], 'residual'), s(p + 'attn.c_proj.bias', [D], 'zeros'),
      s(p + 'ln_2.weight', [D], 'ones'), s(p + 'ln_2.bias', [D], 'zeros'),
      s(p + 'mlp.c_fc.weight', [D, I], 'normal'), s(p + 'mlp.c_fc.bias', [I], 'zeros'),
      s(p + 'mlp.c_proj.weight', [I, D], 'residual'), s(p + 'mlp.c_proj.bias', [D], 'zeros'),
    );
  }
  specs.push(s('ln_f.weight', [D], 'ones'), s('ln_f.bias', [D], 'zeros'));
  if (!c.tieWordEmbeddings) specs.push({ name: 'lm_head.weight', hfShape: [V, D], transposed: true, init: 'normal' });
  return specs;
}

/** A GPT-2-family causal LM. */
export class Gpt2Model extends TransformerLM {
  weightSpecs(): WeightSpec[] {
    return gpt2WeightSpecs(this.config);
  }

  peftModulePath(module: string): string {
    return module.startsWith('lm_head') ? module : `transformer.${module}`;
  }

  step(ids: tf.Tensor2D, keyMask: tf.Tensor2D, positions: Int32Array | null, cache: KvCache | null, keepCache = true): StepResult {
    const c = this.config;
    const T = ids.shape[1];
    const rows = this.rowsAttentionFits(T, cache, keepCache);
    const D = c.hiddenSize;
    const eps = c.normEps;
    const vec = (n: string) => this.w<tf.Tensor1D>(n);
    return tf.tidy(() => {
      let pos: tf.Tensor; // (T, D) or (B, T, D)
      if (positions) pos = ops.embedding(this.w<tf.Tensor2D>('wpe.weight'), tf.tensor2d(positions, [ids.shape[0], T], 'int32'));
      else pos = tf.slice(this.w<tf.Tensor2D>('wpe.weight'), [0, 0], [T, D]);
      let x = tf.add(ops.embedding(this.w<tf.Tensor2D>('wte.weight'), ids), pos) as tf.Tensor3D; // (B, T, D)
      const layers: KvCache['layers'] = [];
      for (let l = 0; l < c.numLayers; l++) {
        const p = `h.${l}.`;
        const h = ops.layerNorm(x, vec(p + 'ln_1.weight'), vec(p + 'ln_1.bias'), eps); // (B, T, D)
        let a: tf.Tensor3D; // (B, T, D)
        if (rows) { // one (B, T, 3D) projection, attention reading q, k, v in place
          a = fused.rowsAttention(this.linear(p + 'attn.c_attn', h) as tf.Tensor3D, c.numHeads, c.numHeads, c.headDim, keyMask);
        } else {
          const q = this.toHeads(this.linear(p + 'attn.c_attn', h, [0, D]), c.numHeads); // (B, H, T, Dh)
          const k = this.toHeads(this.linear(p + 'attn.c_attn', h, [D, D]), c.numHeads);
          const v = this.toHeads(this.linear(p + 'attn.c_attn', h, [2 * D, D]), c.numHeads);
          const att = selfAttention(q, k, v, keyMask, cache ? cache.layers[l] : null);
          layers.push({ k: att.k, v: att.v });
          a = this.fromHeads(att.out);
        }
        x = tf.add(x, this.linear(p + 'attn.c_proj', a)) as tf.Tensor3D;
        const h2 = ops.layerNorm(x, vec(p + 'ln_2.weight'), vec(p + 'ln_2.bias'), eps);
        const m = this.linear(p + 'mlp.c_proj', ops.gelu(this.linear(p + 'mlp.c_fc', h2))); // (B, T, D)
        x = tf.add(x, m) as tf.Tensor3D;
      }
      x = ops.layerNorm(x, vec('ln_f.weight'), vec('ln_f.bias'), eps) as tf.Tensor3D;
      return { logits: this.lmHead(x, 'wte.weight'), cache: { layers, length: (cache?.length ?? 0) + T } };
    });
  }
}
