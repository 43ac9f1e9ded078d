/**
 * Types shared by the loss functions of the DAP trainer: the per-sequence log-prob inputs for each data
 * kind, the hyper-parameters (one config for every method; each method reads the fields it needs) and the
 * registry entry describing a method. Losses are pure functions of tensors (no model, no I/O).
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { ResolvedOf } from '../config/fields';
import type { LOSS_FIELDS } from '../config/loss';
import type { MethodSpec } from './methods';

/** What a method trains on: preference pairs, RRHF rankings, SFT targets, or KTO's unpaired labels. */
export type DataKind = 'pairs' | 'rankings' | 'sft' | 'unpaired';

/** Per-sequence policy log-probs over completion tokens (engine's SequenceLogps). */
export interface SeqLogps {
  sum: tf.Tensor1D; // (B,) summed completion log-prob
  mean: tf.Tensor1D; // (B,) sum / count (length-averaged)
  count: tf.Tensor1D; // (B,) completion token count
}

/** Reference-model log-probs of the same sequences (precomputed constants or a live no-grad pass). */
export interface RefLogps {
  sum: tf.Tensor1D; // (B,)
  mean: tf.Tensor1D; // (B,)
}

/** Inputs of a pairwise loss: row i of `chosen` and `rejected` share a prompt. */
export interface PairInputs {
  chosen: SeqLogps;
  rejected: SeqLogps;
  /** Present when the method needs a reference model. */
  refChosen?: RefLogps;
  refRejected?: RefLogps;
}

/**
 * Inputs of a ranking loss (RRHF). All N sequences of G groups (one group = one prompt's responses) are
 * flattened; the ranked pairs are listed by index: sequence better[k] is ranked above worse[k].
 */
export interface RankingInputs {
  logps: SeqLogps; // (N,)
  better: tf.Tensor1D; // (P,) int32 index of the better-ranked sequence of pair k
  worse: tf.Tensor1D; // (P,) int32 index of the worse-ranked sequence of pair k
  pairGroup: tf.Tensor1D; // (P,) int32 group of pair k
  best: tf.Tensor1D; // (G,) int32 index of each group's best sequence (first of its best group)
  groups: number; // G
}

/** Inputs of supervised fine-tuning: one target completion per row. */
export interface SftInputs {
  logps: SeqLogps; // (B,)
}

/** Inputs of KTO: one completion per row with a desirable (1) / undesirable (0) label. */
export interface UnpairedInputs {
  logps: SeqLogps; // (B,)
  ref: RefLogps; // (B,)
  labels: tf.Tensor1D; // (B,) float32 1 = desirable, 0 = undesirable
  /**
   * Policy and reference sums of mismatched (prompt i, completion j≠i) sequences for the KL estimate
   * (TRL's way). When absent, the KL estimate is the batch mean of the rows' own (policy − ref) sums.
   */
  klPolicy?: tf.Tensor1D; // (M,)
  klRef?: tf.Tensor1D; // (M,)
}

/** The inputs each data kind's losses take. */
export interface InputsByKind {
  pairs: PairInputs;
  rankings: RankingInputs;
  sft: SftInputs;
  unpaired: UnpairedInputs;
}

/**
 * Hyper-parameters of every loss (β, ε, δ, λ, γ, KTO's weights, RRHF's SFT weight), declared with their help
 * and limits once in the training config (config/loss.ts); each method reads the fields its registry entry
 * lists in `uses` (methods.ts), the rest are ignored.
 */
export type LossHyper = ResolvedOf<typeof LOSS_FIELDS>;

/** A loss's result: a scalar to minimise and scalar metrics (TRL names, batch means). */
export interface LossOutput {
  loss: tf.Scalar;
  metrics: Record<string, tf.Scalar>;
}

/** One method in the registry: its description (methods.ts) and its loss function. */
export interface LossSpec<K extends DataKind = DataKind> extends MethodSpec<K> {
  fn: (inputs: InputsByKind[K], hp: LossHyper) => LossOutput;
}
