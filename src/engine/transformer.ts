/**
 * What GPT-2 and Llama models share: named parameters kept in Hugging Face's key names (so checkpoints
 * round-trip), weight specs (name, HF shape, storage layout, initialisation), linear layers with optional
 * LoRA adapters, and the CausalLM plumbing (forward, trainable variables, dispose). Linear weights are
 * stored as (in, out) so every product is a plain x·W; HF nn.Linear weights, which are (out, in), are
 * transposed when loaded and transposed back when saved.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as ops from './ops';
import * as fused from './fused-ops';
import { fusedKernelsActive } from './kernels/index';
import type { CausalLM } from './types';
import type { ModelConfig } from './config';
import type { FloatDtype } from './safetensors';

/** How a weight is initialised when a model is created from scratch. */
export type InitKind = 'normal' | 'residual' | 'zeros' | 'ones';

/** One weight of an architecture, as the HF checkpoint names and shapes it. */
export interface WeightSpec {
  /** Canonical HF key (GPT-2 without the optional "transformer." prefix). */
  name: string;
  /** Shape in the HF checkpoint. */
  hfShape: number[];
  /** true for HF nn.Linear weights (out, in): stored transposed as (in, out). */
  transposed: boolean;
  init: InitKind;
}

/** A loaded/created parameter. */
export interface Param {
  spec: WeightSpec;
  variable: tf.Variable;
  /** dtype of the checkpoint it came from (written back the same way). */
  dtype: FloatDtype;
}

/** A LoRA adapter on one linear module: ΔW = scale · A·B with A (in, r) and B (r, out) in storage layout. */
export interface LoraAdapter {
  a: tf.Variable; // (in, r) — PEFT's lora_A.weight is its transpose (r, in)
  b: tf.Variable; // (r, out) — PEFT's lora_B.weight is its transpose (out, r)
  scale: number; // lora_alpha / r
}

/** Per-layer cached keys and values for incremental decoding. */
export interface KvCache {
  layers: { k: tf.Tensor4D; v: tf.Tensor4D }[]; // each (B, Hkv, Tpast, Dh)
  /** Number of cached positions Tpast. */
  length: number;
}

/** Result of one forward step with the cache. */
export interface StepResult {
  logits: tf.Tensor3D; // (B, Tq, V)
  cache: KvCache;
}

/** Base class of the architectures. */
export abstract class TransformerLM implements CausalLM {
  readonly params = new Map<string, Param>();
  /** LoRA adapters keyed by linear module name (canonical, e.g. "h.0.attn.c_attn"); empty when LoRA is off. */
  readonly lora = new Map<string, LoraAdapter>();
  /** Settings LoRA was enabled with (null when off). */
  loraSettings: { r: number; alpha: number; targetModules: string[] } | null = null;
  /** Checkpoint tensors the architecture does not use (e.g. GPT-2's causal-mask buffers), written back untouched. */
  extras: { name: string; dtype: string; shape: number[]; bytes: Uint8Array }[] = [];
  /** Key prefix of the checkpoint's tensors ("transformer." or "" for GPT-2; "" for Llama). */
  keyPrefix = '';
  /** Shard file of each tensor key when the checkpoint was sharded (saved back the same way). */
  shardOf: Map<string, string> | null = null;
  /** Folder the model was loaded from (tokenizer files are copied from it on save). */
  sourceDir: string | null = null;

  constructor(readonly config: ModelConfig, params: Param[]) {
    for (const p of params) this.params.set(p.spec.name, p);
  }

  /** The architecture's weights for a config. */
  abstract weightSpecs(): WeightSpec[];

  /**
   * Logits for new tokens, extending `cache` (null = no past). ids/attentionMask (B, Tq) for the new tokens,
   * mask over past + new keys is built from cache + attentionMask by the caller via `keyMask`.
   * positions: position ids of the new tokens, row-major (B·Tq) on the host, or null for 0..Tq−1
   * (right padding, no cache). keepCache false: the caller wants the logits only (training, scoring), so the
   * result's cache.layers may be empty and attention may skip the (B, H, T, Dh) layout the cache needs.
   */
  abstract step(ids: tf.Tensor2D, keyMask: tf.Tensor2D, positions: Int32Array | null, cache: KvCache | null, keepCache?: boolean): StepResult;

  /** Module path as PEFT/transformers name it inside the *ForCausalLM model (e.g. "transformer.h.0.attn.c_attn"). */
  abstract peftModulePath(module: string): string;

