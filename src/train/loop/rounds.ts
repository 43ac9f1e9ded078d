/**
 * Closing the loop on finished runs (no VS Code: the host, the CLI and the demo call these).
 * - Rounds: a run trained from another run's model on candidates that model generated is the next round;
 *   its folder holds round.json `{"parent": RUN_DIR, "round": N, "candidates": TASKS}`. The first round is
 *   the root: its data and held-out split define the prompts of every later round (training prompts =
 *   the root's prompts minus its held-out ones), so no round ever trains on a held-out prompt.
 * - Evaluation: greedy answers of a run's model and of the model it started from (or of another run) on the
 *   root's held-out prompts, as pair items for a blind comparison (RUN/eval/*.tasks.jsonl).
 * - Next round: K sampled candidates of the run's model on the training prompts
 *   (RUN/next-round/candidates.tasks.jsonl) to rank, pick from or let the verifier judge, then a training
 *   config that starts from the run's model.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { readPrompts } from '../../core/prompts';
import { builtinModelDir, isDefaultBuiltinShape } from '../../engine/builtin';
import type { ResolvedTrainConfig, TrainConfig } from '../config';
import { createRunDir, isRunFolder, runDirOf, runPaths } from '../runs/folder';
import { generateTasks, type GenerateProgress, type GenerateResult, type SamplingSettings } from './generateTasks';
import { runIdOf, type ModelSource } from './modelSpec';
import type { TorchGeneration } from './samplers';

/** round.json of a run trained in a later round. */
export interface RoundLink {
  /** The run whose model this round started from. */
  parent: string;
  /** 1 for the first round after the root, … */
  round: number;
  /** The candidates task file it trained on. */
  candidates: string;
}

/** Options shared by the generation helpers. */
export interface LoopGenerateOptions extends Partial<SamplingSettings> {
  batchSize?: number;
  backend?: string;
  /** Generate on the torch executor (samplers.ts). */
  torch?: TorchGeneration;
  onProgress?: (p: GenerateProgress) => void;
  shouldStop?: () => boolean;
}

/** The run's saved config. */
export function runConfig(runDir: string): ResolvedTrainConfig {
  return JSON.parse(readFileSync(runPaths(runDir).config, 'utf8')) as ResolvedTrainConfig;
}

/** The run's round link, when it is a later round. */
export function readRound(runDir: string): RoundLink | undefined {
  const p = join(runDir, 'round.json');
  return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as RoundLink) : undefined;
}

/** The first round of a run's chain (the run itself when it has no parent). */
export function rootRun(runDir: string): string {
  let dir = runDir;
  for (let guard = 0; guard < 1000; guard++) {
    const link = readRound(dir);
    if (!link) return dir;
    dir = link.parent;
  }
  throw new Error(`${runDir}: round.json links form a cycle`);
}

/** Round index of a run (0 for a root). */
export function roundOf(runDir: string): number {
  return readRound(runDir)?.round ?? 0;
}

/** The root's data file and its held-out prompt keys (JSON of each prompt, as the trainer's split). */
export function heldOutPrompts(runDir: string): { data: string; prompts: Set<string> } {
  const root = rootRun(runDir);
  const split = JSON.parse(readFileSync(runPaths(root).split, 'utf8')) as { evalPrompts: unknown[] };
  return { data: runConfig(root).data, prompts: new Set(split.evalPrompts.map((p) => JSON.stringify(p))) };
}

/** The root's prompts that are not held out (what every round trains on). */
export async function trainingPrompts(runDir: string): Promise<{ data: string; prompts: Set<string> }> {
  const { data, prompts: held } = heldOutPrompts(runDir);
  const { prompts } = await readPrompts(data);
  return { data, prompts: new Set(prompts.map((p) => JSON.stringify(p.prompt)).filter((k) => !held.has(k))) };
}

/** A finished run's final model as a generation source, named by the run id. */
export function runModel(runDir: string): ModelSource {
  const dir = runPaths(runDir).finalModel;
  if (!existsSync(join(dir, 'config.json'))) throw new Error(`${runDir}: the run has no final model/ (it has not finished)`);
  return { name: runIdOf(runDir), dir, runDir };
}

/**
 * The model a run started from: its model folder (named by the run id when it is another run's model/,
 * else by the path), or the built-in model after the run's SFT warm-up (`RUN_ID/sft-model`); a built-in
 * SFT run (no warm-up) started from the shipped model ("builtin"). A built-in run of a custom shape without
 * a warm-up started from a random initialisation that was never saved: there is none to compare with
 * (an error saying so; the shipped model is another model).
 */
export function startingModel(runDir: string): ModelSource {
  const c = runConfig(runDir);
  if (c.model) {
    const parent = dirname(resolve(c.model));
    return isRunFolder(parent) && resolve(runPaths(parent).finalModel) === resolve(c.model) ? { name: runIdOf(parent), dir: c.model, runDir: parent } : { name: c.model, dir: c.model };
  }
  const sft = runPaths(runDir).sftModel;
  if (existsSync(join(sft, 'config.json'))) return { name: `${runIdOf(runDir)}/sft-model`, dir: sft };
  if (!isDefaultBuiltinShape(c.builtin ?? {})) {
    throw new Error(`${runDir}: the run started from a random initialisation of a custom built-in shape (builtin: ${JSON.stringify(c.builtin)}), which is not saved, so there is no starting model to evaluate against; compare it with another run instead (Compare Outputs, or dap generate --model A --model B)`);
  }
  return { name: 'builtin', dir: builtinModelDir() };
}

