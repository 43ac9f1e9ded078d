/**
 * The loss registry: method name → {fn, needsReference, dataKind, uses, defaults, limits, doc}. The
 * description of each method lives in methods.ts (no tfjs, so the host and the config validation read it);
 * this file joins it with the loss function. The trainer looks the method up here (no if/else chain);
 * adding a method is one entry in each table. SPIN is not a loss: it is a driver (src/train/pipeline/spin.ts) that
 * trains `dpo` on generated pairs.
 */
import type { DataKind, InputsByKind, LossHyper, LossOutput, LossSpec } from './types';
import { cdpoLoss, dpoLoss, hingeLoss, ipoLoss, robustLoss } from './preference';
import { orpoLoss, simpoLoss, slicLoss } from './referenceFree';
import { rrhfLoss } from './rrhf';
import { sftLoss } from './sft';
import { ktoLoss } from './kto';
import { LOSS_METHODS, type MethodSpec } from './methods';

export type * from './types';
export { logSigmoid } from './common';
export { DEFAULT_HYPER, LOSS_METHODS, METHODS, lossOfMethod, methodSpec, resolveHyper, type LossName, type MethodName, type MethodSpec } from './methods';

function define<K extends DataKind>(spec: MethodSpec<K>, fn: LossSpec<K>['fn']): LossSpec<K> {
  return { ...spec, fn };
}

/** Every loss, by method name. */
export const LOSSES = {
  dpo: define(LOSS_METHODS.dpo, dpoLoss),
  cdpo: define(LOSS_METHODS.cdpo, cdpoLoss),
  robust: define(LOSS_METHODS.robust, robustLoss),
  ipo: define(LOSS_METHODS.ipo, ipoLoss),
  hinge: define(LOSS_METHODS.hinge, hingeLoss),
  slic: define(LOSS_METHODS.slic, slicLoss),
  rrhf: define(LOSS_METHODS.rrhf, rrhfLoss),
  sft: define(LOSS_METHODS.sft, sftLoss),
  orpo: define(LOSS_METHODS.orpo, orpoLoss),
  simpo: define(LOSS_METHODS.simpo, simpoLoss),
  kto: define(LOSS_METHODS.kto, ktoLoss),
} as const satisfies Record<keyof typeof LOSS_METHODS, { name: string }>;

/** A loss spec with its input type erased, for generic callers that dispatch on `dataKind`. */
export interface AnyLossSpec extends MethodSpec {
  fn: (inputs: InputsByKind[DataKind], hp: LossHyper) => LossOutput;
}

/** The registry entry of a loss, or an error listing the known names. */
export function getLoss(name: string): AnyLossSpec {
  const spec = (LOSSES as Record<string, LossSpec<DataKind>>)[name];
  if (!spec) throw new Error(`unknown loss "${name}": expected one of ${Object.keys(LOSSES).join(', ')}`);
  return spec as unknown as AnyLossSpec;
}
