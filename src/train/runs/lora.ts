/**
 * A run's LoRA settings as its config carries them (`lora: {r, alpha, targetModules}`), and how they are
 * written: "LoRA r=8" in the runs view, "LoRA r=8, α=16, targets c_attn" in tooltips and the loss panel's
 * header. Imports nothing, so the loss panel's webview bundle uses it too.
 */

/** LoRA settings of a run as its config carries them (`lora: {r, alpha, targetModules}`). */
export interface LoraSettings {
  /** Adapter rank. */
  r: number;
  /** lora_alpha (updates scaled by alpha / r). */
  alpha: number;
  /** Adapted linear modules (empty: the model family's defaults, filled in once the model loads). */
  targetModules: string[];
}

/** The LoRA settings of a config object, when it has a valid `lora` field. */
export function loraOf(config: unknown): LoraSettings | undefined {
  const l = (config as { lora?: unknown } | null | undefined)?.lora as Partial<LoraSettings> | undefined;
  if (!l || typeof l !== 'object' || typeof l.r !== 'number') return undefined;
  const targets = Array.isArray(l.targetModules) ? l.targetModules.filter((t): t is string => typeof t === 'string') : [];
  return { r: l.r, alpha: typeof l.alpha === 'number' ? l.alpha : NaN, targetModules: targets };
}

/** "LoRA r=8" (short, for the runs view) or "LoRA r=8, α=16, targets c_attn" (long, for headers and tooltips). */
export function loraLabel(lora: LoraSettings, long = true): string {
  if (!long) return `LoRA r=${lora.r}`;
  const parts = [`LoRA r=${lora.r}`];
  if (Number.isFinite(lora.alpha)) parts.push(`α=${lora.alpha}`);
  parts.push(`targets ${lora.targetModules.length ? lora.targetModules.join(', ') : 'model defaults'}`);
  return parts.join(', ');
}

/** The runs view's short LoRA note ("LoRA r=8") and long one ("LoRA r=8, α=16, targets c_attn") of a run's config. */
export function loraNotesOf(config: unknown): { short: string; long: string } | undefined {
  const lora = loraOf(config);
  return lora ? { short: loraLabel(lora, false), long: loraLabel(lora) } : undefined;
}
