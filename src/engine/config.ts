/**
 * Model configuration: one normalised shape description for both supported families (GPT-2 and Llama,
 * the latter covering Llama/TinyLlama/SmolLM, Qwen2 and Mistral), parsed from and written back to a
 * Hugging Face config.json (the original JSON is kept and only updated, so unknown fields survive).
 */

/** Architecture family: decides which forward pass and weight names are used. */
export type ModelFamily = 'gpt2' | 'llama';

/** Normalised model configuration. */
export interface ModelConfig {
  /** HF model_type: "gpt2", "llama", "qwen2" or "mistral". */
  modelType: string;
  family: ModelFamily;
  /** Vocabulary size V (rows of the embedding table). */
  vocabSize: number;
  /** Longest sequence the model supports (GPT-2 n_positions, Llama max_position_embeddings). */
  maxPositions: number;
  /** Model width D. */
  hiddenSize: number;
  /** Number of transformer blocks L. */
  numLayers: number;
  /** Query heads H. */
  numHeads: number;
  /** Key/value heads (grouped-query attention; = numHeads for plain multi-head attention). */
  numKvHeads: number;
  /** Per-head width Dh (usually D / H). */
  headDim: number;
  /** Hidden width of the MLP (GPT-2: n_inner or 4·D; Llama: intermediate_size). */
  intermediateSize: number;
  /** Epsilon of LayerNorm (GPT-2) or RMSNorm (Llama). */
  normEps: number;
  /** RoPE base θ (Llama family only). */
  ropeTheta: number;
  /** RoPE frequency scaling (HF rope_scaling): null, "linear" or "llama3" (Llama 3.1/3.2). */
  ropeScaling: RopeScaling | null;
  /** Whether the LM head reuses the token embedding matrix. */
  tieWordEmbeddings: boolean;
  /** Biases on q/k/v projections (Qwen2; Llama when attention_bias). */
  qkvBias: boolean;
  /** Bias on the attention output projection (Llama attention_bias). */
  oBias: boolean;
  /** Biases on the MLP projections (Llama mlp_bias). */
  mlpBias: boolean;
  bosTokenId: number | null;
  eosTokenId: number | null;
  /** The config.json object this came from (written back with shape fields updated). */
  raw: Record<string, unknown>;
  [k: string]: unknown;
}

/** HF rope_scaling settings the engine supports. */
export interface RopeScaling {
  type: 'linear' | 'llama3';
  /** Frequencies (linear: positions) are divided by this. */
  factor: number;
  /** llama3: wavelengths above originalMaxPositions / lowFreqFactor are fully scaled. */
  lowFreqFactor: number;
  /** llama3: wavelengths below originalMaxPositions / highFreqFactor are left as they are. */
  highFreqFactor: number;
  /** llama3: original_max_position_embeddings. */
  originalMaxPositions: number;
}

const LLAMA_TYPES = new Set(['llama', 'qwen2', 'mistral']);

