/**
 * Independent float64 reference implementations of the GPT-2 and Llama forward passes and of sequence
 * log-probs, in plain TypeScript loops (no tfjs), for the engine tests. Weights are taken in the Hugging
 * Face checkpoint layout (GPT-2 Conv1D (in, out); Llama nn.Linear (out, in)), row-major.
 */
import type { ModelConfig } from '../../src/engine/config';
import { mulberry32 } from '../../src/core/random';

export type Weights = Map<string, Float64Array>;

/** Deterministic pseudo-random numbers in [-1, 1) (mulberry32 from src/core/random.ts, rescaled). */
export function rng(seed: number): () => number {
  const uniform = mulberry32(seed);
  return () => uniform() * 2 - 1;
}

function get(w: Weights, name: string): Float64Array {
  const v = w.get(name);
  if (!v) throw new Error(`reference: missing weight ${name}`);
  return v;
}

/** y = x·W + b with W stored (in, out) row-major. */
function matIn(x: Float64Array, W: Float64Array, inDim: number, outDim: number, b?: Float64Array): Float64Array {
  const y = new Float64Array(outDim);
  for (let o = 0; o < outDim; o++) {
    let s = b ? b[o] : 0;
    for (let i = 0; i < inDim; i++) s += x[i] * W[i * outDim + o];
    y[o] = s;
  }
  return y;
}
/** y = W·x + b with W stored (out, in) row-major (nn.Linear). */
function matOut(x: Float64Array, W: Float64Array, inDim: number, outDim: number, b?: Float64Array): Float64Array {
  const y = new Float64Array(outDim);
  for (let o = 0; o < outDim; o++) {
    let s = b ? b[o] : 0;
    for (let i = 0; i < inDim; i++) s += W[o * inDim + i] * x[i];
    y[o] = s;
  }
  return y;
}
function layerNorm(x: Float64Array, g: Float64Array, b: Float64Array, eps: number): Float64Array {
  const D = x.length;
  let mean = 0;
  for (const v of x) mean += v;
  mean /= D;
  let vr = 0;
  for (const v of x) vr += (v - mean) ** 2;
  vr /= D;
  const r = 1 / Math.sqrt(vr + eps);
  return Float64Array.from(x, (v, i) => (v - mean) * r * g[i] + b[i]);
}
function rmsNorm(x: Float64Array, g: Float64Array, eps: number): Float64Array {
  let ms = 0;
  for (const v of x) ms += v * v;
  const r = 1 / Math.sqrt(ms / x.length + eps);
  return Float64Array.from(x, (v, i) => v * r * g[i]);
}
const geluTanh = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
const silu = (x: number) => x / (1 + Math.exp(-x));

/**
 * Attention for one sequence. q[t] (H·Dh), k[t]/v[t] (Hkv·Dh); key j is visible to query i when j ≤ i and
 * mask[j] = 1. Returns out[t] (H·Dh).
 */
function attend(q: Float64Array[], k: Float64Array[], v: Float64Array[], mask: number[], H: number, Hkv: number, Dh: number): Float64Array[] {
  const T = q.length;
  const g = H / Hkv;
  return q.map((qi, i) => {
    const out = new Float64Array(H * Dh);
    for (let h = 0; h < H; h++) {
      const kh = Math.floor(h / g);
      const scores: number[] = [];
      const keys: number[] = [];
      for (let j = 0; j <= i && j < T; j++) {
        if (!mask[j]) continue;
        let s = 0;
        for (let d = 0; d < Dh; d++) s += qi[h * Dh + d] * k[j][kh * Dh + d];
        scores.push(s / Math.sqrt(Dh));
        keys.push(j);
      }
      const m = Math.max(...scores);
      const e = scores.map((s) => Math.exp(s - m));
      const z = e.reduce((a, b) => a + b, 0);
      keys.forEach((j, n) => {
        for (let d = 0; d < Dh; d++) out[h * Dh + d] += (e[n] / z) * v[j][kh * Dh + d];
      });
    }
    return out;
  });
}

