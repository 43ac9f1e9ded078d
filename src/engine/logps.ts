/**
 * Sequence log-probabilities of completions given prompts, the quantity every DAP loss is built on.
 * Tokenisation follows TRL: the prompt and the completion are tokenised separately (no special tokens
 * added by the tokenizer) and concatenated; EOS is appended to plain-text completions. Conversational
 * rows go through the tokenizer's chat template as TRL does (prompt: the prompt rendered with the
 * generation prompt, cut to its common prefix with the full conversation's rendering — and with the other
 * completions of the same row, so a pair's chosen and rejected share one prompt; completion: the rest
 * of that rendering); without a template they are rendered as "role: content\n" lines followed by
 * "assistant: ", and the completion gets EOS.
 * Truncation keeps the prompt's last tokens and never leaves an empty completion.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as ops from './ops';
import type { CausalLM, EngineTokenizer, SequenceBatch, SequenceLogps } from './types';
import type { ChatMessage, Prompt } from '../core/types';

/** One prompt/completion pair to score. */
export interface PromptCompletion {
  prompt: Prompt;
  completion: string | ChatMessage[];
  /**
   * Every completion scored under this prompt in the same row (a pair's chosen and rejected, a ranking's
   * responses; this one included). Conversational rows then get ONE prompt text for all of them: the prefix
   * shared by the rendered prompt and every rendered conversation, so their log-probs share a context.
   */
  rowCompletions?: readonly (string | ChatMessage[])[];
}

/** Truncation settings of buildBatch. */
export interface BatchOptions {
  /** Longest prompt + completion in tokens (default 1024, TRL's default; keep ≤ the model's maxPositions). */
  maxLength?: number;
  /** Longest prompt in tokens; longer prompts keep their last tokens (default 512, TRL's default). */
  maxPromptLength?: number;
}

/** A padded batch plus the host-side token lists it was built from. */
export interface BuiltBatch extends SequenceBatch {
  /** Prompt and completion token ids per row, after truncation. */
  rows: { promptIds: number[]; completionIds: number[]; truncated: boolean }[];
  /** Padded length T. */
  length: number;
}

/** Texts of a row ready to tokenise, and whether EOS must be appended to the completion. */
export interface RenderedRow {
  promptText: string;
  completionText: string;
  appendEos: boolean;
}

function asMessages(x: string | ChatMessage[], role: string): ChatMessage[] {
  return typeof x === 'string' ? [{ role, content: x }] : x;
}

/** Length of the longest common prefix of a and b, in UTF-16 units, never splitting a surrogate pair. */
function commonPrefixLength(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i > 0 && i < a.length && a.charCodeAt(i - 1) >= 0xd800 && a.charCodeAt(i - 1) <= 0xdbff) i--;
  return i;
}

/** Renders a row into prompt and completion text (see the file comment for the rules). */
export function renderRow(tokenizer: EngineTokenizer, row: PromptCompletion): RenderedRow {
  if (typeof row.prompt === 'string' && typeof row.completion === 'string') {
    return { promptText: row.prompt, completionText: row.completion, appendEos: true };
  }
  const promptMsgs = asMessages(row.prompt, 'user');
  const completionMsgs = asMessages(row.completion, 'assistant');
  if (tokenizer.applyChatTemplate) {
    const withGenerationPrompt = tokenizer.applyChatTemplate(promptMsgs, true);
    if (completionMsgs.length === 0) return { promptText: withGenerationPrompt, completionText: '', appendEos: false };
    const render = (c: string | ChatMessage[]) => tokenizer.applyChatTemplate!([...promptMsgs, ...asMessages(c, 'assistant')], false);
    const full = render(row.completion);
    // TRL: the prompt is the common prefix of the renderings (a generation prompt may add text, e.g. "<think>\n",
    // that the rendered conversation lacks); the completion is the rest of the conversation, end token included.
    // With the row's other completions, the prefix is shared by all of them: one prompt for the whole row.
    let cut = commonPrefixLength(withGenerationPrompt, full);
    for (const other of row.rowCompletions ?? []) {
      if (other === row.completion) continue;
      const o = render(other);
      cut = Math.min(cut, commonPrefixLength(withGenerationPrompt.slice(0, cut), o));
    }
    const promptText = withGenerationPrompt.slice(0, cut);
    return { promptText, completionText: full.slice(promptText.length), appendEos: false };
  }
  const promptText = promptMsgs.map((m) => `${m.role}: ${m.content}\n`).join('') + 'assistant: ';
  return { promptText, completionText: completionMsgs.map((m) => m.content).join('\n'), appendEos: true };
}

/** Token ids of a row, truncated: prompt left-truncated, completion right-truncated, ≥ 1 completion token. */
export function tokenizeRow(tokenizer: EngineTokenizer, row: PromptCompletion, options: BatchOptions = {}): BuiltBatch['rows'][number] {
  const maxLength = options.maxLength ?? 1024;
  const maxPrompt = options.maxPromptLength ?? 512;
  if (maxLength < 2) throw new Error(`maxLength must be at least 2 (got ${maxLength})`);
  const r = renderRow(tokenizer, row);
  let promptIds = tokenizer.encode(r.promptText);
  let completionIds = tokenizer.encode(r.completionText);
  if (r.appendEos || completionIds.length === 0) completionIds.push(tokenizer.eosId);
  // A first completion token needs a predecessor: an empty prompt becomes BOS (or EOS when there is none).
  if (promptIds.length === 0) promptIds = [(tokenizer as { bosId?: number | null }).bosId ?? tokenizer.eosId];
  let truncated = false;
  if (promptIds.length > maxPrompt) {
    promptIds = promptIds.slice(-Math.max(1, maxPrompt));
    truncated = true;
  }
  if (promptIds.length + completionIds.length > maxLength) {
    truncated = true;
    if (promptIds.length > maxLength - 1) promptIds = promptIds.slice(-(maxLength - 1));
    completionIds = completionIds.slice(0, maxLength - promptIds.length);
  }
  return { promptIds, completionIds, truncated };
}

