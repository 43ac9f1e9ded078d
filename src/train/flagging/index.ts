/**
 * Engine glue of model-flagged review: loads models (a run's policy and reference, a model folder, or
 * the built-in model after SFT), turns them into log-prob functions, trains k-fold DPO policies with
 * the trainer, and returns per-response scores for the review report (see scores.ts for the method).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ReviewInput } from '../../core/review/report';
import type { ResponseScores } from '../../core/review/types';
import { initBackend } from '../../engine/backend';
import { loadPretrained } from '../../engine/checkpoint';
import { buildBatch, disposeBatch, logpsToHost, sequenceLogps } from '../../engine/logps';
import type { CausalLM, EngineTokenizer } from '../../engine/types';
import { implicitRewardScores, kfoldScores, referenceFreeScores, type CompletionRow, type LogpFn, type ScoreRequest } from './scores';
import { promptKeyOf } from '../data/index';
import { folderBase, readRunModels, sftBuiltinBase, trainFoldPolicy, type BaseModel, type FlagTrainOptions } from './foldTraining';

/** Options of {@link scoreForReview}. */
export interface ScoreOptions {
  /** tfjs backend preference (auto, wasm, cpu, ...). */
  backend: string;
  onProgress: (message: string) => void;
  /** Training settings beyond the request (built-in shape, SFT epochs, learning rates, scratch folder). */
  train?: Partial<Omit<FlagTrainOptions, 'seed' | 'onProgress'>>;
}

/** Log-prob function of a loaded model: batches rows (default 16 per forward pass), no gradients. */
export function engineLogpFn(model: CausalLM, tokenizer: EngineTokenizer, batchSize = 16): LogpFn {
  const maxLength = Math.min(256, model.config.maxPositions);
  return async (rows: CompletionRow[]) => {
    const sum: number[] = [];
    const mean: number[] = [];
    for (let at = 0; at < rows.length; at += batchSize) {
      const batch = buildBatch(tokenizer, rows.slice(at, at + batchSize), { maxLength, maxPromptLength: Math.floor(maxLength / 2) });
      try {
        const l = sequenceLogps(model, batch);
        const host = await logpsToHost(l);
        tf.dispose([l.sum, l.mean, l.count]);
        for (const h of host) {
          sum.push(h.sum);
          mean.push(h.mean);
        }
      } finally {
        disposeBatch(batch);
      }
    }
    return { sum, mean };
  };
}

/** Loads a model folder as a log-prob function; `dispose` frees it. */
function loadLogpFn(dir: string): { logps: LogpFn; dispose(): void } {
  const { model, tokenizer } = loadPretrained(dir);
  return { logps: engineLogpFn(model, tokenizer), dispose: () => model.dispose() };
}

/** Scores every response of the annotated items; `method` describes how, for the report. */
export async function scoreForReview(
  input: ReviewInput,
  request: ScoreRequest,
  options: ScoreOptions,
): Promise<{ scores: ResponseScores[]; method: string }> {
  const say = options.onProgress;
  const backend = await initBackend(options.backend);
  say(`backend ${backend.name}`);
  const annotated = new Set(input.judgments.map((j) => j.item));
  const items = input.items.filter((i) => annotated.has(i.id));
  const seed = request.kind === 'run' ? 0 : request.seed;
  const trainOptions: FlagTrainOptions = { ...options.train, seed, onProgress: say };
  /** The base: a model folder, or the built-in model after SFT on every response of the task file. */
  const openBase = async (model: string | undefined): Promise<BaseModel> =>
    model && model !== 'builtin' ? folderBase(model) : sftBuiltinBase(input.items, trainOptions);

  if (request.kind === 'reference_free') {
    const base = await openBase(request.model);
    const model = base.make();
    try {
      say(`scoring ${items.length} items with ${base.describe}`);
      const scores = await referenceFreeScores(items, engineLogpFn(model, base.tokenizer));
      return { scores, method: `reference-free: mean log-prob(chosen) − mean log-prob(rejected) under ${base.describe}` };
    } finally {
      model.dispose();
      base.dispose();
    }
  }

  if (request.kind === 'run') {
    const run = await readRunModels(request.dir);
    const beta = request.beta ?? run.beta;
    const policy = loadLogpFn(run.policy);
    const reference = loadLogpFn(run.reference);
    try {
      say(`scoring ${items.length} items with ${run.policy} against ${run.reference}`);
      const scores = await implicitRewardScores(items, policy.logps, reference.logps, beta, (id) => {
        const it = items.find((i) => i.id === id)!;
        return { scorer: run.evalPrompts.has(promptKeyOf(it.prompt)) ? 'run_heldout' : 'run_train' };
      });
      const held = scores.filter((s) => s.scorer === 'run_heldout').length;
      return {
        scores,
        method: `run ${request.dir}: β·Δ of the final policy vs its reference (β = ${beta}); ${held} of ${scores.length} items were in the run's held-out split, the others were trained on (circular: k-fold scoring avoids that)`,
      };
    } finally {
      policy.dispose();
      reference.dispose();
    }
  }

  const base = await openBase(request.model);
  const referenceModel = base.make();
  try {
    const scores = await kfoldScores(
      input.items,
      input.judgments,
      engineLogpFn(referenceModel, base.tokenizer),
      async (fold, pairs) => {
        const policy = await trainFoldPolicy(base, pairs, { ...trainOptions, fold, beta: request.beta, epochs: request.epochs });
        return { logps: engineLogpFn(policy, base.tokenizer), dispose: () => policy.dispose() };
      },
      { k: request.k, beta: request.beta, seed: request.seed, onProgress: say },
    );
    return {
      scores,
      method: `k-fold DPO (k = ${request.k}, β = ${request.beta}, ${request.epochs} epochs per fold, seed ${request.seed}) from ${base.describe}: every pair is scored by a policy that did not train on its item`,
    };
  } finally {
    referenceModel.dispose();
    base.dispose();
  }
}
