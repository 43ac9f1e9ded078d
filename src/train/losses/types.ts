/**
 * Types shared by the loss functions of the DAP trainer: the per-sequence log-prob inputs for each data
 * kind, the hyper-parameters (one set for every method; each method reads the fields it needs) and the
 * registry entry describing a method. Losses are pure functions of tensors (no model, no I/O). The loss
 * registry imports nothing of the training config: the config (src/train/config/loss.ts) declares a field
 * for each of these hyper-parameters and reads their defaults and limits from the registry.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { Limits } from '../../core/limits';

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

/** How RRHF reduces its SFT term: mean token NLL of the best response, or its sum (the paper's L_ft). */
export const RRHF_SFT_REDUCTIONS = ['mean', 'sum'] as const;

/**
 * Hyper-parameters of every loss; each method reads the fields its registry entry lists in `uses`
 * (methods.ts), the rest are ignored. Defaults: methods.ts; help, flags and limits: config/loss.ts.
 */
export interface LossHyper {
  beta: number; // β (simpo's β, orpo's λ)
  labelSmoothing: number; // ε (cdpo, robust)
  delta: number; // δ (slic)
  lambda: number; // λ (slic)
  gamma: number; // γ (simpo)
  desirableWeight: number; // (kto)
  undesirableWeight: number; // (kto)
  sftWeight: number; // (rrhf)
  rpoAlpha: number; // α of the NLL term added to the reference-based pair losses (dpo, cdpo, robust, ipo, hinge, spin); 0 = off
  rrhfSftReduction: (typeof RRHF_SFT_REDUCTIONS)[number]; // (rrhf)
}

/** A method's description in the registry (methods.ts), without its tensor function. */
export interface MethodSpec<K extends DataKind = DataKind> {
  /** Registry key (CLI --method value). */
  name: string;
  /** Whether reference-model log-probs must be supplied. */
  needsReference: boolean;
  dataKind: K;
  /** The hyper-parameters the loss reads (the others are ignored for this method). */
  uses: readonly (keyof LossHyper)[];
  /** Hyper-parameter defaults specific to this method (over DEFAULT_HYPER). */
  defaults: Partial<LossHyper>;
  /** Values this method allows, where they are narrower than the field's own limits (config/loss.ts). */
  limits?: Partial<Record<keyof LossHyper, Limits>>;
  /** One line: formula, paper, defaults. */
  doc: string;
}

/** A loss's result: a scalar to minimise and scalar metrics (TRL names, batch means). */
export interface LossOutput {
  loss: tf.Scalar;
  metrics: Record<string, tf.Scalar>;
}

/** One method in the registry: its description and its loss function (index.ts). */
export interface LossSpec<K extends DataKind = DataKind> extends MethodSpec<K> {
  fn: (inputs: InputsByKind[K], hp: LossHyper) => LossOutput;
}
