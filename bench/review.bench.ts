/**
 * Quality of the model-flagged review list, measured. For each data set a known 10% of the labels is
 * flipped, the set is written to disk as a task file + annotation log, every pair is scored with k-fold
 * DPO (the built-in model, small shape, after label-free SFT on every response), and the ranked pairs
 * (most negative margin first) are compared with the flipped set: precision@k and recall@k against a
 * random ranking (mean of 1000 shuffles; its expectation is the flip rate). Data sets:
 * - synthetic: helpful vs dismissive replies (a preference a tiny model can learn);
 * - arith: the sample task file's pair items with exactly one correct response (src/core/verify.ts),
 *   the correct one preferred — telling them apart needs arithmetic, which the tiny model barely learns.
 */
import { mkdtempSync, writeFileSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AnnotationEvent } from '../src/core/types';
import { loadReviewInput } from '../src/core/review/load';
import { scorePairs } from '../src/core/review/lists';
import { precisionRecallAtK } from '../src/core/review/folds';
import { shuffled } from '../src/core/random';
import { syntheticPreferenceSet } from '../src/core/review/synthetic';
import { verifyResponse } from '../src/core/verify';
import { scoreForReview } from '../src/train/flagging/index';

/** Bench settings (small model, so each set takes 1-2 minutes on 2 cores); env DAP_REVIEW_BENCH (JSON) overrides. */
const SETTINGS = {
  flipRate: 0.1,
  seed: 1,
  k: 3,
  beta: 0.1,
  dpoEpochs: 6,
  sftEpochs: 8,
  dpoLr: 1e-3,
  builtin: { numLayers: 2, hiddenSize: 64, numHeads: 2, maxPositions: 64 },
  sets: ['synthetic', 'arith'],
  ...(JSON.parse(process.env.DAP_REVIEW_BENCH ?? '{}') as object),
};

/** A labelled set: task-file lines, log events, and the ids of the flipped items. */
interface LabelledSet {
  lines: Record<string, unknown>[];
  events: AnnotationEvent[];
  flipped: Set<string>;
}

/** The sample data's pair items with exactly one correct response; label = the correct one, 10% flipped. */
function arithSet(): LabelledSet {
  const path = join(import.meta.dirname, '..', 'media', 'samples', 'arith.tasks.jsonl');
  const rows = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as { id: string; prompt: string; responses: string[]; meta?: Record<string, unknown> });
  const usable = rows.filter((r) => r.responses.length === 2 && r.responses.filter((t) => verifyResponse(r, t)).length === 1);
  const flipped = new Set(shuffled(usable.map((r) => r.id), SETTINGS.seed).slice(0, Math.round(usable.length * SETTINGS.flipRate)));
  const events: AnnotationEvent[] = usable.map((r, i) => {
    const correct = verifyResponse(r, r.responses[0]) ? 0 : 1;
    const winner = flipped.has(r.id) ? 1 - correct : correct;
    return { v: 1, kind: 'pair', item: r.id, annotator: 'gold', shown: [0, 1], choice: winner === 0 ? 'a' : 'b', ts: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString() };
  });
  return { lines: usable, events, flipped };
}

/** Scores one set and measures the flagged ranking against its flipped labels. */
async function measure(name: string, set: LabelledSet): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'dap-review-bench-'));
  try {
    const tasks = join(dir, `${name}.jsonl`);
    const log = join(dir, `${name}.annotations.jsonl`);
    writeFileSync(tasks, set.lines.map((l) => JSON.stringify(l) + '\n').join(''));
    writeFileSync(log, set.events.map((e) => JSON.stringify(e) + '\n').join(''));
    const { input } = await loadReviewInput(tasks, log);
    const t0 = performance.now();
    const scored = await scoreForReview(
      input,
      { kind: 'kfold', k: SETTINGS.k, beta: SETTINGS.beta, epochs: SETTINGS.dpoEpochs, seed: SETTINGS.seed },
      {
        backend: 'auto',
        onProgress: (m) => process.stderr.write(`review bench (${name}): ${m}\n`),
        train: { builtin: SETTINGS.builtin, sftEpochs: SETTINGS.sftEpochs, dpoLr: SETTINGS.dpoLr },
      },
    );
    const seconds = (performance.now() - t0) / 1000;
    const pairs = scorePairs(input.items, input.judgments, scored.scores);
    const ranked = pairs.map((p) => p.item);
    const flipped = set.flipped.size;
    const shuffles = Array.from({ length: 1000 }, (_, s) => shuffled(ranked, 1000 + s));
    const at = (k: number) => {
      const model = precisionRecallAtK(ranked, set.flipped, k);
      const random = shuffles.reduce((sum, r) => sum + precisionRecallAtK(r, set.flipped, k).precision, 0) / shuffles.length;
      return {
        k,
        precision: Math.round(model.precision * 1000) / 1000,
        recall: Math.round(model.recall * 1000) / 1000,
        random_precision: Math.round(random * 1000) / 1000,
        precision_vs_random: Math.round((model.precision / random) * 100) / 100,
      };
    };
    const negative = pairs.filter((p) => p.margin < 0);
    const atFlipped = at(flipped);
    return {
      pairs: ranked.length,
      flipped,
      at_k: [5, flipped, 2 * flipped].map(at),
      negative_margin_pairs: negative.length,
      negative_margin_flipped: negative.filter((p) => set.flipped.has(p.item)).length,
      seconds: Math.round(seconds * 10) / 10,
      target_met: atFlipped.precision_vs_random >= 3,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<Record<string, unknown>> {
  const synthetic = syntheticPreferenceSet(100, SETTINGS.flipRate, SETTINGS.seed);
  return {
    method: `k-fold DPO, k = ${SETTINGS.k}, β = ${SETTINGS.beta}, ${SETTINGS.dpoEpochs} DPO epochs per fold, built-in model ${JSON.stringify(SETTINGS.builtin)} after ${SETTINGS.sftEpochs} SFT epochs on every response`,
    settings: SETTINGS,
    target: 'precision@k >= 3x random at k = number of flipped labels',
    ...(SETTINGS.sets.includes('synthetic') ? { synthetic: await measure('synthetic', synthetic) } : {}),
    ...(SETTINGS.sets.includes('arith') ? { arith: await measure('arith', arithSet()) } : {}),
  };
}
