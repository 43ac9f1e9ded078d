/**
 * The embedded demo of alignment working end to end (`npm run demo`, `npm run bench -- demo`), on the
 * shipped sample data and the shipped pretrained built-in model, through the same code the editor uses:
 * 1. SFT: the built-in model fine-tuned on every response of the sample, right or wrong (noisy
 *    demonstrations, as the trainer's built-in warm-up uses; 20% of the prompts held out, seeded);
 * 2. generate: K sampled candidates of the SFT model per training prompt (rounds.ts generateCandidates);
 * 3. judge: the verifier ranks each prompt's candidates, right above wrong (judge.ts);
 * 4. DPO: the next round, from the SFT model, on those rankings (rounds.ts nextRoundConfig);
 * 5. held-out evaluation: greedy answers of the SFT and the DPO model on the held-out prompts as a blind
 *    comparison judged by the verifier: win rate of DPO over SFT with its 95% Wilson interval (ties half,
 *    both wrong apart), and the held-out accuracy of each.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readTasks } from '../../core/tasks';
import { compareModels, type ModelComparison } from '../../core/modelComparison';
import { defaultLogPath, loadProject } from '../../core/project';
import { shippedPath } from '../../core/shipped';
import { verifyResponses } from '../../core/verifierJudge';
import type { TrainConfig } from '../config';
import type { TrainEvent } from '../runs/events';
import { runTraining } from '../pipeline/index';
import { judgeWithVerifier } from './judge';
import { evaluateAgainstStart, evaluationPath, generateCandidates, nextRoundConfig } from './rounds';
import type { GenerateProgress } from './generateTasks';

/** Demo settings (defaults are the documented numbers). */
export interface DemoOptions {
  out: string;
  backend: TrainConfig['backend'];
  seed: number;
  /** Two optimizer steps per stage and short answers (seconds; for tests, not for the numbers). */
  quick?: boolean;
  /** Candidates per training prompt (default 4). */
  k?: number;
  onEvent?: (e: TrainEvent) => void;
  onGenerate?: (what: string, p: GenerateProgress) => void;
  onStage?: (line: string) => void;
}

/** An accuracy count. */
export interface Accuracy {
  correct: number;
  total: number;
  rate: number;
}

/** What the demo measured. */
export interface DemoResult {
  sftRun: string;
  dpoRun: string;
  /** DPO (B) over SFT (A) on the held-out prompts, judged by the verifier. */
  comparison: ModelComparison;
  heldOutAccuracy: { sft: Accuracy; dpo: Accuracy };
  /** Candidate pairs (right over wrong) the DPO round trained on, and candidates generated. */
  dpoPairs: number;
  candidates: number;
  candidateAccuracy: Accuracy;
  seconds: { sft: number; generate: number; dpo: number; evaluate: number; total: number };
  configs: { sft: TrainConfig; dpo: TrainConfig };
}

/** The SFT round's config. */
export function demoSftConfig(o: DemoOptions, data: string): TrainConfig {
  const full: TrainConfig = {
    data, method: 'sft', out: o.out, seed: o.seed, backend: o.backend, runId: `demo-${Date.now().toString(36)}`,
    epochs: 3, lr: 1e-3, batchSize: 32, evalFraction: 0.2, maxLength: 64, schedule: 'cosine',
  };
  return o.quick ? { ...full, epochs: 1, maxSteps: 2 } : full;
}

/** Overrides of the DPO round. */
export function demoDpoOverrides(o: DemoOptions): Partial<TrainConfig> {
  const full: Partial<TrainConfig> = { method: 'dpo', epochs: 3, lr: 2e-4, batchSize: 16, loss: { beta: 0.1 }, evalFraction: 0.1, schedule: 'cosine' };
  return o.quick ? { ...full, epochs: 1, maxSteps: 2 } : full;
}

/**
 * SFT rows of every response of the sample task file, right or wrong (as the trainer's built-in warm-up
 * learns from every response): the demonstrations are noisy, which is what the preference stage corrects.
 */
export async function writeSftRows(out: string): Promise<string> {
  const { items } = await readTasks(shippedPath('samples', 'arith.tasks.jsonl'));
  const rows = items.flatMap((it) => it.responses.map((r) => JSON.stringify({ prompt: it.prompt, completion: r.text, meta: it.meta })));
  mkdirSync(out, { recursive: true });
  const file = join(out, 'arith.all-responses.sft.jsonl');
  writeFileSync(file, rows.join('\n') + '\n');
  return file;
}

const rate = (correct: number, total: number): Accuracy => ({ correct, total, rate: total > 0 ? correct / total : NaN });

