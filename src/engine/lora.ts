/**
 * LoRA adapters (low-rank updates W + (α/r)·A·B on chosen linear modules) saved and loaded in PEFT's
 * layout: adapter_config.json (peft_type "LORA", task_type "CAUSAL_LM", r, lora_alpha, target_modules,
 * base_model_name_or_path, ...) and adapter_model.safetensors with keys
 * "base_model.model.<module path>.lora_A.weight" (r, in) and "...lora_B.weight" (out, r).
 * A starts as PEFT's default (Kaiming-uniform, bound 1/√in), B at zero, so the model is unchanged at init.
 * While LoRA is on, the model's trainableVariables() are the adapters only. `mergeLora` folds the adapters
 * into the base weights (W ← W + (α/r)·A·B) and removes them.
 */
import * as tf from '@tensorflow/tfjs-core';
import { existsSync, writeFileSync } from 'node:fs';
import { writeFolderAtomic } from '../core/atomicWrite';
import { join } from 'node:path';
import { mulberry32 } from '../core/random';
import { decodeFloats, encodeFloats, readHeader, readTensorBytes, writeSafetensors, type TensorToWrite } from './safetensors';
import { readJson } from './tokenizer';
import type { TransformerLM } from './transformer';
import { transpose2d } from './models';

/** LoRA settings. */
export interface LoraSettings {
  /** Rank r of the update. */
  r: number;
  /** Scaling numerator: the update is multiplied by alpha / r. */
  alpha: number;
  /** Module names as PEFT matches them: a module is adapted when its path equals or ends with ".<name>" (e.g. "q_proj", "c_attn"). */
  targetModules: string[];
  /** Seed of A's initialisation (default 0). */
  seed?: number;
}

/** Default targets: the attention projections of each family. */
export function defaultLoraTargets(model: TransformerLM): string[] {
  return model.config.family === 'gpt2' ? ['c_attn'] : ['q_proj', 'v_proj'];
}

function matches(module: string, targets: string[]): boolean {
  return targets.some((t) => module === t || module.endsWith('.' + t));
}

/** The linear modules that `targets` select (PEFT's suffix rule); empty when none match. */
export function matchLoraModules(model: TransformerLM, targets: string[]): string[] {
  return model.linearModules().filter((m) => matches(m, targets));
}

/** Adds zero-initialised-B adapters to every targeted module; returns the adapted module names. */
export function enableLora(model: TransformerLM, settings: LoraSettings): string[] {
  if (model.lora.size > 0) throw new Error('LoRA is already enabled on this model');
  if (!(settings.r >= 1 && Number.isInteger(settings.r))) throw new Error(`LoRA rank r must be a positive integer (got ${settings.r})`);
  const modules = matchLoraModules(model, settings.targetModules);
  if (modules.length === 0) {
    const names = [...new Set(model.linearModules().map((m) => m.split('.').pop()))].join(', ');
    throw new Error(`LoRA target_modules [${settings.targetModules.join(', ')}] match no linear module of this ${model.config.modelType} model (available: ${names})`);
  }
  const rand = mulberry32(settings.seed ?? 0);
  for (const m of modules) {
    const [inDim, outDim] = model.params.get(`${m}.weight`)!.variable.shape; // storage (in, out)
    const bound = 1 / Math.sqrt(inDim);
    const a = Float32Array.from({ length: inDim * settings.r }, () => (2 * rand() - 1) * bound);
    // (in a tidy: the initial tensors' handles are released, so each variable owns its data alone)
    const [va, vb] = tf.tidy(() => [tf.variable(tf.tensor2d(a, [inDim, settings.r]), true), tf.variable(tf.zeros([settings.r, outDim]), true)]);
    model.lora.set(m, { a: va, b: vb, scale: settings.alpha / settings.r });
  }
  model.loraSettings = { r: settings.r, alpha: settings.alpha, targetModules: [...settings.targetModules] };
  return modules;
}

/** Removes the adapters (the base weights are untouched). */
export function disableLora(model: TransformerLM): void {
  for (const a of model.lora.values()) {
    a.a.dispose();
    a.b.dispose();
  }
  model.lora.clear();
  model.loraSettings = null;
}

/**
 * Folds every adapter into its base weight (storage layout (in, out): W ← W + scale · A·B) and removes the
 * adapters, so the model computes the same function without LoRA (up to float32 rounding). Returns the
 * merged module names.
 */
export function mergeLora(model: TransformerLM): string[] {
  const merged: string[] = [];
  for (const [m, ad] of model.lora) {
    const w = model.params.get(`${m}.weight`)!.variable; // (in, out)
    tf.tidy(() => w.assign(tf.add(w, tf.mul(tf.matMul(ad.a, ad.b), ad.scale)))); // (in, r)·(r, out)
    merged.push(m);
  }
  disableLora(model);
  return merged;
}

