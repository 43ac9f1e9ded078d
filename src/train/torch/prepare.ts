/**
 * The run folder the torch executor reads (python/CONTRACT.md §2), written by the TypeScript side, which
 * keeps owning the data: the data file is read and compiled (data core rules), split by prompt with the
 * seed, and every example tokenized with the tfjs path's own code (`layoutOf` + `tokenizeRow`: prompt
 * left-truncated, completion right-truncated, EOS, chat templates), so both executors see the same ids.
 * Writes config.json (resolved: executor torch, absolute model, maxLength, LoRA targets), split.json,
 * data/meta.json and data/STAGE.{train,eval}.jsonl. Only the tokenizer is loaded, never the weights.
 */
import { mkdirSync } from 'node:fs';
import { writeFileAtomicSync } from '../../core/atomicWrite';
import { join, resolve } from 'node:path';
import { tokenizeRow } from '../../engine/logps';
import { loadTokenizer, readJson } from '../../engine/tokenizer';
import type { EngineTokenizer } from '../../engine/types';
import type { ResolvedTrainConfig } from '../config/index';
import { layoutOf } from '../stage/batching';
import { allPrompts, chooseEvalPrompts, examplesFor, readSourceData, splitByPrompt, type ExamplesByKind } from '../data';
import { methodSpec, lossOfMethod } from '../losses/methods';
import type { DataKind } from '../losses/types';
import { runPaths, writeRunConfig } from '../runs/folder';

/** One stage of data/meta.json. */
export interface PreparedStage {
  stage: string;
  loss: string;
  kind: DataKind;
  epochs: number;
  lr: number;
  train: string;
  eval: string;
  count: { train: number; eval: number };
}

/** What was prepared (the notes of the data reader become log events). */
export interface Prepared {
  config: ResolvedTrainConfig;
  stages: PreparedStage[];
  notes: string[];
}

/** The context length a model folder's config.json declares (any architecture transformers knows). */
function contextOf(raw: Record<string, unknown>): number | undefined {
  for (const k of ['max_position_embeddings', 'n_positions', 'n_ctx', 'seq_length']) if (typeof raw[k] === 'number') return raw[k] as number;
  return undefined;
}

/** PEFT-style default LoRA targets by model type (GPT-2's fused c_attn, else the q/v projections). */
function defaultTargets(raw: Record<string, unknown>): string[] {
  return raw.model_type === 'gpt2' ? ['c_attn'] : ['q_proj', 'v_proj'];
}

/** One line of STAGE.{train,eval}.jsonl: the example's tokenized sequences, in the engine's layout. */
function exampleLine<K extends DataKind>(kind: K, split: ExamplesByKind[K][], i: number, c: ResolvedTrainConfig, tok: EngineTokenizer, withRow: boolean): string {
  const layout = layoutOf(kind, split, [i], c.ktoKl);
  const sequences = layout.sequences.map((s) => {
    const t = tokenizeRow(tok, s, { maxLength: c.maxLength, maxPromptLength: c.maxPromptLength });
    return { prompt: t.promptIds, completion: t.completionIds };
  });
  const ex = split[i] as unknown as Record<string, unknown>;
  return JSON.stringify({
    sequences,
    ...(kind === 'rankings' ? { ranks: ex.ranks } : {}),
    ...(kind === 'unpaired' ? { label: ex.label } : {}),
    ...(withRow ? { row: { prompt: ex.prompt, completion: ex.completion } } : {}),
  });
}

/** Reads, compiles, splits and tokenizes the data and writes the folder Python trains from. */
export async function prepareTorchRun(input: ResolvedTrainConfig, runDir: string): Promise<Prepared> {
  if (!input.model) throw new Error('the torch executor trains a model folder (--model DIR)');
  const model = resolve(input.model);
  const raw = readJson(join(model, 'config.json'));
  const tokenizer = loadTokenizer(model, raw);
  const maxLength = input.maxLength || Math.min(256, contextOf(raw) ?? 256);
  const config: ResolvedTrainConfig = {
    ...input, executor: 'torch', model, maxLength, maxPromptLength: input.maxPromptLength || Math.floor(maxLength / 2),
    ...(input.lora ? { lora: { ...input.lora, targetModules: input.lora.targetModules.length ? input.lora.targetModules : defaultTargets(raw) } } : {}),
  };
  const src = await readSourceData(config.data, config.log, config.pairMode);
  const evalPrompts = chooseEvalPrompts(allPrompts(src), config.evalFraction, config.seed);
  writeRunConfig(runDir, config);
  writeFileAtomicSync(runPaths(runDir).split, JSON.stringify({ evalPrompts: [...evalPrompts].map((k) => JSON.parse(k)) }, null, 2) + '\n');
  const dataDir = join(runDir, 'data');
  mkdirSync(dataDir, { recursive: true });
  const loss = lossOfMethod(config.method);
  const kind = config.method === 'spin' ? 'sft' : methodSpec(loss).dataKind;
  const { train, eval: evalRows } = splitByPrompt(examplesFor(src, kind), evalPrompts);
  const stage = config.method;
  const files = { train: `data/${stage}.train.jsonl`, eval: `data/${stage}.eval.jsonl` };
  const write = (rel: string, rows: ExamplesByKind[DataKind][]) =>
    writeFileAtomicSync(join(runDir, rel), rows.map((_, i) => exampleLine(kind, rows, i, config, tokenizer, config.method === 'spin') + '\n').join(''));
  write(files.train, train);
  write(files.eval, evalRows);
  const stages: PreparedStage[] = [{ stage, loss, kind, epochs: config.epochs, lr: config.lr, ...files, count: { train: train.length, eval: evalRows.length } }];
  const meta = { version: 1, model, tokenizer: { eosId: tokenizer.eosId, padId: tokenizer.padId, bosId: (tokenizer as { bosId?: number | null }).bosId ?? null }, stages };
  writeFileAtomicSync(join(dataDir, 'meta.json'), JSON.stringify(meta, null, 2) + '\n');
  return { config, stages, notes: src.notes };
}
