/**
 * Greedy or sampled completions of many prompts with the engine's generate(), batched, with the prompt
 * rendered and tokenised exactly as training renders it (engine renderRow + prompt truncation), so what
 * the model generates is what it was trained to continue. Used by SPIN and the demo's accuracy check.
 */
import { generate } from '../../engine/generate';
import { renderRow } from '../../engine/logps';
import type { TransformerLM } from '../../engine/transformer';
import type { EngineTokenizer } from '../../engine/types';
import type { Prompt } from '../../core/types';

/** Generation settings recorded with every generated dataset. */
export interface GenerationSettings {
  maxNewTokens: number;
  /** 0 = greedy. */
  temperature: number;
  topP: number;
  seed: number;
  /** Prompts per generate() call. */
  batchSize: number;
  /** Longest prompt in tokens (left-truncated like training). */
  maxPromptLength: number;
}

/** Prompt token ids as training builds them (empty prompt → BOS/EOS; keeps the last maxPromptLength tokens). */
export function promptIds(tokenizer: EngineTokenizer, prompt: Prompt, maxPromptLength: number): number[] {
  const text = renderRow(tokenizer, { prompt, completion: typeof prompt === 'string' ? '' : [] }).promptText;
  let ids = tokenizer.encode(text);
  if (ids.length === 0) ids = [(tokenizer as { bosId?: number | null }).bosId ?? tokenizer.eosId];
  return ids.slice(-Math.max(1, maxPromptLength));
}

/** One completion per prompt, in order. Sampling seeds differ per batch (seed + batch index). */
export async function generateCompletions(model: TransformerLM, tokenizer: EngineTokenizer, prompts: Prompt[], s: GenerationSettings): Promise<string[]> {
  const out: string[] = [];
  for (let start = 0; start < prompts.length; start += s.batchSize) {
    const ids = prompts.slice(start, start + s.batchSize).map((p) => promptIds(tokenizer, p, s.maxPromptLength));
    const gen = await generate(model, tokenizer, ids, { maxNewTokens: s.maxNewTokens, temperature: s.temperature, topP: s.topP, seed: s.seed + start, stopOnEos: true });
    out.push(...gen.map((g) => tokenizer.decode(g)));
    await new Promise((res) => setImmediate(res));
  }
  return out;
}
