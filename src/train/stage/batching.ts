/**
 * Turns examples of each data kind into the sequences one forward pass scores, and the per-sequence
 * log-probs of that pass back into the loss inputs (src/train/losses/types.ts). All sequences of a
 * micro-batch are stacked in one batch (a pair's chosen and rejected share the pass); `offsets[i]` is the
 * first sequence of example i. KTO examples also score a mismatched sequence (prompt of example i with the
 * completion of dataset example i+1) for the KL estimate, so its reference can be precomputed too.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { PromptCompletion } from '../../engine/logps';
import type { ExamplesByKind } from '../data/index';
import type { DataKind, InputsByKind, RefLogps, SeqLogps } from '../losses/types';
import type { SequenceRoles } from './tokenMetrics';

/** A micro-batch's sequences and where each example's sequences start. */
export interface Layout {
  sequences: PromptCompletion[];
  /** offsets[i] = index of example i's first sequence; offsets[n] = total. */
  offsets: number[];
}

/** Per-kind adapter. */
export interface KindAdapter<K extends DataKind> {
  /** The sequences of example `index` of `all` (all = the split, for KTO's mismatched completion). */
  sequences(ex: ExamplesByKind[K], index: number, all: ExamplesByKind[K][], options: { ktoKl: 'mismatched' | 'batch' }): PromptCompletion[];
  /** Loss inputs from the stacked per-sequence log-probs (N,) and reference log-probs (N,) if any. */
  inputs(l: SeqLogps, ref: RefLogps | undefined, layout: Layout, examples: ExamplesByKind[K][]): InputsByKind[K];
  /** The "chosen" and "rejected" sequences of the layout for the token metrics (tokenMetrics.ts). */
  roles(layout: Layout, examples: ExamplesByKind[K][]): SequenceRoles;
}

function pick(l: SeqLogps, idx: number[]): SeqLogps {
  const i = tf.tensor1d(idx, 'int32');
  return { sum: tf.gather(l.sum, i), mean: tf.gather(l.mean, i), count: tf.gather(l.count, i) };
}
function pickRef(r: RefLogps | undefined, idx: number[]): RefLogps | undefined {
  if (!r) return undefined;
  const i = tf.tensor1d(idx, 'int32');
  return { sum: tf.gather(r.sum, i), mean: tf.gather(r.mean, i) };
}
const nth = (layout: Layout, k: number) => layout.offsets.slice(0, -1).map((o) => o + k);

const pairs: KindAdapter<'pairs'> = {
  sequences: (ex) => {
    const rowCompletions = [ex.chosen, ex.rejected]; // one prompt text for both (engine renderRow)
    return [{ prompt: ex.prompt, completion: ex.chosen, rowCompletions }, { prompt: ex.prompt, completion: ex.rejected, rowCompletions }];
  },
  inputs: (l, ref, layout) => {
    const c = nth(layout, 0), r = nth(layout, 1);
    return { chosen: pick(l, c), rejected: pick(l, r), refChosen: pickRef(ref, c), refRejected: pickRef(ref, r) };
  },
  roles: (layout) => ({ chosen: nth(layout, 0), rejected: nth(layout, 1) }),
};

const rankings: KindAdapter<'rankings'> = {
  sequences: (ex) => ex.responses.map((completion) => ({ prompt: ex.prompt, completion, rowCompletions: ex.responses })),
  inputs: (l, _ref, layout, examples) => {
    const better: number[] = [], worse: number[] = [], pairGroup: number[] = [], best: number[] = [];
    examples.forEach((ex, g) => {
      const o = layout.offsets[g];
      const top = Math.min(...ex.ranks);
      best.push(o + ex.ranks.indexOf(top));
      for (let i = 0; i < ex.ranks.length; i++) for (let j = 0; j < ex.ranks.length; j++) {
        if (ex.ranks[i] < ex.ranks[j]) { better.push(o + i); worse.push(o + j); pairGroup.push(g); }
      }
    });
    const t = (a: number[]) => tf.tensor1d(a, 'int32');
    return { logps: l, better: t(better), worse: t(worse), pairGroup: t(pairGroup), best: t(best), groups: examples.length };
  },
  // chosen: each group's best response (first of its best rank); rejected: every other response
  roles: (layout, examples) => {
    const chosen: number[] = [], rejected: number[] = [];
    examples.forEach((ex, g) => {
      const best = ex.ranks.indexOf(Math.min(...ex.ranks));
      ex.ranks.forEach((_, i) => (i === best ? chosen : rejected).push(layout.offsets[g] + i));
    });
    return { chosen, rejected };
  },
};

const sft: KindAdapter<'sft'> = {
  sequences: (ex) => [{ prompt: ex.prompt, completion: ex.completion }],
  inputs: (l) => ({ logps: l }),
  roles: (layout) => ({ chosen: nth(layout, 0), rejected: [] }),
};

const unpaired: KindAdapter<'unpaired'> = {
  sequences: (ex, index, all, options) => {
    const own = { prompt: ex.prompt, completion: ex.completion };
    if (options.ktoKl !== 'mismatched' || all.length < 2) return [own];
    return [own, { prompt: ex.prompt, completion: all[(index + 1) % all.length].completion }];
  },
  inputs: (l, ref, layout, examples) => {
    if (!ref) throw new Error('kto needs reference log-probs');
    const own = nth(layout, 0);
    const hasKl = layout.offsets[1] - layout.offsets[0] === 2;
    const labels = tf.tensor1d(examples.map((e) => (e.label ? 1 : 0)), 'float32');
    const base = { logps: pick(l, own), ref: pickRef(ref, own) as RefLogps, labels };
    if (!hasKl) return base;
    const kl = nth(layout, 1);
    return { ...base, klPolicy: pick(l, kl).sum, klRef: (pickRef(ref, kl) as RefLogps).sum };
  },
  // desirable rows are "chosen", undesirable ones "rejected"; the mismatched KL sequences are neither
  roles: (layout, examples) => {
    const own = nth(layout, 0);
    return { chosen: own.filter((_, i) => examples[i].label), rejected: own.filter((_, i) => !examples[i].label) };
  },
};

/** The adapter of every data kind. */
export const ADAPTERS: { [K in DataKind]: KindAdapter<K> } = { pairs, rankings, sft, unpaired };

/** Stacks the sequences of examples `idx` of `all` into one layout. */
export function layoutOf<K extends DataKind>(kind: K, all: ExamplesByKind[K][], idx: number[], ktoKl: 'mismatched' | 'batch'): Layout {
  const sequences: PromptCompletion[] = [];
  const offsets: number[] = [];
  for (const i of idx) {
    offsets.push(sequences.length);
    sequences.push(...ADAPTERS[kind].sequences(all[i], i, all, { ktoKl }));
  }
  offsets.push(sequences.length);
  return { sequences, offsets };
}
