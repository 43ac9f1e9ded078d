/**
 * SPIN (Chen et al. 2024, self-play fine-tuning): for iterations t = 1..T (T ≥ 2), generate a response to
 * every SFT prompt with the current model (greedy or sampled; the settings are saved), then train DPO with
 * chosen = the SFT target, rejected = the generated response, reference = the model at the start of the
 * iteration. Each iteration's folder runs/RUN_ID/spin/iter-N holds generation.json (settings),
 * pairs.jsonl / eval-pairs.jsonl (its data) and model/ (the model after the iteration); its checkpoints are
 * stage "spin-N". Pairs whose generation equals the target as training renders it carry no signal and are left
 * out (counted; see spinPairs).
 * With LoRA every iteration keeps training the same adapters: the reference of iteration t is base + the
 * adapters as they were at its start (precomputed from the policy; live: base + iter-N/reference-adapter/),
 * and the iteration folder holds adapter/ instead of model/.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { writeFileAtomicSync } from '../../core/atomicWrite';
import { join } from 'node:path';
import { saveModel } from '../../engine/checkpoint';
import { saveLoraAdapter } from '../../engine/lora';
import type { TransformerLM } from '../../engine/transformer';
import { renderRow } from '../../engine/logps';
import type { EngineTokenizer } from '../../engine/types';
import type { ChatMessage, SftRow, TrlPairRow } from '../../core/types';
import { examplesFor, splitByPrompt, type SourceData } from '../data/index';
import { generateCompletions, type GenerationSettings } from './generation';
import { baseStage, referenceFor, startStage, type RunContext } from './stages';
import { deriveSeed } from '../../core/random';
import type { StageOptions, StageResult } from '../stage/index';

/** The folder of SPIN iteration `it` (1-based). */
export function spinIterationDir(runDir: string, it: number): string {
  return join(runDir, 'spin', `iter-${it}`);
}

/**
 * SPIN pairs from generations: chosen = the SFT target, rejected = the generation (one assistant message
 * when the target is a message list, so both completions have the same shape). A generation whose training
 * rendering equals the target's (engine renderRow: the text after the prompt, through the chat template for
 * conversational rows) is left out and counted: a message-list target `[{"role":"assistant","content":"x"}]`
 * and the generated "x" are the same completion to the model.
 */
export function spinPairs(tokenizer: EngineTokenizer, rows: readonly SftRow[], generations: readonly string[]): { pairs: TrlPairRow[]; same: number } {
  const pairs: TrlPairRow[] = [];
  let same = 0;
  rows.forEach((r, i) => {
    const target: string | ChatMessage[] = r.completion; // message lists when a conversational SFT file was read
    const rejected = typeof target === 'string' ? generations[i] : [{ role: 'assistant', content: generations[i] }];
    const rendered = (completion: string | ChatMessage[]) => {
      const x = renderRow(tokenizer, { prompt: r.prompt, completion });
      return `${x.appendEos}\u0000${x.completionText}`;
    };
    if (rendered(target) === rendered(rejected)) same += 1;
    else pairs.push({ prompt: r.prompt, chosen: target, rejected });
  });
  return { pairs, same };
}

async function makePairs(ctx: RunContext, policy: TransformerLM, rows: SftRow[], s: GenerationSettings): Promise<{ pairs: TrlPairRow[]; same: number }> {
  const gen = await generateCompletions(policy, ctx.tokenizer, rows.map((r) => r.prompt), s);
  return spinPairs(ctx.tokenizer, rows, gen);
}

const readJsonl = (p: string) => readFileSync(p, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as TrlPairRow);
const writeJsonl = (p: string, rows: unknown[]) => writeFileAtomicSync(p, rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : ''));

/** Runs the SPIN iterations on `policy` (in place); returns the last iteration's result. */
export async function runSpin(ctx: RunContext, policy: TransformerLM, src: SourceData, backend: string): Promise<StageResult> {
  const c = ctx.config;
  const { train: sftTrain, eval: sftEval } = splitByPrompt(examplesFor(src, 'sft'), ctx.evalPrompts);
  const resumeIt = ctx.resume?.stage.startsWith('spin-') ? Number(ctx.resume.stage.slice(5)) : 0;
  let result: StageResult = { steps: 0, cancelled: false, final: {} };
  for (let it = 1; it <= c.spin.iterations; it++) {
    if (it < resumeIt) continue;
    const stage = `spin-${it}`;
    const dir = spinIterationDir(ctx.runDir, it);
    mkdirSync(dir, { recursive: true });
    const resuming = it === resumeIt;
    let train: TrlPairRow[], evalRows: TrlPairRow[];
    if (resuming && existsSync(join(dir, 'pairs.jsonl'))) {
      train = readJsonl(join(dir, 'pairs.jsonl'));
      evalRows = readJsonl(join(dir, 'eval-pairs.jsonl'));
    } else {
      const settings: GenerationSettings = { maxNewTokens: c.spin.maxNewTokens, temperature: c.spin.temperature, topP: c.spin.topP,
        seed: deriveSeed(c.seed, it), batchSize: Math.max(8, c.batchSize), maxPromptLength: c.maxPromptLength };
      const t = await makePairs(ctx, policy, sftTrain, settings);
      const e = await makePairs(ctx, policy, sftEval, settings);
      train = t.pairs;
      evalRows = e.pairs;
      writeFileAtomicSync(join(dir, 'generation.json'), JSON.stringify({ iteration: it, ...settings, generatedEqualsTarget: { train: t.same, eval: e.same } }, null, 2) + '\n');
      writeJsonl(join(dir, 'pairs.jsonl'), train);
      writeJsonl(join(dir, 'eval-pairs.jsonl'), evalRows);
      ctx.emit({ type: 'log', level: 'info', message: `SPIN iteration ${it}: ${train.length} pairs (${t.same} generations equal their target, left out)` });
    }
    if (train.length === 0) {
      ctx.emit({ type: 'log', level: 'info', message: `SPIN iteration ${it}: the model reproduces every target; stopping` });
      break;
    }
    const lora = policy.lora.size > 0;
    if (c.reference === 'live' && !resuming) {
      if (lora) await saveLoraAdapter(policy, join(dir, 'reference-adapter'), ctx.loraBase ?? '');
      else await saveModel(policy, join(dir, 'reference-model'), { dtype: 'F32' });
    }
    const [liveDir, liveAdapter] = lora ? [ctx.loraBase, join(dir, 'reference-adapter')] : [join(dir, 'reference-model'), undefined];
    const reference = await referenceFor({ ...ctx, resume: resuming ? ctx.resume : undefined }, stage, 'dpo', 'pairs', policy, train, evalRows, liveDir, liveAdapter);
    const o: StageOptions<'pairs'> = { ...baseStage(ctx, policy), stage, kind: 'pairs', loss: 'dpo', hyper: c.loss, train, eval: evalRows, reference,
      epochs: c.spin.epochsPerIteration ?? c.epochs, lr: c.lr, resumeFrom: resuming ? ctx.resume?.dir : undefined };
    try {
      result = await startStage(ctx, o, backend);
    } finally {
      if (reference?.kind === 'live') reference.model.dispose();
    }
    if (result.cancelled) return result;
    if (lora) await saveLoraAdapter(policy, join(dir, 'adapter'), ctx.loraBase ?? '');
    else await saveModel(policy, join(dir, 'model'), { dtype: 'F32' });
  }
  return result;
}