/** Scalar parameters of the adapters (0 when LoRA is off). */
export function loraParameterCount(model: TransformerLM): number {
  let n = 0;
  for (const ad of model.lora.values()) n += ad.a.size + ad.b.size;
  return n;
}

/** Writes the folder `dir` with adapter_config.json and adapter_model.safetensors (PEFT layout), atomically. */
export async function saveLoraAdapter(model: TransformerLM, dir: string, baseModelNameOrPath: string): Promise<void> {
  const s = model.loraSettings;
  if (!s || model.lora.size === 0) throw new Error('saveLoraAdapter: LoRA is not enabled on this model');
  await writeFolderAtomic(dir, (tmp) => writeAdapterFiles(model, s, tmp, baseModelNameOrPath));
}

async function writeAdapterFiles(model: TransformerLM, s: NonNullable<TransformerLM['loraSettings']>, dir: string, baseModelNameOrPath: string): Promise<void> {
  const tensors: TensorToWrite[] = [];
  for (const [m, ad] of model.lora) {
    const key = `base_model.model.${model.peftModulePath(m)}`;
    const [inDim, r] = ad.a.shape as [number, number];
    const outDim = ad.b.shape[1] as number;
    const aT = transpose2d((await ad.a.data()) as Float32Array, inDim, r); // (r, in)
    const bT = transpose2d((await ad.b.data()) as Float32Array, r, outDim); // (out, r)
    tensors.push({ name: `${key}.lora_A.weight`, dtype: 'F32', shape: [r, inDim], bytes: encodeFloats(aT, 'F32') });
    tensors.push({ name: `${key}.lora_B.weight`, dtype: 'F32', shape: [outDim, r], bytes: encodeFloats(bT, 'F32') });
  }
  writeSafetensors(join(dir, 'adapter_model.safetensors'), tensors);
  const config = {
    peft_type: 'LORA', task_type: 'CAUSAL_LM', base_model_name_or_path: baseModelNameOrPath, r: s.r, lora_alpha: s.alpha,
    lora_dropout: 0, target_modules: s.targetModules, bias: 'none', fan_in_fan_out: model.config.family === 'gpt2',
    inference_mode: true, init_lora_weights: true, modules_to_save: null, layers_to_transform: null, layers_pattern: null,
    rank_pattern: {}, alpha_pattern: {}, use_rslora: false, use_dora: false, revision: null,
  };
  writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify(config, null, 2) + '\n');
}

/** Enables LoRA from a PEFT adapter folder and loads its weights. */
export function loadLoraAdapter(model: TransformerLM, dir: string): void {
  const cfgPath = join(dir, 'adapter_config.json');
  const wPath = join(dir, 'adapter_model.safetensors');
  if (!existsSync(cfgPath)) throw new Error(`${cfgPath}: missing file`);
  if (!existsSync(wPath)) {
    if (existsSync(join(dir, 'adapter_model.bin'))) throw new Error(`${join(dir, 'adapter_model.bin')}: refusing to load a pickle adapter; save it with safe_serialization=True`);
    throw new Error(`${wPath}: missing file`);
  }
  const cfg = readJson(cfgPath) as { peft_type?: string; r?: number; lora_alpha?: number; target_modules?: string[] | string };
  if (cfg.peft_type !== 'LORA') throw new Error(`${cfgPath}: peft_type "${cfg.peft_type}" is not supported (LORA only)`);
  const targets = Array.isArray(cfg.target_modules) ? cfg.target_modules : typeof cfg.target_modules === 'string' ? [cfg.target_modules] : [];
  enableLora(model, { r: Number(cfg.r), alpha: Number(cfg.lora_alpha ?? cfg.r), targetModules: targets });
  const h = readHeader(wPath);
  for (const [m, ad] of model.lora) {
    const key = `base_model.model.${model.peftModulePath(m)}`;
    const [inDim, r] = ad.a.shape as [number, number];
    const outDim = ad.b.shape[1] as number;
    for (const [suffix, v, rows, cols] of [['lora_A', ad.a, r, inDim], ['lora_B', ad.b, outDim, r]] as const) {
      const name = [`${key}.${suffix}.weight`, `${key}.${suffix}.default.weight`].find((n) => h.tensors.has(n));
      if (!name) throw new Error(`${wPath}: missing tensor "${key}.${suffix}.weight"`);
      const info = h.tensors.get(name)!;
      if (info.shape[0] !== rows || info.shape[1] !== cols) throw new Error(`${wPath}: tensor "${name}" has shape [${info.shape}], expected [${rows},${cols}]`);
      const values = transpose2d(decodeFloats(readTensorBytes(h, name), info.dtype, `${wPath}: ${name}`), rows, cols);
      v.assign(tf.tensor2d(values, [cols, rows]));
    }
  }
}