  /** Names of the linear modules LoRA may target (canonical, without ".weight"). */
  linearModules(): string[] {
    return [...this.params.keys()].filter((n) => n.endsWith('.weight') && this.params.get(n)!.spec.hfShape.length === 2)
      .map((n) => n.slice(0, -'.weight'.length))
      .filter((m) => !/(^|\.)(wte|wpe|embed_tokens|lm_head)$/.test(m));
  }

  forward(ids: tf.Tensor2D, attentionMask: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => {
      const r = this.step(ids, attentionMask, null, null, false);
      for (const l of r.cache.layers) {
        l.k.dispose();
        l.v.dispose();
      }
      return r.logits;
    });
  }

  trainableVariables(): tf.Variable[] {
    if (this.lora.size > 0) return [...this.lora.values()].flatMap((a) => [a.a, a.b]);
    return [...this.params.values()].map((p) => p.variable);
  }

  /** Number of scalar parameters (base weights, without LoRA). */
  parameterCount(): number {
    let n = 0;
    for (const p of this.params.values()) n += p.variable.size;
    return n;
  }

  dispose(): void {
    for (const p of this.params.values()) p.variable.dispose();
    for (const a of this.lora.values()) {
      a.a.dispose();
      a.b.dispose();
    }
    this.lora.clear();
    this.params.clear();
  }

  /** The variable of a canonical weight name. */
  protected w<T extends tf.Tensor = tf.Tensor>(name: string): T {
    const p = this.params.get(name);
    if (!p) throw new Error(`model has no weight "${name}"`);
    return p.variable as unknown as T;
  }

  protected has(name: string): boolean {
    return this.params.has(name);
  }

  /**
   * y = x·W (+ b) (+ LoRA) for linear module `module`. x (..., in) → (..., out), or (..., cols) when
   * `cols` = [first, count] selects output columns (slicing the weights, never the activations).
   */
  protected linear(module: string, x: tf.Tensor, cols?: [number, number]): tf.Tensor {
    let w = this.w<tf.Tensor2D>(`${module}.weight`); // (in, out)
    const bName = `${module}.bias`;
    let b = this.has(bName) ? this.w<tf.Tensor1D>(bName) : undefined; // (out,)
    if (cols) {
      w = tf.slice(w, [0, cols[0]], [w.shape[0], cols[1]]);
      if (b) b = tf.slice(b, [cols[0]], [cols[1]]);
    }
    let y = ops.linear(x, w, b);
    const ad = this.lora.get(module);
    if (ad) {
      let bw = ad.b as unknown as tf.Tensor2D; // (r, out)
      if (cols) bw = tf.slice(bw, [0, cols[0]], [bw.shape[0], cols[1]]);
      const low = ops.linear(x, ad.a as unknown as tf.Tensor2D); // (..., r)
      y = tf.add(y, tf.mul(ops.linear(low, bw), ad.scale));
    }
    return y;
  }

  /** (B, T, H·Dh) → (B, H, T, Dh). */
  protected toHeads(t: tf.Tensor, heads: number): tf.Tensor4D {
    const [B, T] = t.shape;
    const Dh = this.config.headDim;
    return tf.transpose(tf.reshape(t, [B, T, heads, Dh]), [0, 2, 1, 3]);
  }

  /** (B, H, T, Dh) → (B, T, H·Dh). */
  protected fromHeads(t: tf.Tensor4D): tf.Tensor3D {
    const [B, H, T, Dh] = t.shape;
    return tf.reshape(tf.transpose(t, [0, 2, 1, 3]), [B, T, H * Dh]);
  }

  /**
   * True when attention can run on the projections' (B, T, heads, Dh) layout (fused-ops.ts rowsAttention):
   * native kernels, no cache in or out, and a sequence shorter than flash attention's threshold.
   */
  protected rowsAttentionFits(T: number, cache: KvCache | null, keepCache: boolean): boolean {
    return !cache && !keepCache && T < fused.FLASH_MIN_T && fusedKernelsActive();
  }

  /** Final projection onto the vocabulary: tied (x·Eᵀ) or a separate lm_head. x (B, T, D) → (B, T, V). */
  protected lmHead(x: tf.Tensor3D, embeddingName: string): tf.Tensor3D {
    const [B, T, D] = x.shape;
    const x2 = tf.reshape(x, [B * T, D]); // (B·T, D)
    const logits = this.config.tieWordEmbeddings
      ? tf.matMul(x2, this.w<tf.Tensor2D>(embeddingName), false, true) // (B·T, V)
      : ops.linear(x2, this.w<tf.Tensor2D>('lm_head.weight'));
    return tf.reshape(logits, [B, T, this.config.vocabSize]);
  }
}
