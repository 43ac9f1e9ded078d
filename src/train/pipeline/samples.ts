/**
 * Sample generations for a finished run's summary: greedy answers of the reference (the model training
 * started from: the SFT model or the given model folder) and of the trained policy on a few held-out
 * prompts, each checked by src/core/verify.ts when the prompt is a verifiable task. The loss panel shows
 * them side by side; they are a look at behaviour, not a metric.
 */
import { existsSync } from 'node:fs';
import { loadPretrained } from '../../engine/checkpoint';
import type { TransformerLM } from '../../engine/transformer';
import type { EngineTokenizer } from '../../engine/types';
import type { Prompt } from '../../core/types';
import { verifyResponse } from '../../core/verify';
import { generateCompletions, type GenerationSettings } from './generation';

/** One row of `summary.samples` in the `finished` event. */
export interface SampleGeneration {
  prompt: string;
  before?: string;
  after: string;
  correctBefore?: boolean;
  correctAfter?: boolean;
}

const SETTINGS: GenerationSettings = { maxNewTokens: 32, temperature: 0, topP: 1, seed: 0, batchSize: 8, maxPromptLength: 64 };

function promptText(p: Prompt): string {
  return typeof p === 'string' ? p : p.map((m) => `${m.role}: ${m.content}`).join('\n');
}

/** Greedy before/after generations on up to `count` prompts; `referenceDir` may be absent (no "before"). */
export async function sampleGenerations(policy: TransformerLM, tokenizer: EngineTokenizer, prompts: Prompt[], referenceDir: string | undefined, count = 4): Promise<SampleGeneration[]> {
  const chosen = prompts.slice(0, count);
  if (chosen.length === 0) return [];
  const settings = { ...SETTINGS, maxPromptLength: Math.min(SETTINGS.maxPromptLength, Math.floor(policy.config.maxPositions / 2)) };
  const after = await generateCompletions(policy, tokenizer, chosen, settings);
  let before: string[] | undefined;
  if (referenceDir && existsSync(referenceDir)) {
    const ref = loadPretrained(referenceDir).model;
    try { before = await generateCompletions(ref, tokenizer, chosen, settings); } finally { ref.dispose(); }
  }
  return chosen.map((prompt, i) => ({
    prompt: promptText(prompt),
    after: after[i],
    correctAfter: verifyResponse({ prompt }, after[i]),
    ...(before ? { before: before[i], correctBefore: verifyResponse({ prompt }, before[i]) } : {}),
  }));
}
