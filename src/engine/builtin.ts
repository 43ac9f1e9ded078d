/**
 * The built-in tiny model: the embedded default when no model folder is given (nothing is downloaded).
 * A GPT-2-style model over the byte tokenizer, randomly initialised with a seed and trained from scratch
 * (SFT on the data's responses) by the trainer. Saved and loaded like any HF GPT-2 folder; config.json
 * carries `dap_tokenizer: "bytes"` and a byte-level tokenizer.json is written beside it.
 */
import { gpt2ConfigJson, parseConfig, type ModelConfig } from './config';
import { createRandomModel } from './models';
import { ByteTokenizer } from './tokenizer';
import type { TransformerLM } from './transformer';

/** Shape of the built-in model. */
export interface BuiltinShape {
  /** Transformer blocks (default 4). */
  numLayers: number;
  /** Model width D (default 128). */
  hiddenSize: number;
  /** Attention heads (default 4, so head width 32). */
  numHeads: number;
  /** Context length in tokens = bytes (default 256). */
  maxPositions: number;
}

/** Default shape: 4 layers, d=128, 4 heads, 256-byte context, vocab 259 (256 bytes + BOS/EOS/PAD) ≈ 0.86 M parameters. */
export const BUILTIN_SHAPE: BuiltinShape = { numLayers: 4, hiddenSize: 128, numHeads: 4, maxPositions: 256 };

/** config.json of the built-in model. */
export function builtinConfigJson(shape: Partial<BuiltinShape> = {}): Record<string, unknown> {
  const s = { ...BUILTIN_SHAPE, ...shape };
  return gpt2ConfigJson(
    { vocabSize: 259, maxPositions: s.maxPositions, hiddenSize: s.hiddenSize, numLayers: s.numLayers, numHeads: s.numHeads, bosTokenId: ByteTokenizer.BOS, eosTokenId: ByteTokenizer.EOS },
    { pad_token_id: ByteTokenizer.PAD, dap_tokenizer: 'bytes', dap_builtin: true },
  );
}

/** The built-in model's config. */
export function builtinConfig(shape: Partial<BuiltinShape> = {}): ModelConfig {
  return parseConfig(builtinConfigJson(shape), 'built-in model config');
}

/** A freshly initialised built-in model (same seed → same weights on every backend). */
export function createBuiltinModel(seed = 0, shape: Partial<BuiltinShape> = {}): TransformerLM {
  return createRandomModel(builtinConfig(shape), seed);
}

/** The built-in model's tokenizer. */
export function builtinTokenizer(): ByteTokenizer {
  return new ByteTokenizer();
}