function num(raw: Record<string, unknown>, where: string, ...keys: string[]): number {
  for (const k of keys) {
    const v = raw[k];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  throw new Error(`${where}: missing numeric field ${keys.join(' / ')}`);
}
function optNum(raw: Record<string, unknown>, key: string, dflt: number): number {
  const v = raw[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : dflt;
}
function tokenId(v: unknown): number | null {
  if (typeof v === 'number') return v;
  if (Array.isArray(v) && typeof v[0] === 'number') return v[0];
  return null;
}

/** Parses a config.json object. `where` names the file for error messages. */
export function parseConfig(raw: Record<string, unknown>, where: string): ModelConfig {
  const modelType = String(raw.model_type ?? '');
  if (modelType === 'gpt2') {
    if (raw.scale_attn_by_inverse_layer_idx === true) throw new Error(`${where}: scale_attn_by_inverse_layer_idx is not supported`);
    const D = num(raw, where, 'n_embd', 'hidden_size');
    const H = num(raw, where, 'n_head', 'num_attention_heads');
    if (D % H !== 0) throw new Error(`${where}: n_embd ${D} is not divisible by n_head ${H}`);
    const act = raw.activation_function ?? 'gelu_new';
    if (act !== 'gelu_new' && act !== 'gelu_pytorch_tanh') throw new Error(`${where}: activation_function "${String(act)}" is not supported (gelu_new only)`);
    return {
      modelType, family: 'gpt2', vocabSize: num(raw, where, 'vocab_size'), maxPositions: num(raw, where, 'n_positions', 'n_ctx'),
      hiddenSize: D, numLayers: num(raw, where, 'n_layer', 'num_hidden_layers'), numHeads: H, numKvHeads: H, headDim: D / H,
      intermediateSize: typeof raw.n_inner === 'number' ? raw.n_inner : 4 * D, normEps: optNum(raw, 'layer_norm_epsilon', 1e-5),
      ropeTheta: 0, ropeScaling: null, tieWordEmbeddings: raw.tie_word_embeddings !== false, qkvBias: true, oBias: true, mlpBias: true,
      bosTokenId: tokenId(raw.bos_token_id), eosTokenId: tokenId(raw.eos_token_id), raw,
    };
  }
  if (LLAMA_TYPES.has(modelType)) {
    const D = num(raw, where, 'hidden_size');
    const H = num(raw, where, 'num_attention_heads');
    const Hkv = optNum(raw, 'num_key_value_heads', H);
    if (H % Hkv !== 0) throw new Error(`${where}: num_attention_heads ${H} is not a multiple of num_key_value_heads ${Hkv}`);
    const scaling = raw.rope_scaling as Record<string, unknown> | null | undefined;
    const scalingType = scaling ? String(scaling.rope_type ?? scaling.type) : undefined;
    let ropeScaling: RopeScaling | null = null;
    if (scaling && (scalingType === 'linear' || scalingType === 'llama3')) {
      ropeScaling = {
        type: scalingType, factor: num(scaling, `${where}: rope_scaling`, 'factor'),
        lowFreqFactor: optNum(scaling, 'low_freq_factor', 1), highFreqFactor: optNum(scaling, 'high_freq_factor', 4),
        originalMaxPositions: optNum(scaling, 'original_max_position_embeddings', 8192),
      };
    } else if (scalingType && scalingType !== 'default') {
      throw new Error(`${where}: rope_scaling type "${scalingType}" is not supported (supported: default, linear, llama3)`);
    }
    const attnBias = raw.attention_bias === true;
    return {
      modelType, family: 'llama', vocabSize: num(raw, where, 'vocab_size'), maxPositions: num(raw, where, 'max_position_embeddings'),
      hiddenSize: D, numLayers: num(raw, where, 'num_hidden_layers'), numHeads: H, numKvHeads: Hkv,
      headDim: optNum(raw, 'head_dim', D / H), intermediateSize: num(raw, where, 'intermediate_size'),
      normEps: optNum(raw, 'rms_norm_eps', 1e-6), ropeTheta: optNum(raw, 'rope_theta', 10000), ropeScaling,
      tieWordEmbeddings: raw.tie_word_embeddings === true, qkvBias: modelType === 'qwen2' || attnBias, oBias: attnBias,
      mlpBias: raw.mlp_bias === true, bosTokenId: tokenId(raw.bos_token_id), eosTokenId: tokenId(raw.eos_token_id), raw,
    };
  }
  throw new Error(`${where}: unsupported model_type "${modelType}" (supported: gpt2, llama, qwen2, mistral)`);
}

/** The shape fields every config builder below takes, as ModelConfig names them. */
type CoreShape = Pick<ModelConfig, 'vocabSize' | 'maxPositions' | 'hiddenSize' | 'numLayers' | 'numHeads'>;

/** Shape fields of a GPT-2 config, for building one in code (tests, the built-in model). */
export interface Gpt2Shape extends CoreShape {
  bosTokenId?: number;
  eosTokenId?: number;
  tieWordEmbeddings?: boolean;
}

/** A config.json object for a GPT-2-shaped model. */
export function gpt2ConfigJson(s: Gpt2Shape, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    architectures: ['GPT2LMHeadModel'], model_type: 'gpt2', vocab_size: s.vocabSize, n_positions: s.maxPositions, n_ctx: s.maxPositions,
    n_embd: s.hiddenSize, n_layer: s.numLayers, n_head: s.numHeads, n_inner: null, activation_function: 'gelu_new',
    layer_norm_epsilon: 1e-5, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0, initializer_range: 0.02,
    bos_token_id: s.bosTokenId ?? s.vocabSize - 1, eos_token_id: s.eosTokenId ?? s.vocabSize - 1,
    tie_word_embeddings: s.tieWordEmbeddings ?? true, torch_dtype: 'float32', ...extra,
  };
}

/** Shape fields of a Llama-family config, for building one in code. */
export interface LlamaShape extends CoreShape, Pick<ModelConfig, 'numKvHeads' | 'intermediateSize'> {
  modelType?: 'llama' | 'qwen2' | 'mistral';
  ropeTheta?: number;
  rmsNormEps?: number;
  tieWordEmbeddings?: boolean;
  attentionBias?: boolean;
  bosTokenId?: number;
  eosTokenId?: number;
}

/** A config.json object for a Llama-family model. */
export function llamaConfigJson(s: LlamaShape, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const type = s.modelType ?? 'llama';
  const arch = type === 'qwen2' ? 'Qwen2ForCausalLM' : type === 'mistral' ? 'MistralForCausalLM' : 'LlamaForCausalLM';
  return {
    architectures: [arch], model_type: type, vocab_size: s.vocabSize, max_position_embeddings: s.maxPositions,
    hidden_size: s.hiddenSize, num_hidden_layers: s.numLayers, num_attention_heads: s.numHeads, num_key_value_heads: s.numKvHeads,
    intermediate_size: s.intermediateSize, hidden_act: 'silu', rms_norm_eps: s.rmsNormEps ?? 1e-6, rope_theta: s.ropeTheta ?? 10000,
    rope_scaling: null, tie_word_embeddings: s.tieWordEmbeddings ?? false, attention_bias: s.attentionBias ?? false,
    bos_token_id: s.bosTokenId ?? 1, eos_token_id: s.eosTokenId ?? 2, torch_dtype: 'float32', ...extra,
  };
}
