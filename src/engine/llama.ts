/**
 * Llama family (Llama, TinyLlama, SmolLM, Qwen2, Mistral shapes): RMSNorm, rotary position embeddings
 * with base config.rope_theta in HF's rotate_half convention (the two halves of each head, not
 * interleaved pairs), SwiGLU MLP down(silu(gate(x))·up(x)), grouped-query attention, optional q/k/v
 * biases (Qwen2) and optional tied embeddings. HF nn.Linear weights (out, in) are stored as (in, out).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as ops from './ops';
import * as fused from './fused-ops';
import { fusedKernelsActive } from './kernels/index';
import { selfAttention } from './attention';
import { TransformerLM, type KvCache, type StepResult, type WeightSpec } from './transformer';
import type { ModelConfig, RopeScaling } from './config';

/** The weights of a Llama-family config, in HF names and shapes. */
export function llamaWeightSpecs(c: ModelConfig): WeightSpec[] {
  const { vocabSize: V, hiddenSize: D, intermediateSize: I, headDim: Dh } = c;
  const qOut = c.numHeads * Dh;
  const kvOut = c.numKvHeads * Dh;
  const lin = (name: string, out: number, inp: number, init: WeightSpec['init'] = 'normal'): WeightSpec =>
    ({ name, hfShape: [out, inp], transposed: true, init });
  const vec = (name: string, n: number, init: WeightSpec['init']): WeightSpec => ({ name, hfShape: [n], transposed: false, init });
  const specs: WeightSpec[] = [{ name: 'model.embed_tokens.weight', hfShape: [V, D], transposed: false, init: 'normal' }];
  for (let l = 0; l < c.numLayers; l++) {
    const p = `model.layers.${l}.`;
    specs.push(vec(p + 'input_layernorm.weight', D, 'ones'));
    specs.push(lin(p + 'self_attn.q_proj.weight', qOut, D), lin(p + 'self_attn.k_proj.weight', kvOut, D), lin(p + 'self_attn.v_proj.weight', kvOut, D));
    if (c.qkvBias) specs.push(vec(p + 'self_attn.q_proj.bias', qOut, 'zeros'), vec(p + 'self_attn.k_proj.bias', kvOut, 'zeros'), vec(p + 'self_attn.v_proj.bias', kvOut, 'zeros'));
    specs.push(lin(p + 'self_attn.o_proj.weight', D, qOut, 'residual'));
    if (c.oBias) specs.push(vec(p + 'self_attn.o_proj.bias', D, 'zeros'));
    specs.push(vec(p + 'post_attention_layernorm.weight', D, 'ones'));
    specs.push(lin(p + 'mlp.gate_proj.weight', I, D), lin(p + 'mlp.up_proj.weight', I, D), lin(p + 'mlp.down_proj.weight', D, I, 'residual'));
    if (c.mlpBias) specs.push(vec(p + 'mlp.gate_proj.bias', I, 'zeros'), vec(p + 'mlp.up_proj.bias', I, 'zeros'), vec(p + 'mlp.down_proj.bias', D, 'zeros'));
  }
  specs.push(vec('model.norm.weight', D, 'ones'));
  if (!c.tieWordEmbeddings) specs.push(lin('lm_head.weight', V, D));
  return specs;
}

/** Rotation matrix R (Dh, Dh) with x·R = rotate_half(x) = [−x₂, x₁]. */
function rotateHalfMatrix(Dh: number): tf.Tensor2D {
  const half = Dh / 2;
  const r = new Float32Array(Dh * Dh);
  for (let j = 0; j < half; j++) r[(j + half) * Dh + j] = -1;
  for (let j = half; j < Dh; j++) r[(j - half) * Dh + j] = 1;
  return tf.tensor2d(r, [Dh, Dh]);
}

/**
 * RoPE inverse frequencies θ^(−2i/Dh), i < Dh/2, with HF's rope_scaling rules: "linear" divides every
 * frequency by factor; "llama3" divides low frequencies (wavelength > L/lowFreqFactor) by factor, keeps
 * high ones (wavelength < L/highFreqFactor) and interpolates smoothly in between (L = original context).
 */
export function ropeInvFreq(Dh: number, theta: number, scaling: RopeScaling | null): Float64Array {
  const half = Dh / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / theta ** ((2 * i) / Dh);
  if (!scaling) return inv;
  if (scaling.type === 'linear') return inv.map((f) => f / scaling.factor);
  const L = scaling.originalMaxPositions;
  const lowWavelen = L / scaling.lowFreqFactor;
  const highWavelen = L / scaling.highFreqFactor;
  return inv.map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highWavelen) return f;
    if (wavelen > lowWavelen) return f / scaling.factor;
    const smooth = (L / wavelen - scaling.lowFreqFactor) / (scaling.highFreqFactor - scaling.lowFreqFactor);
    return (1 - smooth) * (f / scaling.factor) + smooth * f;
  });
}

/**
 * cos and sin tables for positions: (B or 1, 1, T, Dh), each frequency repeated over both halves as HF does.
 * positions: per-row position ids, or null for 0..T−1.
 */
