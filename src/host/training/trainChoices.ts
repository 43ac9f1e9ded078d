/**
 * The choices of the "DAP: Train…" quick pick that come from the training-config declaration and the loss
 * registry (no vscode, so unit tests read them): the methods with their default β (the registry's, only for
 * methods whose loss reads β) and the executors with their help.
 */
import { TRAIN_FIELDS, type Executor } from '../../train/config/index';
import { lossOfMethod, methodSpec, METHODS, resolveHyper, type MethodName } from '../../train/losses/methods';

/** One line per method for the quick pick (what it is, in words; the formulas are in the loss registry). */
const METHOD_DETAIL: Record<MethodName, string> = {
  dpo: 'Direct Preference Optimization: −log σ(βΔ)',
  cdpo: 'Conservative DPO: label smoothing ε',
  robust: 'Robust DPO: unbiased under flipped labels',
  ipo: 'IPO: squared loss towards 1/(2β)',
  hinge: 'Hinge (TRL "hinge"): max(0, 1 − βΔ)',
  slic: 'SLiC-HF: calibration hinge + SFT term, no reference model',
  rrhf: 'RRHF: ranking loss over all responses, no reference model',
  orpo: 'ORPO: odds-ratio term on top of SFT, no reference model',
  simpo: 'SimPO: length-normalised margin with γ, no reference model',
  kto: 'KTO: unpaired desirable/undesirable labels',
  spin: 'SPIN: self-play iterations against the previous model',
  sft: 'Supervised fine-tuning on the best responses',
};

/** Methods offered in the quick pick (the config's method values), with their default β from the loss registry (undefined: the method has no β). */
export const METHOD_CHOICES: readonly { method: MethodName; detail: string; beta?: number }[] = METHODS.map((method) => {
  const loss = lossOfMethod(method);
  return { method, detail: METHOD_DETAIL[method], ...(methodSpec(loss).uses.includes('beta') ? { beta: resolveHyper(loss).beta } : {}) };
});

/** The executor step's choices: the config's executor values with their help. */
export const EXECUTOR_CHOICES: readonly { executor: Executor; detail: string }[] = (() => {
  const f = TRAIN_FIELDS.executor;
  if (f.kind !== 'enum') throw new Error('executor: expected an enum field');
  return (f.values as readonly Executor[]).map((executor) => ({ executor, detail: f.valueHelp?.[executor] ?? '' }));
})();
