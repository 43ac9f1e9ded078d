/**
 * The engine's public contract: what the trainer, the CLI and the review scorer rely on.
 * Implementations live beside this file (gpt2.ts, llama.ts, ...). No `vscode` import.
 */
import type * as tf from '@tensorflow/tfjs-core';

/** Tokenizer used by the engine: a Hugging Face tokenizer.json or the built-in byte-level one. */
export interface EngineTokenizer {
  encode(text: string): number[];
  decode(ids: number[]): string;
  readonly vocabSize: number;
  readonly eosId: number;
  readonly padId: number;
  /** Renders a chat prompt with the model's chat template (adds the generation prompt), if it has one. */
  applyChatTemplate?(messages: { role: string; content: string }[], addGenerationPrompt: boolean): string;
}

/** A causal language model whose parameters are tf.Variables. */
export interface CausalLM {
  readonly config: { modelType: string; vocabSize: number; maxPositions: number; [k: string]: unknown };
  /** Trainable variables (all weights, or only the LoRA adapters when LoRA is on). */
  trainableVariables(): tf.Variable[];
  /** Logits for a padded batch. ids (B, T) int32, attentionMask (B, T) float32 1/0 → (B, T, V). */
  forward(ids: tf.Tensor2D, attentionMask: tf.Tensor2D): tf.Tensor3D;
  /** Free every variable. */
  dispose(): void;
}

/**
 * A padded batch of (prompt, completion) sequences, right-padded to the same length T.
 * completionMask marks the positions whose *token* is a completion token (prompt and padding are 0).
 */
export interface SequenceBatch {
  ids: tf.Tensor2D; // (B, T) int32
  attentionMask: tf.Tensor2D; // (B, T) float32
  completionMask: tf.Tensor2D; // (B, T) float32
}

/** Per-sequence log-probabilities over completion tokens only. */
export interface SequenceLogps {
  sum: tf.Tensor1D; // (B,) summed log-prob of completion tokens
  mean: tf.Tensor1D; // (B,) sum / count
  count: tf.Tensor1D; // (B,) number of completion tokens
  /** Present when asked for (`sequenceLogps(…, { tokenStats: true })`); metrics only, no gradient. */
  tokenStats?: CompletionTokenStats;
}

/** Sums over each row's completion positions of the next-token distribution's statistics. */
export interface CompletionTokenStats {
  entropy: tf.Tensor1D; // (B,) Σ_t −Σ_v p log p
  meanLogit: tf.Tensor1D; // (B,) Σ_t mean_v logits
  correct: tf.Tensor1D; // (B,) Σ_t [argmax logits = token]
}
