/**
 * Reading a model folder's weights (no tokenizer): the safetensors files of a Hugging Face folder, one file or
 * shards with their index (pickles refused), checked against config.json's shapes and dtypes, into a
 * TransformerLM; and each weight's dtype from the headers alone. checkpoint.ts loads whole folders with it,
 * builtin.ts the shipped built-in weights.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseConfig, type ModelConfig } from './config';
import { buildModel, paramFromHf, weightSpecsFor } from './models';
import { decodeFloats, readHeader, readTensorBytes, type FloatDtype, type SafetensorsHeader } from './safetensors';
import { readJson } from './tokenizer';
import type { Param, TransformerLM } from './transformer';


const PICKLE_RE = /\.(bin|pt|pth|ckpt|pkl)$/i;

/** The weight files of a folder: a single file, or shards from the index (tensor key → shard file). */
export function findWeights(dir: string): { files: string[]; shardOf: Map<string, string> | null } {
  const single = join(dir, 'model.safetensors');
  const index = join(dir, 'model.safetensors.index.json');
  if (existsSync(index)) {
    const json = readJson(index) as { weight_map?: Record<string, string> };
    if (!json.weight_map || typeof json.weight_map !== 'object') throw new Error(`${index}: missing "weight_map"`);
    const shardOf = new Map(Object.entries(json.weight_map));
    const files = [...new Set(shardOf.values())].sort();
    for (const f of files) if (!existsSync(join(dir, f))) throw new Error(`${join(dir, f)}: missing file (listed as a shard in ${index})`);
    return { files: files.map((f) => join(dir, f)), shardOf };
  }
  if (existsSync(single)) return { files: [single], shardOf: null };
  const pickles = readdirSync(dir).filter((f) => PICKLE_RE.test(f) || f === 'pytorch_model.bin.index.json');
  if (pickles.length > 0) {
    throw new Error(`${join(dir, pickles[0])}: refusing to load a pickle checkpoint (it can run arbitrary code when opened). ` +
      'Convert it to safetensors first, e.g. in Python: AutoModelForCausalLM.from_pretrained(dir).save_pretrained(out, safe_serialization=True)');
  }
  throw new Error(`${single}: missing file: the model folder has neither model.safetensors nor model.safetensors.index.json`);
}

/** Loads a model folder's config and weights (no tokenizer). */
export function loadModelWeights(dir: string): TransformerLM {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`${dir}: model folder not found`);
  const cfgPath = join(dir, 'config.json');
  if (!existsSync(cfgPath)) throw new Error(`${cfgPath}: missing file: a Hugging Face model folder needs config.json`);
  const config: ModelConfig = parseConfig(readJson(cfgPath), cfgPath);
  const { files, shardOf } = findWeights(dir);
  const headers: SafetensorsHeader[] = files.map(readHeader);
  const where = new Map<string, SafetensorsHeader>();
  for (const h of headers) for (const k of h.tensors.keys()) where.set(k, h);
  const specs = weightSpecsFor(config);
  const prefix = config.family === 'gpt2' && where.has('transformer.wte.weight') ? 'transformer.' : '';
  const keyOf = (name: string) => (name.startsWith('lm_head') ? name : prefix + name);
  const used = new Set<string>();
  const params: Param[] = [];
  try {
    for (const spec of specs) {
      const key = keyOf(spec.name);
      const h = where.get(key);
      if (!h) throw new Error(`${files.length === 1 ? files[0] : join(dir, 'model.safetensors.index.json')}: missing tensor "${key}" required by config.json (model_type ${config.modelType})`);
      const info = h.tensors.get(key)!;
      if (info.shape.length !== spec.hfShape.length || info.shape.some((d, i) => d !== spec.hfShape[i])) {
        throw new Error(`${h.path}: tensor "${key}" has shape [${info.shape}] but config.json implies [${spec.hfShape}]`);
      }
      if (info.dtype !== 'F32' && info.dtype !== 'F16' && info.dtype !== 'BF16') throw new Error(`${h.path}: tensor "${key}" has dtype ${info.dtype}; expected F32, F16 or BF16`);
      params.push(paramFromHf(spec, decodeFloats(readTensorBytes(h, key), info.dtype, `${h.path}: ${key}`), info.dtype as FloatDtype));
      used.add(key);
    }
  } catch (e) {
    for (const p of params) p.variable.dispose();
    throw e;
  }
  const model = buildModel(config, params);
  model.keyPrefix = prefix;
  model.shardOf = shardOf;
  model.sourceDir = resolve(dir);
  for (const h of headers) {
    for (const [k, info] of h.tensors) {
      if (!used.has(k)) model.extras.push({ name: k, dtype: info.dtype, shape: info.shape, bytes: readTensorBytes(h, k) });
    }
  }
  return model;
}

/**
 * The checkpoint dtype of each weight of a model folder, keyed by canonical name (as in model.params: GPT-2
 * without "transformer."), read from the safetensors headers only.
 */
export function weightDtypes(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of findWeights(dir).files) {
    for (const [k, info] of readHeader(f).tensors) out.set(k.startsWith('transformer.') ? k.slice('transformer.'.length) : k, info.dtype);
  }
  return out;
}
