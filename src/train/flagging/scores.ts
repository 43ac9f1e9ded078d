/**
 * Model-flagged review: scores every labelled pair's implicit reward margin and flags the pairs whose
 * margin most strongly contradicts the label. Three scorers (see README "Reviewing annotation errors"):
 * - k-fold: items are split into k folds (all pairs of an item in one fold); for each fold a policy is
 *   trained with DPO from the base model on the other k−1 folds, and the held-out fold's responses get
 *   reward r = β·(log π(y|x) − log π_ref(y|x)) (sums over completion tokens; reference = the base model),
 *   so no pair is scored by a model that trained on it;
 * - run: a finished run's policy and reference, pairs marked as held-out or trained-on (circular);
 * - reference-free: one model, r = mean log π(y|x) (length-normalised), no training.
 * margin = r(chosen) − r(rejected); negative = the model prefers the rejected response.
 */
import type { Judgment, Prompt, TaskItem } from '../../core/types';
import { assignFolds } from '../../core/review/folds';
import { labelledPairs } from '../../core/review/lists';
import type { FlagScorer, ResponseScores } from '../../core/review/types';

/** Defaults of model scoring, shared by `dap review`'s flags and the review panel. */
export const SCORING_DEFAULTS = {
  /** DPO β of k-fold training and of the rewards. */
  beta: 0.1,
  /** DPO epochs per fold. */
  epochs: 6,
  /** SFT epochs of the built-in base model on every response. */
  sftEpochs: 8,
  /** Seed of the fold split and training. */
  seed: 0,
} as const;

/** What to score pairs with. */
export type ScoreRequest =
  /** A finished training run folder: final policy vs its reference; held-out split marked. */
  | { kind: 'run'; dir: string; beta?: number }
  /** k-fold DPO from `model` (a folder, or the built-in model after SFT when absent). */
  | { kind: 'kfold'; k: number; model?: string; beta: number; epochs: number; seed: number }
  /** One model, no reference: mean log-prob difference (`model` "builtin": built-in after SFT). */
  | { kind: 'reference_free'; model: string; seed: number };

/** One (prompt, completion) row to score. */
export interface CompletionRow {
  prompt: Prompt;
  completion: string;
  /** Every response of the item: they share one prompt text (engine PromptCompletion.rowCompletions). */
  rowCompletions?: readonly string[];
}

/** Summed and mean completion log-probs of rows under one model (same order as the rows). */
export type LogpFn = (rows: CompletionRow[]) => Promise<{ sum: number[]; mean: number[] }>;

/** Every response of every item as rows, with where each row came from. */
function responseRows(items: TaskItem[]): { rows: CompletionRow[]; at: { item: number; response: number }[] } {
  const rows: CompletionRow[] = [];
  const at: { item: number; response: number }[] = [];
  items.forEach((it, i) => {
    const rowCompletions = it.responses.map((r) => r.text);
    it.responses.forEach((r, j) => {
      rows.push({ prompt: it.prompt, completion: r.text, rowCompletions });
      at.push({ item: i, response: j });
    });
  });
  return { rows, at };
}

/** Per item, per response: the values of `column` computed by `logps` over all responses. */
async function perResponse(items: TaskItem[], logps: LogpFn, column: 'sum' | 'mean'): Promise<number[][]> {
  const { rows, at } = responseRows(items);
  const values = (await logps(rows))[column];
  const out = items.map((it) => new Array<number>(it.responses.length).fill(NaN));
  at.forEach((a, k) => (out[a.item][a.response] = values[k]));
  return out;
}

/** Reference-free scores: mean log π(y|x) of every response under one model. */
export async function referenceFreeScores(items: TaskItem[], logps: LogpFn): Promise<ResponseScores[]> {
  const means = await perResponse(items, logps, 'mean');
  return items.map((it, i) => ({ item: it.id, scores: means[i], scorer: 'reference_free' as const }));
}

/**
 * Implicit-reward scores of a policy against a reference: β·(Σ log π − Σ log π_ref) per response.
 * `heldOut` (item ids) marks which items the policy did not train on; the others are `run_train`.
 */
