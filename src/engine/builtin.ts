/**
 * The built-in tiny model: the embedded default when no model folder is given (nothing is downloaded).
 * A GPT-2-style model over the byte tokenizer. In its default shape it starts from the weights shipped in
 * media/builtin/ (pretrained by scripts/pretrain-builtin.ts on a generated corpus of the sample's task
 * families, so it generalises to prompts it was not fine-tuned on); any other shape is randomly
 * initialised with a seed and trained from scratch. Saved and loaded like any HF GPT-2 folder;
 * config.json carries `dap_tokenizer: "bytes"` and a byte-level tokenizer.json is written beside it.
 */
import { shippedPath } from '../core/shipped';
import { loadModelWeights } from './checkpoint';
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

/** Default shape (the shipped pretrained model's): 2 layers, d=128, 4 heads, 256-byte context, vocab 259 (256 bytes + BOS/EOS/PAD), 0.46 M parameters. */
export const BUILTIN_SHAPE: BuiltinShape = { numLayers: 2, hiddenSize: 128, numHeads: 4, maxPositions: 256 };

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

/** True when `shape` (overrides of the default) is the default shape, i.e. the shipped weights apply. */
export function isDefaultBuiltinShape(shape: Partial<BuiltinShape> = {}): boolean {
  return (Object.keys(BUILTIN_SHAPE) as (keyof BuiltinShape)[]).every((k) => shape[k] === undefined || shape[k] === BUILTIN_SHAPE[k]);
}

/** The folder of the shipped pretrained built-in model (media/builtin). */
export function builtinModelDir(): string {
  return shippedPath('builtin');
}

/**
 * The built-in model a run starts from: the shipped pretrained weights in the default shape, else a fresh
 * seeded initialisation of the given shape.
 */
export function openBuiltinModel(seed = 0, shape: Partial<BuiltinShape> = {}): { model: TransformerLM; pretrained: boolean } {
  if (!isDefaultBuiltinShape(shape)) return { model: createBuiltinModel(seed, shape), pretrained: false };
  return { model: loadModelWeights(builtinModelDir()), pretrained: true };
}