/** GPT-2 logits (T, V) of one sequence; positions 0..T−1. Only rows with mask = 1 are meaningful. */
export function gpt2Reference(c: ModelConfig, w: Weights, ids: number[], mask: number[]): Float64Array[] {
  const D = c.hiddenSize, H = c.numHeads, Dh = D / H, I = c.intermediateSize, V = c.vocabSize;
  const wte = get(w, 'wte.weight'), wpe = get(w, 'wpe.weight');
  let x = ids.map((id, t) => Float64Array.from({ length: D }, (_, d) => wte[id * D + d] + wpe[t * D + d]));
  for (let l = 0; l < c.numLayers; l++) {
    const p = `h.${l}.`;
    const h = x.map((xt) => layerNorm(xt, get(w, p + 'ln_1.weight'), get(w, p + 'ln_1.bias'), c.normEps));
    const qkv = h.map((ht) => matIn(ht, get(w, p + 'attn.c_attn.weight'), D, 3 * D, get(w, p + 'attn.c_attn.bias')));
    const att = attend(qkv.map((r) => r.slice(0, D)), qkv.map((r) => r.slice(D, 2 * D)), qkv.map((r) => r.slice(2 * D)), mask, H, H, Dh);
    x = x.map((xt, t) => {
      const a = matIn(att[t], get(w, p + 'attn.c_proj.weight'), D, D, get(w, p + 'attn.c_proj.bias'));
      return Float64Array.from(xt, (v, d) => v + a[d]);
    });
    x = x.map((xt) => {
      const h2 = layerNorm(xt, get(w, p + 'ln_2.weight'), get(w, p + 'ln_2.bias'), c.normEps);
      const f = matIn(h2, get(w, p + 'mlp.c_fc.weight'), D, I, get(w, p + 'mlp.c_fc.bias')).map(geluTanh);
      const m = matIn(f, get(w, p + 'mlp.c_proj.weight'), I, D, get(w, p + 'mlp.c_proj.bias'));
      return Float64Array.from(xt, (v, d) => v + m[d]);
    });
  }
  return x.map((xt) => matOut(layerNorm(xt, get(w, 'ln_f.weight'), get(w, 'ln_f.bias'), c.normEps), c.tieWordEmbeddings ? wte : get(w, 'lm_head.weight'), D, V));
}

/** RoPE (rotate_half convention) on each head of vec (heads·Dh) at position pos. */
function rope(vec: Float64Array, heads: number, Dh: number, pos: number, theta: number): Float64Array {
  const out = new Float64Array(vec.length);
  const half = Dh / 2;
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      const a = pos / theta ** ((2 * i) / Dh);
      const x1 = vec[h * Dh + i], x2 = vec[h * Dh + i + half];
      out[h * Dh + i] = x1 * Math.cos(a) - x2 * Math.sin(a);
      out[h * Dh + i + half] = x2 * Math.cos(a) + x1 * Math.sin(a);
    }
  }
  return out;
}

/** Llama-family logits (T, V) of one sequence at the given positions (default 0..T−1). */
export function llamaReference(c: ModelConfig, w: Weights, ids: number[], mask: number[], positions?: number[]): Float64Array[] {
  const D = c.hiddenSize, H = c.numHeads, Hkv = c.numKvHeads, Dh = c.headDim, I = c.intermediateSize, V = c.vocabSize;
  const pos = positions ?? ids.map((_, t) => t);
  const emb = get(w, 'model.embed_tokens.weight');
  const opt = (n: string) => w.get(n);
  let x = ids.map((id) => emb.slice(id * D, id * D + D));
  for (let l = 0; l < c.numLayers; l++) {
    const p = `model.layers.${l}.`;
    const h = x.map((xt) => rmsNorm(xt, get(w, p + 'input_layernorm.weight'), c.normEps));
    const q = h.map((ht, t) => rope(matOut(ht, get(w, p + 'self_attn.q_proj.weight'), D, H * Dh, opt(p + 'self_attn.q_proj.bias')), H, Dh, pos[t], c.ropeTheta));
    const k = h.map((ht, t) => rope(matOut(ht, get(w, p + 'self_attn.k_proj.weight'), D, Hkv * Dh, opt(p + 'self_attn.k_proj.bias')), Hkv, Dh, pos[t], c.ropeTheta));
    const v = h.map((ht) => matOut(ht, get(w, p + 'self_attn.v_proj.weight'), D, Hkv * Dh, opt(p + 'self_attn.v_proj.bias')));
    const att = attend(q, k, v, mask, H, Hkv, Dh);
    x = x.map((xt, t) => {
      const a = matOut(att[t], get(w, p + 'self_attn.o_proj.weight'), H * Dh, D, opt(p + 'self_attn.o_proj.bias'));
      return Float64Array.from(xt, (val, d) => val + a[d]);
    });
    x = x.map((xt) => {
      const h2 = rmsNorm(xt, get(w, p + 'post_attention_layernorm.weight'), c.normEps);
      const gate = matOut(h2, get(w, p + 'mlp.gate_proj.weight'), D, I);
      const up = matOut(h2, get(w, p + 'mlp.up_proj.weight'), D, I);
      const m = matOut(Float64Array.from(gate, (g, i) => silu(g) * up[i]), get(w, p + 'mlp.down_proj.weight'), I, D);
      return Float64Array.from(xt, (val, d) => val + m[d]);
    });
  }
  return x.map((xt) => matOut(rmsNorm(xt, get(w, 'model.norm.weight'), c.normEps), c.tieWordEmbeddings ? emb : get(w, 'lm_head.weight'), D, V));
}

/** Summed log-prob of tokens t ≥ 1 with completionMask[t] = 1, scored by logits at t−1 (float64). */
export function sequenceLogpReference(logits: Float64Array[], ids: number[], completionMask: number[]): { sum: number; count: number } {
  let sum = 0, count = 0;
  for (let t = 1; t < ids.length; t++) {
    if (!completionMask[t]) continue;
    const row = logits[t - 1];
    const m = Math.max(...row);
    let z = 0;
    for (const v of row) z += Math.exp(v - m);
    sum += row[ids[t]] - m - Math.log(z);
    count++;
  }
  return { sum, count };
}