export function ropeTables(invFreq: Float64Array, T: number, positions: Int32Array | null, B: number): { cos: tf.Tensor4D; sin: tf.Tensor4D } {
  const half = invFreq.length;
  const Dh = 2 * half;
  const rows = positions ? B : 1;
  const cos = new Float32Array(rows * T * Dh);
  const sin = new Float32Array(rows * T * Dh);
  for (let b = 0; b < rows; b++) {
    for (let t = 0; t < T; t++) {
      const pos = positions ? positions[b * T + t] : t;
      for (let i = 0; i < half; i++) {
        const a = pos * invFreq[i];
        const o = (b * T + t) * Dh;
        cos[o + i] = cos[o + i + half] = Math.cos(a);
        sin[o + i] = sin[o + i + half] = Math.sin(a);
      }
    }
  }
  return { cos: tf.tensor4d(cos, [rows, 1, T, Dh]), sin: tf.tensor4d(sin, [rows, 1, T, Dh]) };
}

/** A Llama-family causal LM. */
export class LlamaModel extends TransformerLM {
  private rot: tf.Tensor2D | null = null;
  private inv: Float64Array | null = null;

  /** The (possibly scaled) RoPE inverse frequencies of this config. */
  invFreq(): Float64Array {
    this.inv ??= ropeInvFreq(this.config.headDim, this.config.ropeTheta, this.config.ropeScaling);
    return this.inv;
  }

  weightSpecs(): WeightSpec[] {
    return llamaWeightSpecs(this.config);
  }

  peftModulePath(module: string): string {
    return module;
  }

  override dispose(): void {
    this.rot?.dispose();
    this.rot = null;
    super.dispose();
  }

  /** q·cos + rotate_half(q)·sin. x (B, H, T, Dh). One fused kernel with the native kernels, else a product with the rotate-half matrix. */
  private rope(x: tf.Tensor4D, cos: tf.Tensor4D, sin: tf.Tensor4D): tf.Tensor4D {
    if (fusedKernelsActive()) return fused.rope(x, cos, sin);
    const [B, H, T, Dh] = x.shape;
    if (!this.rot) this.rot = tf.keep(rotateHalfMatrix(Dh));
    const rotated = tf.reshape(tf.matMul(tf.reshape(x, [B * H * T, Dh]), this.rot), [B, H, T, Dh]); // (B, H, T, Dh)
    return tf.add(tf.mul(x, cos), tf.mul(rotated, sin)) as tf.Tensor4D;
  }

  step(ids: tf.Tensor2D, keyMask: tf.Tensor2D, positions: Int32Array | null, cache: KvCache | null, keepCache = true): StepResult {
    const c = this.config;
    const [B, T] = ids.shape;
    const eps = c.normEps;
    const rows = this.rowsAttentionFits(T, cache, keepCache);
    const Dh = c.headDim;
    return tf.tidy(() => {
      const { cos, sin } = ropeTables(this.invFreq(), T, positions, B);
      let x = ops.embedding(this.w<tf.Tensor2D>('model.embed_tokens.weight'), ids); // (B, T, D)
      const layers: KvCache['layers'] = [];
      for (let l = 0; l < c.numLayers; l++) {
        const p = `model.layers.${l}.`;
        const h = ops.rmsNorm(x, this.w<tf.Tensor1D>(p + 'input_layernorm.weight'), eps); // (B, T, D)
        let a: tf.Tensor3D; // (B, T, H·Dh)
        if (rows) { // RoPE and attention on the projections' (B, T, heads, Dh) layout: no head transposes
          const rot = (t: tf.Tensor, heads: number) =>
            tf.reshape(fused.rope(tf.reshape(t, [B, T, heads, Dh]), cos, sin, true), [B, T, heads * Dh]) as tf.Tensor3D;
          const q = rot(this.linear(p + 'self_attn.q_proj', h), c.numHeads); // (B, T, H·Dh)
          const k = rot(this.linear(p + 'self_attn.k_proj', h), c.numKvHeads); // (B, T, Hkv·Dh)
          const v = this.linear(p + 'self_attn.v_proj', h) as tf.Tensor3D;
          a = fused.rowsAttention([q, k, v], c.numHeads, c.numKvHeads, Dh, keyMask);
        } else {
          const q = this.rope(this.toHeads(this.linear(p + 'self_attn.q_proj', h), c.numHeads), cos, sin); // (B, H, T, Dh)
          const k = this.rope(this.toHeads(this.linear(p + 'self_attn.k_proj', h), c.numKvHeads), cos, sin); // (B, Hkv, T, Dh)
          const v = this.toHeads(this.linear(p + 'self_attn.v_proj', h), c.numKvHeads);
          const att = selfAttention(q, k, v, keyMask, cache ? cache.layers[l] : null);
          layers.push({ k: att.k, v: att.v });
          a = this.fromHeads(att.out);
        }
        x = tf.add(x, this.linear(p + 'self_attn.o_proj', a)) as tf.Tensor3D;
        const h2 = ops.rmsNorm(x, this.w<tf.Tensor1D>(p + 'post_attention_layernorm.weight'), eps);
        const gate = this.linear(p + 'mlp.gate_proj', h2); // (B, T, I)
        const act = ops.swiglu(gate, this.linear(p + 'mlp.up_proj', h2)); // silu(gate)·up (B, T, I)
        x = tf.add(x, this.linear(p + 'mlp.down_proj', act)) as tf.Tensor3D;
      }
      x = ops.rmsNorm(x, this.w<tf.Tensor1D>('model.norm.weight'), eps) as tf.Tensor3D;
      return { logits: this.lmHead(x, 'model.embed_tokens.weight'), cache: { layers, length: (cache?.length ?? 0) + T } };
    });
  }
}
