/**
 * The `loss` fields of the training config: the hyper-parameters of every method, each declared once with
 * its help, CLI flag and the values any method allows. Their defaults, and narrower per-method limits (e.g.
 * robust's ε < 0.5), come from the loss registry (losses/methods.ts), so the shown defaults are derived
 * from it too. The config reads the registry, never the other way round: the registry's `LossHyper`
 * (losses/types.ts) names the hyper-parameters, and the type check fails when a field here is missing,
 * extra or of another type.
 */
import type { Limits } from '../../core/limits';
import { DEFAULT_HYPER, LOSS_METHODS, lossOfMethod, resolveHyper, type MethodName } from '../losses/methods';
import { RRHF_SFT_REDUCTIONS, type LossHyper } from '../losses/types';
import { num, oneOf, type DefaultContext, type Field } from './fields';

/** The hyper-parameters that are numbers (all but RRHF's reduction). */
type NumberHyper = { [K in keyof LossHyper]: LossHyper[K] extends number ? K : never }[keyof LossHyper];

/** The registry default of `key` for the input's method. */
const fromRegistry = (key: NumberHyper) => (c: DefaultContext): number => resolveHyper(lossOfMethod((c.input.method as MethodName | undefined) ?? 'dpo'))[key];

/** "0.1 (simpo 2)": the registry's defaults of `key` over the methods that read it, the most common first. */
export function registryDefaultText(key: NumberHyper): string {
  const byValue = new Map<number, string[]>();
  for (const [name, spec] of Object.entries(LOSS_METHODS)) {
    if (!(spec.uses as readonly string[]).includes(key)) continue;
    const v = resolveHyper(name)[key];
    byValue.set(v, [...(byValue.get(v) ?? []), name]);
  }
  const groups = [...byValue.entries()].sort((a, b) => b[1].length - a[1].length);
  if (groups.length === 0) return String(DEFAULT_HYPER[key]);
  const [[first], ...rest] = groups;
  if (rest.length) return `${first} (${rest.map(([v, ms]) => `${ms.join('/')} ${v}`).join(', ')})`;
  const users = groups[0][1];
  return users.length < Object.keys(LOSS_METHODS).length / 2 ? `${first} (${users.join(', ')})` : `${first}`;
}

const hyper = (key: NumberHyper, o: { help: string; flag?: string; flagArg?: string; limits: Limits }): Field<number, number, false, true> =>
  num({ ...o, default: fromRegistry(key), defaultText: registryDefaultText(key) });

/** A field for each of the registry's loss hyper-parameters, no more and no fewer, of the same types. */
export const LOSS_FIELDS = {
  beta: hyper('beta', { flag: 'beta', flagArg: 'B', help: 'β: inverse temperature of the implicit reward (dpo, cdpo, robust, ipo, hinge, kto, spin); simpo\'s β; orpo\'s λ. Larger β keeps the policy closer to the reference',
    limits: { min: 0, minExclusive: true, why: 'β ≤ 0 removes or reverses the preference (DPO would then prefer the rejected responses)' } }),
  labelSmoothing: hyper('labelSmoothing', { flag: 'label-smoothing', flagArg: 'E', help: 'ε: assumed probability that a label is flipped (cdpo, robust)',
    limits: { min: 0, max: 0.5, maxExclusive: true, why: 'ε is a probability of a flipped label, below 0.5' } }),
  delta: hyper('delta', { flag: 'delta', flagArg: 'D', help: 'δ: SLiC-HF\'s hinge margin on the log-likelihood difference', limits: { min: 0 } }),
  lambda: hyper('lambda', { flag: 'lambda', flagArg: 'L', help: 'λ: weight of SLiC-HF\'s regulariser −log πθ(y_ref)', limits: { min: 0 } }),
  gamma: hyper('gamma', { flag: 'gamma', flagArg: 'G', help: 'γ: SimPO\'s target reward margin', limits: { min: 0 } }),
  desirableWeight: hyper('desirableWeight', { flag: 'desirable-weight', flagArg: 'W', help: 'KTO weight of desirable examples', limits: { min: 0, minExclusive: true } }),
  undesirableWeight: hyper('undesirableWeight', { flag: 'undesirable-weight', flagArg: 'W', help: 'KTO weight of undesirable examples', limits: { min: 0, minExclusive: true } }),
  sftWeight: hyper('sftWeight', { flag: 'sft-weight', flagArg: 'W', help: 'RRHF weight of the SFT term (the NLL of the best response)', limits: { min: 0 } }),
  rpoAlpha: hyper('rpoAlpha', { flag: 'rpo-alpha', flagArg: 'A', help: 'α: weight of an NLL term on the chosen responses added to the reference-based pair losses (dpo, cdpo, robust, ipo, hinge, spin; TRL\'s rpo_alpha, RPO of Pang et al. 2024, who use 1); keeps the chosen responses likely while the rejected ones are pushed down; 0 = off',
    limits: { min: 0 } }),
  rrhfSftReduction: oneOf(RRHF_SFT_REDUCTIONS, { flag: 'rrhf-sft', default: DEFAULT_HYPER.rrhfSftReduction,
    help: 'RRHF\'s SFT term: mean = mean token NLL of the best response (same scale as the ranking term, independent of padding), sum = its summed NLL (the paper\'s L_ft)' }),
} satisfies { [K in keyof LossHyper]: Field<LossHyper[K], LossHyper[K], false, true> };
