/**
 * The loss registry's description of each method, without its tensor function (so the VS Code host, the
 * CLI flag parser and the config validation can read it without loading tfjs): data kind, whether a
 * reference model is needed, the hyper-parameters it reads with its defaults and the values it allows, and a
 * one-line doc. index.ts joins each entry with its loss function. SPIN is not a loss: it is a driver
 * (src/train/pipeline/spin.ts) that trains `dpo` on generated pairs.
 */
import type { Limits } from '../../core/limits';
import type { DataKind, LossHyper, MethodSpec } from './types';

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
  rpoAlpha: 0,
};

const define = <K extends DataKind>(spec: MethodSpec<K>): MethodSpec<K> => spec;

/** ε of the label-smoothed losses: TRL's DPOConfig asks for 0 ≤ ε < 0.5 (ε = 0.5 makes both labels equally likely). */
const SMOOTHING: Limits = { min: 0, max: 0.5, maxExclusive: true, why: 'ε is the probability that a label is flipped; at 0.5 the labels carry no information' };

/** Every loss method, by name. */
export const LOSS_METHODS = {
  dpo: define({ name: 'dpo', needsReference: true, dataKind: 'pairs', uses: ['beta', 'rpoAlpha'], defaults: { beta: 0.1 },
    doc: 'DPO (Rafailov et al. 2023): −log σ(βΔ), Δ = difference of (policy − ref) summed log-probs; β=0.1' }),
  cdpo: define({ name: 'cdpo', needsReference: true, dataKind: 'pairs', uses: ['beta', 'labelSmoothing', 'rpoAlpha'], defaults: { beta: 0.1, labelSmoothing: 0.1 },
    limits: { labelSmoothing: SMOOTHING },
    doc: 'Conservative DPO (Mitchell 2023): −(1−ε)log σ(βΔ) − ε log σ(−βΔ); β=0.1, ε=0.1' }),
  robust: define({ name: 'robust', needsReference: true, dataKind: 'pairs', uses: ['beta', 'labelSmoothing', 'rpoAlpha'], defaults: { beta: 0.1, labelSmoothing: 0.1 },
    limits: { labelSmoothing: { ...SMOOTHING, why: 'robust DPO divides by 1 − 2ε' } },
    doc: 'Robust DPO (Chowdhury et al. 2024): [−(1−ε)log σ(βΔ) + ε log σ(−βΔ)]/(1−2ε); β=0.1, ε=0.1 (<0.5)' }),
  ipo: define({ name: 'ipo', needsReference: true, dataKind: 'pairs', uses: ['beta', 'rpoAlpha'], defaults: { beta: 0.1 },
    limits: { beta: { min: 0, minExclusive: true, why: 'IPO regresses the log-ratio towards 1/(2β)' } },
    doc: 'IPO (Azar et al. 2023): (Δ̄ − 1/(2β))², Δ̄ from length-averaged log-probs; β=0.1' }),
  hinge: define({ name: 'hinge', needsReference: true, dataKind: 'pairs', uses: ['beta', 'rpoAlpha'], defaults: { beta: 0.1 },
    doc: 'Hinge on the DPO log-ratio (TRL "hinge", after SLiC): max(0, 1 − βΔ); β=0.1' }),
  slic: define({ name: 'slic', needsReference: false, dataKind: 'pairs', uses: ['delta', 'lambda'], defaults: { delta: 1, lambda: 0.1 },
    doc: 'SLiC-HF (Zhao et al. 2023): max(0, δ − log πθ(y_w) + log πθ(y_l)) − λ log πθ(y_w), summed log-probs, no reference; δ=1, λ=0.1' }),
  rrhf: define({ name: 'rrhf', needsReference: false, dataKind: 'rankings', uses: ['sftWeight', 'rrhfSftReduction'], defaults: { sftWeight: 1 },
    doc: 'RRHF (Yuan et al. 2023): Σ_{i below j} max(0, p_i − p_j) + sftWeight·NLL(best), p = mean token log-prob, NLL = mean token NLL (rrhfSftReduction "mean"; "sum" = the paper\'s), no reference; sftWeight=1' }),
  sft: define({ name: 'sft', needsReference: false, dataKind: 'sft', uses: [], defaults: {},
    doc: 'SFT: token-averaged negative log-likelihood of the target completions (TRL SFTTrainer)' }),
  orpo: define({ name: 'orpo', needsReference: false, dataKind: 'pairs', uses: ['beta'], defaults: { beta: 0.1 },
    doc: 'ORPO (Hong et al. 2024, TRL): NLL(chosen) − λ log σ(log odds ratio of mean log-probs), no reference; λ=beta=0.1' }),
  simpo: define({ name: 'simpo', needsReference: false, dataKind: 'pairs', uses: ['beta', 'gamma'], defaults: { beta: 2, gamma: 0.5 },
    doc: 'SimPO (Meng et al. 2024): −log σ(β(p̄_w − p̄_l) − γ), mean log-probs, no reference; β=2, γ=0.5 (paper; TRL CPOConfig defaults β=0.1, simpo_gamma=0.5)' }),
  kto: define({ name: 'kto', needsReference: true, dataKind: 'unpaired', uses: ['beta', 'desirableWeight', 'undesirableWeight'],
    defaults: { beta: 0.1, desirableWeight: 1, undesirableWeight: 1 },
    doc: 'KTO (Ethayarajh et al. 2024, TRL): w·(1 − σ(β(±(r − z)))), z = detached KL estimate from mismatched pairs; β=0.1' }),
} as const;

export type LossName = keyof typeof LOSS_METHODS;
/** Every trainable method: the losses plus SPIN (a DPO driver over generated data). */
export const METHODS = [...(Object.keys(LOSS_METHODS) as LossName[]), 'spin'] as const;
export type MethodName = LossName | 'spin';

/** The loss a method trains with (SPIN trains DPO). */
export function lossOfMethod(method: MethodName): LossName {
  return method === 'spin' ? 'dpo' : method;
}

/** The description of a loss, or an error listing the known names (for SPIN ask for `lossOfMethod('spin')`). */
export function methodSpec(name: string): MethodSpec {
  const spec = (LOSS_METHODS as Record<string, MethodSpec>)[name];
  if (!spec) throw new Error(`unknown loss "${name}": expected one of ${Object.keys(LOSS_METHODS).join(', ')}`);
  return spec;
}

/** DEFAULT_HYPER, then the method's defaults, then the user's overrides (undefined values ignored). */
export function resolveHyper(name: string, overrides: Partial<LossHyper> = {}): LossHyper {
  const out: LossHyper = { ...DEFAULT_HYPER, ...methodSpec(name).defaults };
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  return out;
}
