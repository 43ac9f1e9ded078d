/**
 * The loss registry: method name → {fn, needsReference, dataKind, defaults, doc}. The trainer looks the
 * method up here (no if/else chain); adding a method is one entry. SPIN is not a loss: it is a driver
 * (src/train/spin.ts) that trains `dpo` on generated pairs.
 */
import type { DataKind, InputsByKind, LossHyper, LossOutput, LossSpec } from './types';
import { cdpoLoss, dpoLoss, hingeLoss, ipoLoss, robustLoss } from './preference';
import { orpoLoss, simpoLoss, slicLoss } from './referenceFree';
import { rrhfLoss } from './rrhf';
import { sftLoss } from './sft';
import { ktoLoss } from './kto';

export type * from './types';
export { logSigmoid } from './common';

/** Defaults every method starts from (then its own `defaults`, then the user's values). */
export const DEFAULT_HYPER: LossHyper = {
  beta: 0.1,
  labelSmoothing: 0,
  delta: 1,
  lambda: 0.1,
  gamma: 0.5,
  desirableWeight: 1,
  undesirableWeight: 1,
  sftWeight: 1,
  rrhfSftReduction: 'mean',
};

function define<K extends DataKind>(spec: LossSpec<K>): LossSpec<K> {
  return spec;
}

/** Every loss, by method name. */
export const LOSSES = {
  dpo: define({ name: 'dpo', fn: dpoLoss, needsReference: true, dataKind: 'pairs', defaults: { beta: 0.1 },
    doc: 'DPO (Rafailov et al. 2023): −log σ(βΔ), Δ = difference of (policy − ref) summed log-probs; β=0.1' }),
  cdpo: define({ name: 'cdpo', fn: cdpoLoss, needsReference: true, dataKind: 'pairs', defaults: { beta: 0.1, labelSmoothing: 0.1 },
    doc: 'Conservative DPO (Mitchell 2023): −(1−ε)log σ(βΔ) − ε log σ(−βΔ); β=0.1, ε=0.1' }),
  robust: define({ name: 'robust', fn: robustLoss, needsReference: true, dataKind: 'pairs', defaults: { beta: 0.1, labelSmoothing: 0.1 },
    doc: 'Robust DPO (Chowdhury et al. 2024): [−(1−ε)log σ(βΔ) + ε log σ(−βΔ)]/(1−2ε); β=0.1, ε=0.1 (<0.5)' }),
  ipo: define({ name: 'ipo', fn: ipoLoss, needsReference: true, dataKind: 'pairs', defaults: { beta: 0.1 },
    doc: 'IPO (Azar et al. 2023): (Δ̄ − 1/(2β))², Δ̄ from length-averaged log-probs; β=0.1' }),
  hinge: define({ name: 'hinge', fn: hingeLoss, needsReference: true, dataKind: 'pairs', defaults: { beta: 0.1 },
    doc: 'Hinge on the DPO log-ratio (TRL "hinge", after SLiC): max(0, 1 − βΔ); β=0.1' }),
  slic: define({ name: 'slic', fn: slicLoss, needsReference: false, dataKind: 'pairs', defaults: { delta: 1, lambda: 0.1 },
    doc: 'SLiC-HF (Zhao et al. 2023): max(0, δ − log πθ(y_w) + log πθ(y_l)) − λ log πθ(y_w), summed log-probs, no reference; δ=1, λ=0.1' }),
  rrhf: define({ name: 'rrhf', fn: rrhfLoss, needsReference: false, dataKind: 'rankings', defaults: { sftWeight: 1 },
    doc: 'RRHF (Yuan et al. 2023): Σ_{i below j} max(0, p_i − p_j) + sftWeight·NLL(best), p = mean token log-prob, NLL = mean token NLL (rrhfSftReduction "mean"; "sum" = the paper\'s), no reference; sftWeight=1' }),
  sft: define({ name: 'sft', fn: sftLoss, needsReference: false, dataKind: 'sft', defaults: {},
    doc: 'SFT: token-averaged negative log-likelihood of the target completions (TRL SFTTrainer)' }),
  orpo: define({ name: 'orpo', fn: orpoLoss, needsReference: false, dataKind: 'pairs', defaults: { beta: 0.1 },
    doc: 'ORPO (Hong et al. 2024, TRL): NLL(chosen) − λ log σ(log odds ratio of mean log-probs), no reference; λ=beta=0.1' }),
  simpo: define({ name: 'simpo', fn: simpoLoss, needsReference: false, dataKind: 'pairs', defaults: { beta: 2, gamma: 0.5 },
    doc: 'SimPO (Meng et al. 2024): −log σ(β(p̄_w − p̄_l) − γ), mean log-probs, no reference; β=2, γ=0.5 (paper; TRL CPOConfig defaults β=0.1, simpo_gamma=0.5)' }),
  kto: define({ name: 'kto', fn: ktoLoss, needsReference: true, dataKind: 'unpaired', defaults: { beta: 0.1, desirableWeight: 1, undesirableWeight: 1 },
    doc: 'KTO (Ethayarajh et al. 2024, TRL): w·(1 − σ(β(±(r − z)))), z = detached KL estimate from mismatched pairs; β=0.1' }),
} as const;

export type LossName = keyof typeof LOSSES;
/** Every trainable method: the losses plus SPIN (a DPO driver over generated data). */
export const METHODS = [...(Object.keys(LOSSES) as LossName[]), 'spin'] as const;
export type MethodName = LossName | 'spin';

/** A loss spec with its input type erased, for generic callers that dispatch on `dataKind`. */
export interface AnyLossSpec {
  name: string;
  needsReference: boolean;
  dataKind: DataKind;
  defaults: Partial<LossHyper>;
  doc: string;
  fn: (inputs: InputsByKind[DataKind], hp: LossHyper) => LossOutput;
}

/** The registry entry of a loss, or an error listing the known names. */
export function getLoss(name: string): AnyLossSpec {
  const spec = (LOSSES as Record<string, LossSpec<DataKind>>)[name];
  if (!spec) throw new Error(`unknown loss "${name}": expected one of ${Object.keys(LOSSES).join(', ')}`);
  return spec as unknown as AnyLossSpec;
}

/** DEFAULT_HYPER, then the method's defaults, then the user's overrides (undefined values ignored). */
export function resolveHyper(name: string, overrides: Partial<LossHyper> = {}): LossHyper {
  const out: LossHyper = { ...DEFAULT_HYPER, ...getLoss(name).defaults };
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  return out;
}
