/**
 * Hugging Face model folders: loading (config.json, model.safetensors or model.safetensors.index.json
 * shards, tokenizer files) and saving back in the same layout, key names and dtypes so that
 * transformers.AutoModelForCausalLM.from_pretrained loads the result. Pickle checkpoints
 * (pytorch_model.bin, *.pt, *.pth, *.ckpt) are refused and never opened: unpickling runs arbitrary code.
 */
import { copyFileSync, existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { writeFolderAtomic } from '../core/atomicWrite';
import { join, resolve } from 'node:path';
import { parseConfig, type ModelConfig } from './config';
import { buildModel, paramFromHf, paramToHf, weightSpecsFor } from './models';
import {
  decodeFloats, encodeFloats, readHeader, readTensorBytes, writeSafetensors,
  type FloatDtype, type SafetensorsHeader, type TensorToWrite,
} from './safetensors';
import { builtinTokenizer, openBuiltinModel } from './builtin';
import { byteTokenizerConfigJson, byteTokenizerJson, loadTokenizer, readJson } from './tokenizer';
import type { Param, TransformerLM } from './transformer';
import type { EngineTokenizer } from './types';

/** Tokenizer and generation files copied from the source folder on save. */
export const TOKENIZER_FILES = [
  'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.json', 'merges.txt',
  'tokenizer.model', 'added_tokens.json', 'chat_template.jinja', 'generation_config.json',
];

const PICKLE_RE = /\.(bin|pt|pth|ckpt|pkl)$/i;

/** The weight files of a folder: a single file, or shards from the index (tensor key → shard file). */
function findWeights(dir: string): { files: string[]; shardOf: Map<string, string> | null } {
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

/** Loads a model folder and its tokenizer. */
export function loadPretrained(dir: string): { model: TransformerLM; tokenizer: EngineTokenizer } {
  const model = loadModelWeights(dir);
  try {
    return { model, tokenizer: loadTokenizer(dir, model.config.raw) };
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/** Options for saveModel. */
export interface SaveOptions {
  /** dtype for weights that have none recorded: defaults to each parameter's checkpoint dtype. */
  dtype?: FloatDtype;
}

/**
 * Saves base weights (LoRA adapters are saved separately, see lora.ts) as an HF folder: weights in the
 * layout they were loaded in (single file or the same shards), config.json, tokenizer files.
 * Refuses to write into the folder the model was loaded from (never rewrite the user's input). The folder
 * is written whole or not at all: filled under a temporary name, fsync'd, renamed (core/atomicWrite.ts),
 * replacing an existing folder of that name.
 */
export async function saveModel(model: TransformerLM, dir: string, options: SaveOptions = {}): Promise<void> {
  const target = resolve(dir);
  if (model.sourceDir && target === model.sourceDir) throw new Error(`${target}: refusing to overwrite the folder the model was loaded from; save to a new folder`);
  await writeFolderAtomic(target, (out) => writeModelFiles(model, out, options));
}

async function writeModelFiles(model: TransformerLM, out: string, options: SaveOptions): Promise<void> {
  const tensors: TensorToWrite[] = [];
  for (const p of model.params.values()) {
    const key = p.spec.name.startsWith('lm_head') ? p.spec.name : model.keyPrefix + p.spec.name;
    const dtype = options.dtype ?? p.dtype;
    tensors.push({ name: key, dtype, shape: p.spec.hfShape, bytes: encodeFloats(await paramToHf(p), dtype) });
  }
  const embedding = model.params.get(model.config.family === 'gpt2' ? 'wte.weight' : 'model.embed_tokens.weight');
  for (const e of model.extras) {
    // A tied model whose checkpoint also stored lm_head.weight (a copy of the embeddings): keep the copy equal
    // to the trained embeddings, so no loader can pick up the stale head.
    const tiedCopy = e.name === 'lm_head.weight' && model.config.tieWordEmbeddings && embedding !== undefined &&
      (e.dtype === 'F32' || e.dtype === 'F16' || e.dtype === 'BF16') && e.shape.join() === embedding.spec.hfShape.join();
    tensors.push(tiedCopy ? { ...e, bytes: encodeFloats(await paramToHf(embedding), e.dtype as FloatDtype) } : { ...e });
  }
  let written: string[];
  if (model.shardOf) {
    const byFile = new Map<string, TensorToWrite[]>();
    for (const t of tensors) {
      const f = model.shardOf.get(t.name) ?? [...model.shardOf.values()][0];
      byFile.set(f, [...(byFile.get(f) ?? []), t]);
    }
    const weightMap: Record<string, string> = {};
    let total = 0;
    for (const [f, ts] of byFile) {
      writeSafetensors(join(out, f), ts);
      for (const t of ts) {
        weightMap[t.name] = f;
        total += t.bytes.length;
      }
    }
    const sortedMap = Object.fromEntries(Object.entries(weightMap).sort(([a], [b]) => (a < b ? -1 : 1)));
    writeFileSync(join(out, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: total }, weight_map: sortedMap }, null, 2) + '\n');
    written = [...byFile.keys()];
  } else {
    writeSafetensors(join(out, 'model.safetensors'), tensors);
    written = ['model.safetensors'];
  }
  const raw = { ...model.config.raw };
  const dtypes = new Set([...model.params.values()].map((p) => options.dtype ?? p.dtype));
  if (dtypes.size === 1) raw.torch_dtype = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' }[[...dtypes][0] as FloatDtype] ?? raw.torch_dtype;
  writeFileSync(join(out, 'config.json'), JSON.stringify(raw, null, 2) + '\n');
  if (raw.dap_tokenizer === 'bytes') {
    writeFileSync(join(out, 'tokenizer.json'), JSON.stringify(byteTokenizerJson()) + '\n');
    writeFileSync(join(out, 'tokenizer_config.json'), JSON.stringify(byteTokenizerConfigJson(), null, 2) + '\n');
  } else if (model.sourceDir) {
    for (const f of TOKENIZER_FILES) {
      const src = join(model.sourceDir, f);
      if (existsSync(src) && !written.includes(f)) copyFileSync(src, join(out, f));
    }
  }
}

/**
 * A model by name: "builtin" (the shipped pretrained built-in model and the byte tokenizer) or a Hugging
 * Face folder path.
 */
export function openModel(spec: string, seed = 0): { model: TransformerLM; tokenizer: EngineTokenizer } {
  if (spec === 'builtin') return { model: openBuiltinModel(seed).model, tokenizer: builtinTokenizer() };
  return loadPretrained(spec);
}