async function train(config: TrainConfig, o: DemoOptions): Promise<string> {
  const outcome = await runTraining(config, { onEvent: o.onEvent });
  if (outcome.status !== 'finished') throw new Error(`demo: ${config.method} run ${outcome.status}: ${outcome.error ?? ''} (${outcome.runDir})`);
  return outcome.runDir;
}

/** Runs the five steps (see the file comment). */
export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const t0 = Date.now();
  const k = o.k ?? 4;
  const maxNewTokens = o.quick ? 12 : 32;
  const sftConfig = demoSftConfig(o, await writeSftRows(o.out));
  o.onStage?.('1/5 SFT of the built-in model on every response of the sample (noisy demonstrations)');
  const sftRun = await train(sftConfig, o);
  const t1 = Date.now();
  o.onStage?.(`2/5 generating ${k} candidates per training prompt with the SFT model`);
  const gen = await generateCandidates(sftRun, k, { maxNewTokens, seed: o.seed, batchSize: 32, onProgress: (p) => o.onGenerate?.('candidates', p) });
  o.onStage?.('3/5 judging the candidates with the verifier');
  await judgeWithVerifier(gen.out);
  const candidates = await loadProject(gen.out, defaultLogPath(gen.out));
  const verdicts = candidates.items.flatMap((it) => verifyResponses(it) ?? []);
  const t2 = Date.now();
  o.onStage?.('4/5 DPO from the SFT model on the judged candidates');
  const dpoConfig = nextRoundConfig(sftRun, demoDpoOverrides(o), gen.out);
  const dpoRun = await train(dpoConfig, o);
  const t3 = Date.now();
  o.onStage?.('5/5 held-out evaluation: greedy answers of both models, judged blind by the verifier');
  const evaluation = await evaluateAgainstStart(dpoRun, { maxNewTokens, batchSize: 32, onProgress: (p) => o.onGenerate?.('evaluation', p) });
  await judgeWithVerifier(evaluation.out);
  const evalProject = await loadProject(evaluationPath(dpoRun));
  const comparison = compareModels(evalProject.items, evalProject.resolution.judgments);
  if (!comparison) throw new Error(`demo: ${evaluation.out} holds no comparison items`);
  const heldOut = (await readTasks(evaluation.out)).items.map((it) => verifyResponses(it)).filter((v): v is boolean[] => v !== undefined);
  const t4 = Date.now();
  const pairs = candidates.items.reduce((s, it) => {
    const v = verifyResponses(it) ?? [];
    const right = v.filter(Boolean).length;
    return s + right * (v.length - right);
  }, 0);
  return {
    sftRun, dpoRun, comparison,
    heldOutAccuracy: { sft: rate(heldOut.filter((v) => v[0]).length, heldOut.length), dpo: rate(heldOut.filter((v) => v[1]).length, heldOut.length) },
    dpoPairs: pairs, candidates: verdicts.length, candidateAccuracy: rate(verdicts.filter(Boolean).length, verdicts.length),
    seconds: { sft: (t1 - t0) / 1000, generate: (t2 - t1) / 1000, dpo: (t3 - t2) / 1000, evaluate: (t4 - t3) / 1000, total: (t4 - t0) / 1000 },
    configs: { sft: sftConfig, dpo: dpoConfig },
  };
}

/** The demo's result lines (printed by `dap demo`). */
export function demoSummary(r: DemoResult): string[] {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const acc = (a: Accuracy) => `${pct(a.rate)} (${a.correct}/${a.total})`;
  const w = r.comparison.overall;
  return [
    `candidates: ${r.candidates} sampled, ${acc(r.candidateAccuracy)} right → ${r.dpoPairs} right-over-wrong pairs for DPO`,
    `held-out win rate of DPO over SFT: ${pct(w.rate)}, 95% interval [${pct(w.low)}, ${pct(w.high)}] ` +
      `(${w.wins} wins, ${w.losses} losses, ${w.ties} ties both right; ${w.bothBad} both wrong, not counted; ${r.comparison.items} held-out prompts)`,
    `held-out accuracy (greedy, verifier): SFT ${acc(r.heldOutAccuracy.sft)} → DPO ${acc(r.heldOutAccuracy.dpo)}`,
    `time: SFT ${r.seconds.sft.toFixed(0)} s, generate + judge ${r.seconds.generate.toFixed(0)} s, DPO ${r.seconds.dpo.toFixed(0)} s, ` +
      `evaluation ${r.seconds.evaluate.toFixed(0)} s, total ${r.seconds.total.toFixed(0)} s`,
    `runs: ${r.sftRun} → ${r.dpoRun} (comparison: ${join(r.dpoRun, 'eval', 'vs-start.tasks.jsonl')})`,
  ];
}
