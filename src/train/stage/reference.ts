/**
 * Reference-model log-probs. Precomputed (default): scored once, before the first update, from the policy
 * as it is at the start of the stage (policy = reference), kept on the host as plain arrays per example
 * and saved to the run folder so a resumed run uses the very same numbers. Live: scored on every batch by a
 * frozen copy of the initial model (no gradient).
 */
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { writeFileAtomicSync } from '../../core/atomicWrite';
import { buildBatch, disposeBatch, sequenceLogps, type BatchOptions } from '../../engine/logps';
import type { CausalLM, EngineTokenizer } from '../../engine/types';
import type { ExamplesByKind } from '../data/index';
import type { DataKind, RefLogps } from '../losses/types';
import { layoutOf, type Layout } from './batching';

/** Reference log-probs of every sequence of every example: sums[i][k], means[i][k] for example i, sequence k. */
export interface RefTable {
  sums: number[][];
  means: number[][];
}

/** Scores every example's sequences with `model` (no gradient), `batchSize` examples per pass. */
export async function computeRefTable<K extends DataKind>(
  model: CausalLM, tokenizer: EngineTokenizer, kind: K, examples: ExamplesByKind[K][], batchSize: number,
  batchOptions: BatchOptions, ktoKl: 'mismatched' | 'batch',
): Promise<RefTable> {
  const table: RefTable = { sums: [], means: [] };
  for (let start = 0; start < examples.length; start += batchSize) {
    const idx = Array.from({ length: Math.min(batchSize, examples.length - start) }, (_, i) => start + i);
    const layout = layoutOf(kind, examples, idx, ktoKl);
    const batch = buildBatch(tokenizer, layout.sequences, batchOptions);
    const l = sequenceLogps(model, batch); // (N,) each; sequenceLogps tidies its intermediates
    const [s, m] = await Promise.all([l.sum.data(), l.mean.data()]);
    tf.dispose([l.sum, l.mean, l.count]);
    disposeBatch(batch);
    await new Promise((res) => setImmediate(res)); // keep the process responsive (IPC, signals)
    idx.forEach((_, j) => {
      table.sums.push(Array.from(s.subarray(layout.offsets[j], layout.offsets[j + 1])));
      table.means.push(Array.from(m.subarray(layout.offsets[j], layout.offsets[j + 1])));
    });
  }
  return table;
}

/** The reference tensors (N,) of a micro-batch of examples `idx`, stacked like its layout. */
export function refTensors(table: RefTable, idx: number[], layout: Layout): RefLogps {
  const sums = idx.flatMap((i) => table.sums[i]);
  const means = idx.flatMap((i) => table.means[i]);
  if (sums.length !== layout.sequences.length) throw new Error('reference table does not match the batch layout');
  return { sum: tf.tensor1d(sums, 'float32'), mean: tf.tensor1d(means, 'float32') };
}

/** Saves reference tables (train and eval) as JSON. */
export function saveRefTables(path: string, tables: { train: RefTable; eval: RefTable }): void {
  writeFileAtomicSync(path, JSON.stringify(tables) + '\n');
}

/** Loads tables written by saveRefTables, checking they cover `nTrain` / `nEval` examples. */
export function loadRefTables(path: string, nTrain: number, nEval: number): { train: RefTable; eval: RefTable } {
  const t = JSON.parse(readFileSync(path, 'utf8')) as { train: RefTable; eval: RefTable };
  if (t.train.sums.length !== nTrain || t.eval.sums.length !== nEval) {
    throw new Error(`${path}: reference log-probs cover ${t.train.sums.length}/${t.eval.sums.length} examples, the data has ${nTrain}/${nEval}: resume with the same data and config`);
  }
  return t;
}
