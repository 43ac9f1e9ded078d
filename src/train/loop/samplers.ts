/**
 * Where generateTasks' samples come from, one sampler per model: the tfjs engine's KV-cache generate()
 * (the embedded default) or the torch executor's model.generate in a Python process
 * (src/train/torch/generate.ts; fast on a GPU). Both take the same prompt ids (the engine's tokenizer,
 * prompts cut to leave room for the answer), the same per-row seeds and the same step limit for a batch
 * (maxNewTokens, or less where the longest prompt of the batch leaves less room in the context).
 */
import { loadPretrained } from '../../engine/checkpoint';
import { parseConfig } from '../../engine/config';
import { generate } from '../../engine/generate';
import { loadTokenizer, readJson } from '../../engine/tokenizer';
import type { EngineTokenizer } from '../../engine/types';
import type { PromptRecord } from '../../core/prompts';
import { promptIds } from '../pipeline/generation';
import { startTorchGenerator } from '../torch/generate';
import type { SamplingSettings } from './generateTasks';

/** The torch executor to generate with: its interpreter and device (auto = cuda, mps, then cpu). */
export interface TorchGeneration {
  python: string;
  device?: string;
}

/** n responses per prompt of one model. */
export interface Sampler {
  sample(batch: readonly PromptRecord[], n: number, seeds: (p: PromptRecord, j: number) => number): Promise<{ texts: string[][]; tokens: number }>;
  dispose(): Promise<void>;
}

/** Rows (prompts × n) of a batch: prompt ids, seeds, and the batch's step limit. */
function rowsOf(tokenizer: EngineTokenizer, maxPositions: number, batch: readonly PromptRecord[], n: number, s: SamplingSettings, seeds: (p: PromptRecord, j: number) => number) {
  const maxPrompt = Math.max(1, maxPositions - s.maxNewTokens);
  const ids: number[][] = [];
  const rowSeeds: number[] = [];
  for (const p of batch) {
    const pid = promptIds(tokenizer, p.prompt, maxPrompt);
    for (let j = 0; j < n; j++) {
      ids.push(pid);
      rowSeeds.push(seeds(p, j));
    }
  }
  const steps = Math.max(0, Math.min(s.maxNewTokens, maxPositions - Math.max(...ids.map((r) => r.length))));
  return { ids, rowSeeds, steps };
}

function textsOf(tokenizer: EngineTokenizer, out: number[][], prompts: number, n: number) {
  return { texts: Array.from({ length: prompts }, (_, b) => out.slice(b * n, (b + 1) * n).map((t) => tokenizer.decode(t))), tokens: out.reduce((sum, t) => sum + t.length, 0) };
}

/** A sampler of the model folder `dir` (tfjs unless `torch` is given). */
export function openSampler(dir: string, s: SamplingSettings, torch?: TorchGeneration): Sampler {
  if (!torch) {
    const { model, tokenizer } = loadPretrained(dir);
    return {
      async sample(batch, n, seeds) {
        const { ids, rowSeeds } = rowsOf(tokenizer, model.config.maxPositions, batch, n, s, seeds);
        const out = await generate(model, tokenizer, ids, { maxNewTokens: s.maxNewTokens, temperature: s.temperature, topP: s.topP, rowSeeds, stopOnEos: true });
        return textsOf(tokenizer, out, batch.length, n);
      },
      async dispose() {
        model.dispose();
      },
    };
  }
  const raw = readJson(`${dir}/config.json`);
  const maxPositions = parseConfig(raw, `${dir}/config.json`).maxPositions;
  const tokenizer = loadTokenizer(dir, raw);
  const gen = startTorchGenerator({ python: torch.python, device: torch.device, modelDir: dir, maxNewTokens: s.maxNewTokens, temperature: s.temperature, topP: s.topP, eosId: tokenizer.eosId, padId: tokenizer.padId });
  return {
    async sample(batch, n, seeds) {
      const { ids, rowSeeds, steps } = rowsOf(tokenizer, maxPositions, batch, n, s, seeds);
      const out = await gen.generate(ids.map((r, i) => ({ ids: r, seed: rowSeeds[i], maxNew: steps })));
      return textsOf(tokenizer, out, batch.length, n);
    },
    dispose: () => gen.close(),
  };
}
