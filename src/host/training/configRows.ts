/**
 * The rows the Runs view lists under a run (no vscode): its config fields, keeping only what applies to
 * the run's method — of the loss hyper-parameters only those the method's loss reads (the loss registry's
 * `uses`: dpo shows `loss.beta`, cdpo also `loss.labelSmoothing`, slic `loss.delta` and `loss.lambda`, sft
 * none), SPIN's generation settings only for spin runs, KTO's KL estimate only for kto.
 */
import { lossOfMethod, METHODS, methodSpec, type MethodName } from '../../train/losses/methods';

/** Config fields that only one method reads. */
const ONLY_FOR: Record<string, MethodName> = { spin: 'spin', ktoKl: 'kto' };

/** [label, value] rows of a run's config for the Runs view. */
export function configRows(config: Record<string, unknown>): [string, string][] {
  const method = METHODS.find((m) => m === config.method);
  const uses = method ? new Set<string>(methodSpec(lossOfMethod(method)).uses) : undefined;
  const rows: [string, string][] = [];
  for (const [key, value] of Object.entries(config)) {
    if (value === undefined) continue;
    if (method && ONLY_FOR[key] !== undefined && ONLY_FOR[key] !== method) continue;
    if (key === 'loss' && value && typeof value === 'object' && uses) {
      for (const [field, v] of Object.entries(value as Record<string, unknown>)) if (uses.has(field)) rows.push([`loss.${field}`, String(v)]);
      continue;
    }
    rows.push([key, typeof value === 'object' ? JSON.stringify(value) : String(value)]);
  }
  return rows;
}
