/**
 * LoRA in a training run (config `lora`): which folder is the adapters' base model (the model folder, or
 * the built-in model's sft-model/ after its full fine-tuning SFT stage), default target modules, enabling
 * the adapters before the method's stage, loading a resumed policy (base + a checkpoint's adapter/, or a
 * full checkpoint model/ with the source dtypes restored), the PEFT-style trainable-parameter line, and the
 * run's outputs: RUN/adapter/ (PEFT layout) plus RUN/model/ with the adapters merged, in the source dtype.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadPretrained, saveModel, weightDtypes } from '../../engine/checkpoint';
import { defaultLoraTargets, enableLora, loadLoraAdapter, loraParameterCount, matchLoraModules, mergeLora, saveLoraAdapter } from '../../engine/lora';
import type { FloatDtype } from '../../engine/safetensors';
import type { TransformerLM } from '../../engine/transformer';
import type { EngineTokenizer } from '../../engine/types';
import { readJson } from '../../engine/tokenizer';
import type { ResolvedTrainConfig } from '../config';
import { deriveSeed } from '../../core/random';
import { runPaths } from '../runs/folder';
import { checkpointAdapterDir } from '../stage/checkpoints';

/** Tag mixed into the run seed for the adapters' A initialisation. */
const LORA_SEED_TAG = 0x10a;

/** The base model folder of a run's adapters (absolute): the model folder, or the run's sft-model/. */
export function loraBaseOf(config: ResolvedTrainConfig, runDir: string): string {
  return config.model ? resolve(config.model) : resolve(runPaths(runDir).sftModel);
}

/**
 * Fills config.lora.targetModules with the model family's defaults when unset, and checks that the targets
 * select at least one linear module (before any stage runs, so a typo fails at once).
 */
export function resolveLoraTargets(config: ResolvedTrainConfig, model: TransformerLM): void {
  const l = config.lora;
  if (!l) return;
  if (l.targetModules.length === 0) l.targetModules = defaultLoraTargets(model);
  if (matchLoraModules(model, l.targetModules).length === 0) {
    const names = [...new Set(model.linearModules().map((m) => m.split('.').pop()))].join(', ');
    throw new Error(`config: lora.targetModules: [${l.targetModules.join(', ')}] match no linear module of this ${model.config.modelType} model (available: ${names})`);
  }
}

/** Adds fresh adapters (B = 0: the model is unchanged) to the policy; returns the adapted module names. */
export function enableRunLora(config: ResolvedTrainConfig, policy: TransformerLM): string[] {
  const l = config.lora;
  if (!l) throw new Error('enableRunLora: the config has no lora settings');
  return enableLora(policy, { r: l.r, alpha: l.alpha, targetModules: l.targetModules, seed: deriveSeed(config.seed, LORA_SEED_TAG) });
}

/** PEFT's print_trainable_parameters line: "trainable params: N || all params: M || trainable%: P". */
export function trainableParamsLine(model: TransformerLM): string {
  const adapters = loraParameterCount(model);
  const all = model.parameterCount() + adapters;
  const trainable = model.lora.size > 0 ? adapters : model.parameterCount();
  const fmt = (n: number) => n.toLocaleString('en-US');
  return `trainable params: ${fmt(trainable)} || all params: ${fmt(all)} || trainable%: ${((100 * trainable) / all).toFixed(4)}`;
}

/**
 * The policy of a resumed run from checkpoint `ckpt`: the base model + the checkpoint's adapter/ for a LoRA
 * stage (base: the built-in run's sft-model/, else the adapter's base_model_name_or_path, else the config's
 * model folder), or the checkpoint's full model/ otherwise — with each weight's dtype set back to the
 * source model folder's, so the final save uses the source dtype. Returns the base folder under LoRA.
 */
export function loadResumedPolicy(config: ResolvedTrainConfig, runDir: string, ckpt: string): { model: TransformerLM; tokenizer: EngineTokenizer; loraBase?: string } {
  const adapterDir = checkpointAdapterDir(ckpt);
  if (adapterDir) {
    let base = runPaths(runDir).sftModel;
    if (config.model) {
      const named = (readJson(join(adapterDir, 'adapter_config.json')) as { base_model_name_or_path?: string }).base_model_name_or_path;
      base = named && existsSync(named) ? named : config.model;
    }
    if (!existsSync(base)) throw new Error(`${base}: the base model of the LoRA checkpoint ${ckpt} is missing`);
    const loaded = loadPretrained(base);
    try {
      loadLoraAdapter(loaded.model, adapterDir);
    } catch (e) {
      loaded.model.dispose();
      throw e;
    }
    return { ...loaded, loraBase: resolve(base) };
  }
  const loaded = loadPretrained(join(ckpt, 'model'));
  if (config.model && existsSync(config.model)) {
    const dtypes = weightDtypes(config.model);
    for (const p of loaded.model.params.values()) {
      const d = dtypes.get(p.spec.name);
      if (d === 'F32' || d === 'F16' || d === 'BF16') p.dtype = d as FloatDtype;
    }
  }
  return loaded;
}

/**
 * Saves the run's final outputs: with LoRA on, RUN/adapter/ (PEFT layout, naming `loraBase`) and then the
 * adapters merged into the weights; always RUN/model/ in the source checkpoint's dtype and layout. The
 * policy has no adapters afterwards (same function, merged). Returns the folders written.
 */
export async function saveFinalOutputs(policy: TransformerLM, runDir: string, loraBase: string | undefined): Promise<{ model: string; adapter?: string }> {
  const paths = runPaths(runDir);
  let adapter: string | undefined;
  if (policy.lora.size > 0) {
    adapter = paths.adapter;
    await saveLoraAdapter(policy, adapter, loraBase ?? policy.sourceDir ?? '');
    mergeLora(policy);
  }
  await saveModel(policy, paths.finalModel);
  return { model: paths.finalModel, ...(adapter ? { adapter } : {}) };
}
