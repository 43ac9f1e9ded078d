/**
 * Types shared by the loss functions of the DAP trainer: the per-sequence log-prob inputs for each data
 * kind, the hyper-parameters (one config for every method; each method reads the fields it needs) and the
 * registry entry describing a method. Losses are pure functions of tensors (no model, no I/O).
 */
import type * as tf from '@tensorflow/tfjs-core';

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

/** Hyper-parameters of every loss. Each method uses the fields its doc names; the rest are ignored. */
export interface LossHyper {
  /** β: inverse temperature of the implicit reward (dpo/cdpo/robust/ipo/hinge/kto 0.1, simpo 2, orpo's λ 0.1). */
  beta: number;
  /** ε: label smoothing, the assumed probability that a label is flipped (cdpo, robust; 0 ≤ ε < 0.5). */
  labelSmoothing: number;
  /** δ: SLiC-HF's hinge margin on the log-likelihood difference (default 1). */
  delta: number;
  /** λ: weight of SLiC-HF's regulariser −log πθ(y_ref) (default 0.1). */
  lambda: number;
  /** γ: SimPO's target reward margin (default 0.5). */
  gamma: number;
  /** KTO weight of desirable examples (default 1). */
  desirableWeight: number;
  /** KTO weight of undesirable examples (default 1). */
  undesirableWeight: number;
  /** RRHF weight of the SFT term (the NLL of the best response; default 1). */
  sftWeight: number;
  /**
   * RRHF's SFT term: "mean" = mean token NLL of the best response (default: same scale as the ranking term,
   * independent of padding), "sum" = summed NLL over its tokens (the paper's L_ft).
   */
  rrhfSftReduction: 'mean' | 'sum';
}

/** A loss's result: a scalar to minimise and scalar metrics (TRL names, batch means). */
export interface LossOutput {
  loss: tf.Scalar;
  metrics: Record<string, tf.Scalar>;
}

/** One method in the registry. */
export interface LossSpec<K extends DataKind = DataKind> {
  /** Registry key (CLI --method value). */
  name: string;
  fn: (inputs: InputsByKind[K], hp: LossHyper) => LossOutput;
  /** Whether reference-model log-probs must be supplied. */
  needsReference: boolean;
  dataKind: K;
  /** Hyper-parameter defaults specific to this method (over DEFAULT_HYPER). */
  defaults: Partial<LossHyper>;
  /** One line: formula, paper, defaults. */
  doc: string;
}