export async function implicitRewardScores(
  items: TaskItem[],
  policy: LogpFn,
  reference: LogpFn | number[][],
  beta: number,
  scorer: (itemId: string) => { scorer: FlagScorer; fold?: number },
): Promise<ResponseScores[]> {
  const pol = await perResponse(items, policy, 'sum');
  const ref = Array.isArray(reference) ? reference : await perResponse(items, reference, 'sum');
  return items.map((it, i) => ({
    item: it.id,
    scores: pol[i].map((p, j) => beta * (p - ref[i][j])),
    ...scorer(it.id),
  }));
}

/** A labelled pair as a DPO training row. */
export interface TrainPair {
  item: string;
  prompt: Prompt;
  chosen: string;
  rejected: string;
}

/** Trains a fresh policy (a copy of the base model) with DPO on `pairs` and returns its log-prob function. */
export type TrainFold = (fold: number, pairs: TrainPair[]) => Promise<{ logps: LogpFn; dispose(): void }>;

/** Settings of k-fold scoring. */
export interface KFoldOptions {
  /** Number of folds (≥ 2; default 2). */
  k?: number;
  /** DPO β used for the reward (default 0.1; should match the training β). */
  beta?: number;
  /** Seed of the fold split (default 0). */
  seed?: number;
  /** Progress messages ("fold 1/2: training on 120 pairs"). */
  onProgress?: (message: string) => void;
}

/** The labelled pairs of `judgments` as training rows, for the items in `itemIds`. */
export function trainPairs(items: TaskItem[], judgments: Judgment[], itemIds: Set<string>): TrainPair[] {
  const byId = new Map(items.map((i) => [i.id, i]));
  return labelledPairs(judgments)
    .filter((p) => itemIds.has(p.item) && byId.has(p.item))
    .map((p) => {
      const it = byId.get(p.item)!;
      return { item: p.item, prompt: it.prompt, chosen: it.responses[p.chosen].text, rejected: it.responses[p.rejected].text };
    });
}

/**
 * k-fold scores: only annotated items are scored; each fold's items are scored by the policy trained
 * (by `train`) on the other folds' pairs, against the base model's reference log-probs (`reference`).
 */
export async function kfoldScores(
  items: TaskItem[],
  judgments: Judgment[],
  reference: LogpFn,
  train: TrainFold,
  options: KFoldOptions = {},
): Promise<ResponseScores[]> {
  const k = options.k ?? 2;
  const beta = options.beta ?? 0.1;
  const say = options.onProgress ?? (() => {});
  const annotated = new Set(labelledPairs(judgments).map((p) => p.item));
  const scoredItems = items.filter((i) => annotated.has(i.id));
  const folds = assignFolds(scoredItems.map((i) => i.id), k, options.seed ?? 0);
  say(`reference log-probs of ${scoredItems.length} items`);
  const refSums = await perResponse(scoredItems, reference, 'sum');
  const out: ResponseScores[] = [];
  for (let f = 0; f < k; f++) {
    const trainIds = new Set(scoredItems.filter((i) => folds.get(i.id) !== f).map((i) => i.id));
    const heldOut = scoredItems.map((it, i) => ({ it, ref: refSums[i] })).filter(({ it }) => folds.get(it.id) === f);
    const pairs = trainPairs(items, judgments, trainIds);
    say(`fold ${f + 1}/${k}: training DPO on ${pairs.length} pairs of ${trainIds.size} items`);
    const policy = await train(f, pairs);
    try {
      say(`fold ${f + 1}/${k}: scoring ${heldOut.length} held-out items`);
      const scores = await implicitRewardScores(
        heldOut.map((h) => h.it),
        policy.logps,
        heldOut.map((h) => h.ref),
        beta,
        () => ({ scorer: 'kfold', fold: f }),
      );
      out.push(...scores);
    } finally {
      policy.dispose();
    }
  }
  const order = new Map(items.map((it, i) => [it.id, i]));
  return out.sort((a, b) => (order.get(a.item) ?? 0) - (order.get(b.item) ?? 0));
}