const GREEDY: SamplingSettings = { temperature: 0, topP: 1, maxNewTokens: 48, seed: 0 };

/** Greedy answers of models A and B on the held-out prompts of `runDir`'s chain, as pair items in `out`. */
export async function generateComparison(runDir: string, a: ModelSource, b: ModelSource, out: string, o: LoopGenerateOptions = {}): Promise<GenerateResult> {
  const { data, prompts } = heldOutPrompts(runDir);
  if (prompts.size === 0) throw new Error(`${rootRun(runDir)}: the run has no held-out prompts (evalFraction 0)`);
  mkdirSync(dirname(out), { recursive: true });
  return generateTasks({ ...GREEDY, ...o, models: [a, b], prompts: data, out, n: 1, onlyPrompts: prompts });
}

/** Where *Evaluate against the starting model* writes its comparison. */
export function evaluationPath(runDir: string): string {
  return join(runDir, 'eval', 'vs-start.tasks.jsonl');
}

/** The run's model (B) against the model it started from (A) on the held-out prompts. */
export async function evaluateAgainstStart(runDir: string, o: LoopGenerateOptions = {}): Promise<GenerateResult> {
  return generateComparison(runDir, startingModel(runDir), runModel(runDir), evaluationPath(runDir), o);
}

/** Run B's model against run A's on B's held-out prompts (RUN_B/eval/vs-RUN_A.tasks.jsonl). */
export async function compareRunOutputs(runA: string, runB: string, o: LoopGenerateOptions = {}): Promise<GenerateResult> {
  const a = runModel(runA);
  return generateComparison(runB, a, runModel(runB), join(runB, 'eval', `vs-${a.name.replace(/[^\w.-]+/g, '_')}.tasks.jsonl`), o);
}

/** Where *Next round* writes the candidates of a run. */
export function candidatesPath(runDir: string): string {
  return join(runDir, 'next-round', 'candidates.tasks.jsonl');
}

/** K sampled candidates of the run's model per training prompt (default K = 4, temperature 1). */
export async function generateCandidates(runDir: string, k = 4, o: LoopGenerateOptions = {}): Promise<GenerateResult> {
  const { data, prompts } = await trainingPrompts(runDir);
  const out = candidatesPath(runDir);
  mkdirSync(dirname(out), { recursive: true });
  return generateTasks({ temperature: 1, topP: 1, maxNewTokens: 48, seed: 0, ...o, models: [runModel(runDir)], prompts: data, out, n: k, onlyPrompts: prompts });
}

/**
 * The run id of round `round` trained from `parentId` in the output folder `out` (out/runs/): BASE-roundN
 * (BASE = the chain's first run id), or BASE-roundN-2, -3, … when a run of that id already exists, so a
 * second next round from the same parent never trains into (and rewrites) the first one's folder. A folder
 * holding only a round.json (a start that was declined) is free.
 */
export function nextRoundId(out: string, parentId: string, round: number): string {
  const base = parentId.replace(/-round\d+(-\d+)?$/, '');
  for (let k = 1; ; k++) {
    const id = `${base}-round${round}${k > 1 ? `-${k}` : ''}`;
    if (!isRunFolder(runDirOf(resolve(out), id))) return id;
  }
}

/**
 * The config of the next round: the parent's settings (where its steps ran included: a torch run's next round
 * runs on torch with the same interpreter, a tfjs run's on tfjs), from the parent's model, on the candidates
 * and their annotation log; writes round.json into the new run folder (made now, so the link exists from
 * the start).
 */
export function nextRoundConfig(runDir: string, overrides: Partial<TrainConfig> = {}, candidates = candidatesPath(runDir)): TrainConfig & { out: string; runId: string } {
  const parent = runConfig(runDir);
  const round = roundOf(runDir) + 1;
  const out = parent.out;
  const runId = overrides.runId ?? nextRoundId(out, runIdOf(runDir), round);
  const method = overrides.method ?? (parent.method === 'sft' ? 'dpo' : parent.method);
  const config: TrainConfig & { out: string; runId: string } = {
    data: candidates, method, model: runPaths(runDir).finalModel, backend: parent.backend, seed: parent.seed,
    executor: parent.executor, ...(parent.python ? { python: parent.python } : {}), device: parent.device, mixedPrecision: parent.mixedPrecision,
    launcher: parent.launcher, numProcesses: parent.numProcesses, threads: parent.threads,
    batchSize: parent.batchSize, gradAccum: parent.gradAccum, maxLength: parent.maxLength, maxPromptLength: parent.maxPromptLength,
    epochs: parent.epochs, lr: parent.lr, schedule: parent.schedule, evalFraction: parent.evalFraction, loss: method === parent.method ? parent.loss : undefined,
    ...overrides,
    out, runId,
  };
  const dir = createRunDir(resolve(out), runId);
  writeFileSync(join(dir, 'round.json'), JSON.stringify({ parent: resolve(runDir), round, candidates: resolve(candidates) } satisfies RoundLink, null, 2) + '\n');
  return config;
}
