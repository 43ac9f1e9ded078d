/**
 * The embedded demo of alignment working end to end (`npm run demo`, `npm run bench -- demo`), on the
 * shipped demo data (media/samples/arith-demo.tasks.jsonl: 1,200 items of the sample's kinds, responses right
 * and wrong) and the shipped pretrained built-in model, through the same code the editor uses:
 * 1. SFT: the built-in model fine-tuned on every response, right or wrong (noisy demonstrations, as the
 *    trainer's built-in warm-up uses; 40% of the prompts held out, seeded) — it unlearns some answers;
 * 2. generate: K sampled candidates of the SFT model per training prompt (rounds.ts generateCandidates);
 * 3. judge: the verifier ranks each prompt's candidates, right above wrong (judge.ts);
 * 4. DPO: the next round, from the SFT model, on those rankings (rounds.ts nextRoundConfig), with TRL's
 *    rpo_alpha NLL term on the chosen answers (plain DPO lowers them too on this small model);
 *    steps 2–4 repeat from the last round's model with --rounds R > 1;
 * 5. held-out evaluation: greedy answers of the SFT and the (last) DPO model on the held-out prompts as a
 *    blind comparison judged by the verifier: win rate of DPO over SFT with its 95% Wilson interval (ties
 *    half, both wrong apart), and the held-out accuracy of each.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readTasks } from '../../core/tasks';
import { compareModels, type ModelComparison } from '../../core/modelComparison';
import { defaultLogPath, loadProject } from '../../core/project';
import { shippedPath } from '../../core/shipped';
import { verifyResponses } from '../../core/verifierJudge';
import type { TrainConfig } from '../config';
import type { TrainEvent } from '../runs/trainEvents';
import { runTraining } from '../pipeline/index';
import { judgeWithVerifier } from './judge';
import { compareRunOutputs, evaluateAgainstStart, generateCandidates, nextRoundConfig } from './rounds';
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
  /** Preference rounds (generate → judge → DPO from the previous round's model; default DEMO_ROUNDS, 1 with quick). */
  rounds?: number;
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
  /** The last round's DPO run. */
  dpoRun: string;
  /** The held-out comparison's task file (A = SFT, B = the last DPO round). */
  evaluation: string;
  /** Each preference round, first to last. */
  rounds: DemoRound[];
  /** DPO (B) over SFT (A) on the held-out prompts, judged by the verifier. */
  comparison: ModelComparison;
  heldOutAccuracy: { sft: Accuracy; dpo: Accuracy };
  seconds: { sft: number; generate: number; dpo: number; evaluate: number; total: number };
  configs: { sft: TrainConfig; rounds: TrainConfig[] };
}

/** The SFT round's config. */
export function demoSftConfig(o: DemoOptions, data: string): TrainConfig {
  const full: TrainConfig = {
    data, method: 'sft', out: o.out, seed: o.seed, backend: o.backend, runId: `demo-${Date.now().toString(36)}`,
    epochs: 5, lr: 1e-3, batchSize: 32, evalFraction: 0.4, maxLength: 64, schedule: 'cosine',
  };
  return o.quick ? { ...full, epochs: 1, maxSteps: 2 } : full;
}

/**
 * Overrides of each DPO round. rpoAlpha 1 (TRL's rpo_alpha, as Pang et al. 2024 use it for verifier-judged
 * candidates): without it, every learning rate that moves this small model lowered the chosen answers' log-probs
 * along with the rejected ones until its greedy answers degenerated (README: Demo).
 */
export function demoDpoOverrides(o: DemoOptions): Partial<TrainConfig> {
  const full: Partial<TrainConfig> = { method: 'dpo', epochs: 2, lr: 5e-4, batchSize: 16, loss: { beta: 0.1, rpoAlpha: 1 }, evalFraction: 0.1, schedule: 'cosine' };
  return o.quick ? { ...full, epochs: 1, maxSteps: 2 } : full;
}

/**
 * SFT rows of every response of the sample task file, right or wrong (as the trainer's built-in warm-up
 * learns from every response): the demonstrations are noisy, which is what the preference stage corrects.
 */
export async function writeSftRows(out: string): Promise<string> {
  const { items } = await readTasks(shippedPath('samples', DEMO_DATA));
  const rows = items.flatMap((it) => it.responses.map((r) => JSON.stringify({ prompt: it.prompt, completion: r.text, meta: it.meta })));
  mkdirSync(out, { recursive: true });
  const file = join(out, 'arith-demo.all-responses.sft.jsonl');
  writeFileSync(file, rows.join('\n') + '\n');
  return file;
}

/** The demo's data in media/samples: 1,200 items of the sample's kinds (scripts/gen-samples.ts). */
export const DEMO_DATA = 'arith-demo.tasks.jsonl';

/** Preference rounds of the demo by default. */
export const DEMO_ROUNDS = 1;

const rate = (correct: number, total: number): Accuracy => ({ correct, total, rate: total > 0 ? correct / total : NaN });

async function train(config: TrainConfig, o: DemoOptions): Promise<string> {
  const outcome = await runTraining(config, { onEvent: o.onEvent });
  if (outcome.status !== 'finished') throw new Error(`demo: ${config.method} run ${outcome.status}: ${outcome.error ?? ''} (${outcome.runDir})`);
  return outcome.runDir;
}

/** What one preference round did. */
export interface DemoRound {
  run: string;
  /** Candidates sampled on the training prompts by the round's starting model, and how many were right. */
  candidates: number;
  candidateAccuracy: Accuracy;
  /** Right-over-wrong pairs the round trained on. */
  pairs: number;
}