/** Right-pads token rows into a SequenceBatch. */
export function padRows(rows: BuiltBatch['rows'], padId: number): BuiltBatch {
  const B = rows.length;
  if (B === 0) throw new Error('cannot build an empty batch');
  const T = Math.max(...rows.map((r) => r.promptIds.length + r.completionIds.length));
  const ids = new Int32Array(B * T).fill(padId);
  const attn = new Float32Array(B * T);
  const comp = new Float32Array(B * T);
  rows.forEach((r, b) => {
    const seq = [...r.promptIds, ...r.completionIds];
    for (let t = 0; t < seq.length; t++) {
      ids[b * T + t] = seq[t];
      attn[b * T + t] = 1;
      if (t >= r.promptIds.length) comp[b * T + t] = 1;
    }
  });
  return {
    ids: tf.tensor2d(ids, [B, T], 'int32'), attentionMask: tf.tensor2d(attn, [B, T]), completionMask: tf.tensor2d(comp, [B, T]),
    rows, length: T,
  };
}

/** Tokenises, truncates and pads (prompt, completion) rows into one batch. Dispose its tensors after use. */
export function buildBatch(tokenizer: EngineTokenizer, rows: PromptCompletion[], options: BatchOptions = {}): BuiltBatch {
  return padRows(rows.map((r) => tokenizeRow(tokenizer, r, options)), tokenizer.padId);
}

/** One preference pair. */
export interface PreferencePair {
  prompt: Prompt;
  chosen: string | ChatMessage[];
  rejected: string | ChatMessage[];
}

/** Chosen and rejected of n pairs stacked in one batch: rows 0..n−1 are chosen, rows n..2n−1 rejected. */
export function buildPairBatch(tokenizer: EngineTokenizer, pairs: PreferencePair[], options: BatchOptions = {}): BuiltBatch {
  const rows: PromptCompletion[] = [
    ...pairs.map((p) => ({ prompt: p.prompt, completion: p.chosen, rowCompletions: [p.chosen, p.rejected] })),
    ...pairs.map((p) => ({ prompt: p.prompt, completion: p.rejected, rowCompletions: [p.chosen, p.rejected] })),
  ];
  return buildBatch(tokenizer, rows, options);
}

/** Frees a batch's tensors. */
export function disposeBatch(batch: SequenceBatch): void {
  batch.ids.dispose();
  batch.attentionMask.dispose();
  batch.completionMask.dispose();
}

/**
 * Summed and mean log-prob of completion tokens per row (prompt and padding masked). Logits at position t
 * score token t+1. Differentiable w.r.t. the model's variables (use inside tf.variableGrads). With
 * `tokenStats`, also the per-row sums of entropy, mean logit and argmax hits over the same positions (TRL's
 * entropy, logits/* and mean_token_accuracy are built from them).
 */
export function sequenceLogps(model: CausalLM, batch: SequenceBatch, options: { tokenStats?: boolean } = {}): SequenceLogps {
  const [B, T] = batch.ids.shape;
  if (T > model.config.maxPositions) {
    throw new Error(`batch length ${T} exceeds the model's context of ${model.config.maxPositions} tokens: lower maxLength`);
  }
  return tf.tidy(() => {
    const logits = model.forward(batch.ids, batch.attentionMask); // (B, T, V)
    const zerosCol = tf.zeros([B, 1], 'int32');
    const targets = tf.concat([tf.slice(batch.ids, [0, 1], [B, T - 1]), zerosCol], 1) as tf.Tensor2D; // (B, T): token t+1
    const weights = tf.concat([tf.slice(batch.completionMask, [0, 1], [B, T - 1]), tf.zeros([B, 1])], 1); // (B, T)
    const tokenLogps = ops.pickLogProbs(logits, targets); // (B, T)
    const sum = tf.sum(tf.mul(tokenLogps, weights), 1) as tf.Tensor1D; // (B,)
    const count = tf.sum(weights, 1) as tf.Tensor1D; // (B,)
    const mean = tf.div(sum, tf.maximum(count, 1)) as tf.Tensor1D;
    if (!options.tokenStats) return { sum, mean, count };
    const stats = tf.sum(tf.mul(ops.tokenStats(logits, targets), tf.expandDims(weights, 2)), 1); // (B, 3)
    const [entropy, meanLogit, correct] = tf.unstack(stats, 1) as tf.Tensor1D[];
    return { sum, mean, count, tokenStats: { entropy, meanLogit, correct } };
  });
}

/** sequenceLogps read back to the host, one entry per row. */
export async function logpsToHost(l: SequenceLogps): Promise<{ sum: number; mean: number; tokens: number }[]> {
  const [s, m, c] = await Promise.all([l.sum.data(), l.mean.data(), l.count.data()]);
  return Array.from(s, (v, i) => ({ sum: v, mean: m[i], tokens: c[i] }));
}