/** Right-over-wrong pairs of verifier verdicts, per prompt. */
const rightOverWrong = (verdicts: boolean[][]) => verdicts.reduce((s, v) => s + v.filter(Boolean).length * v.filter((x) => !x).length, 0);

/** Runs the five steps (see the file comment), steps 2–4 once per round. */
export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const t0 = Date.now();
  const k = o.k ?? 4;
  const roundsWanted = o.rounds ?? (o.quick ? 1 : DEMO_ROUNDS);
  const maxNewTokens = o.quick ? 12 : 32;
  const sftConfig = demoSftConfig(o, await writeSftRows(o.out));
  o.onStage?.('1/5 SFT of the built-in model on every response of the sample (noisy demonstrations)');
  const sftRun = await train(sftConfig, o);
  const t1 = Date.now();
  const rounds: DemoRound[] = [];
  const dpoConfigs: TrainConfig[] = [];
  let generateMs = 0;
  let current = sftRun;
  for (let r = 1; r <= roundsWanted; r++) {
    const of = roundsWanted > 1 ? ` (round ${r} of ${roundsWanted})` : '';
    const tg = Date.now();
    o.onStage?.(`2/5 generating ${k} candidates per training prompt with the ${r === 1 ? 'SFT' : `round ${r - 1} DPO`} model${of}`);
    const gen = await generateCandidates(current, k, { maxNewTokens, seed: o.seed + r - 1, batchSize: 32, onProgress: (p) => o.onGenerate?.('candidates', p) });
    o.onStage?.(`3/5 judging the candidates with the verifier${of}`);
    await judgeWithVerifier(gen.out);
    const verdicts = (await loadProject(gen.out, defaultLogPath(gen.out))).items.map((it) => verifyResponses(it) ?? []);
    generateMs += Date.now() - tg;
    o.onStage?.(`4/5 DPO from the ${r === 1 ? 'SFT' : `round ${r - 1}`} model on the judged candidates${of}`);
    const config = nextRoundConfig(current, demoDpoOverrides(o), gen.out);
    dpoConfigs.push(config);
    current = await train(config, o);
    const flat = verdicts.flat();
    rounds.push({ run: current, candidates: flat.length, candidateAccuracy: rate(flat.filter(Boolean).length, flat.length), pairs: rightOverWrong(verdicts) });
  }
  const dpoRun = current;
  const t3 = Date.now();
  o.onStage?.('5/5 held-out evaluation: greedy answers of the SFT and the DPO model, judged blind by the verifier');
  const evalOptions = { maxNewTokens, batchSize: 32, onProgress: (p: GenerateProgress) => o.onGenerate?.('evaluation', p) };
  // One round: the DPO run against its starting model (= the SFT run); more: the last round against the SFT run.
  const evaluation = roundsWanted === 1 ? await evaluateAgainstStart(dpoRun, evalOptions) : await compareRunOutputs(sftRun, dpoRun, evalOptions);
  await judgeWithVerifier(evaluation.out);
  const evalProject = await loadProject(evaluation.out);
  const comparison = compareModels(evalProject.items, evalProject.resolution.judgments);
  if (!comparison) throw new Error(`demo: ${evaluation.out} holds no comparison items`);
  const heldOut = evalProject.items.map((it) => verifyResponses(it)).filter((v): v is boolean[] => v !== undefined);
  const t4 = Date.now();
  return {
    sftRun, dpoRun, comparison, evaluation: evaluation.out, rounds,
    heldOutAccuracy: { sft: rate(heldOut.filter((v) => v[0]).length, heldOut.length), dpo: rate(heldOut.filter((v) => v[1]).length, heldOut.length) },
    seconds: { sft: (t1 - t0) / 1000, generate: generateMs / 1000, dpo: (t3 - t1 - generateMs) / 1000, evaluate: (t4 - t3) / 1000, total: (t4 - t0) / 1000 },
    configs: { sft: sftConfig, rounds: dpoConfigs },
  };
}

/** The demo's result lines (printed by `dap demo`). */
export function demoSummary(r: DemoResult): string[] {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const acc = (a: Accuracy) => `${pct(a.rate)} (${a.correct}/${a.total})`;
  const w = r.comparison.overall;
  return [
    ...r.rounds.map((x, i) => `${r.rounds.length > 1 ? `round ${i + 1} ` : ''}candidates: ${x.candidates} sampled, ${acc(x.candidateAccuracy)} right → ${x.pairs} right-over-wrong pairs for DPO`),
    `held-out win rate of DPO over SFT: ${pct(w.rate)}, 95% interval [${pct(w.low)}, ${pct(w.high)}] ` +
      `(${w.wins} wins, ${w.losses} losses, ${w.ties} ties both right; ${w.bothBad} both wrong, not counted; ${r.comparison.items} held-out prompts)`,
    `held-out accuracy (greedy, verifier): SFT ${acc(r.heldOutAccuracy.sft)} → DPO ${acc(r.heldOutAccuracy.dpo)}`,
    `time: SFT ${r.seconds.sft.toFixed(0)} s, generate + judge ${r.seconds.generate.toFixed(0)} s, DPO ${r.seconds.dpo.toFixed(0)} s, ` +
      `evaluation ${r.seconds.evaluate.toFixed(0)} s, total ${r.seconds.total.toFixed(0)} s`,
    `runs: ${[r.sftRun, ...r.rounds.map((x) => x.run)].join(' → ')} (comparison: ${r.evaluation})`,
  ];
}
