/**
 * `dap demo` (npm run demo): trains DPO on the shipped sample data (media/samples/arith.*) with the
 * built-in tiny model — an SFT stage on all responses of the training prompts, then DPO with the SFT model
 * as reference — and prints the DPO loss curve (ASCII), the held-out reward accuracy, and the verifiable
 * accuracy (src/core/verify.ts) of greedy generations before (SFT reference) and after DPO, separately on
 * training prompts and on held-out prompts that neither stage trained on. Results also go to
 * runs/RUN_ID/demo.json.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomicSync } from '../../core/atomicWrite';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadPretrained } from '../../engine/checkpoint';
import { readTasks } from '../../core/tasks';
import { verifyResponse } from '../../core/verify';
import type { TaskItem } from '../../core/types';
import type { TrainConfig } from '../../train/config';
import type { StepEvent, TrainEvent } from '../../train/runs/events';
import { generateCompletions } from '../../train/pipeline/generation';
import { runTraining } from '../../train/pipeline/index';
import { formatDuration } from '../../core/duration';
import { asciiChart, eventPrinter } from '../progress';
import { runPaths } from '../../train/runs/folder';
import { promptKeyOf } from '../../train/data/index';
import { backendFlag, integerFlag, parseCommandArgs, type Command } from '../command';

const usage = `Usage: dap demo [--out DIR] [--backend B] [--seed S] [--quick]

Trains DPO on the sample arithmetic/string data with the built-in tiny model (SFT first), then prints the
loss curve, held-out reward accuracy and the verifiable accuracy of greedy answers before and after DPO.
  --out DIR     where runs/RUN_ID is written (default: the system temp folder)
  --backend B   auto|tensorflow|webgpu|wasm|cpu (default auto)
  --seed S      seed (default 0)
  --quick       a much smaller model and fewer epochs (seconds; for tests, not for the numbers)`;

/** The demo's training config (documented numbers in README "## Training"). */
export function demoConfig(data: string, out: string, seed: number, backend: TrainConfig['backend'], quick: boolean): TrainConfig {
  const full: TrainConfig = {
    data, method: 'dpo', out, seed, backend, runId: `demo-${Date.now().toString(36)}`,
    builtin: { numLayers: 2, hiddenSize: 128, numHeads: 4, maxPositions: 64 },
    sftEpochs: 30, sftLr: 3e-3, epochs: 2, lr: 1e-4, batchSize: 32, loss: { beta: 0.1 },
    evalFraction: 0.2, evalEvery: 0, maxLength: 64, schedule: 'cosine',
  };
  if (!quick) return full;
  return { ...full, builtin: { numLayers: 1, hiddenSize: 32, numHeads: 2, maxPositions: 64 }, sftEpochs: 1, epochs: 1, maxSteps: 3 };
}

/** The sample task file, beside the bundle (dist/../media) or the sources (src/cli/commands/../../../media). */
export function sampleData(): string {
  const here = typeof __dirname !== 'undefined' ? __dirname : process.cwd();
  const candidates = [join(here, '..', 'media', 'samples'), join(here, '..', '..', '..', 'media', 'samples'), join(process.cwd(), 'media', 'samples')];
  for (const c of candidates) if (existsSync(join(c, 'arith.tasks.jsonl'))) return join(c, 'arith.tasks.jsonl');
  throw new Error(`sample data not found (looked in ${candidates.join(', ')})`);
}

/** Share of prompts whose greedy answer the verifier accepts. */
async function accuracy(modelDir: string, items: TaskItem[]): Promise<{ correct: number; total: number; rate: number }> {
  if (items.length === 0) return { correct: 0, total: 0, rate: NaN };
  const { model, tokenizer } = loadPretrained(modelDir);
  try {
    const texts = await generateCompletions(model, tokenizer, items.map((i) => i.prompt), { maxNewTokens: 32, temperature: 0, topP: 1, seed: 0, batchSize: 32, maxPromptLength: 32 });
    const correct = items.filter((it, i) => verifyResponse(it, texts[i]) === true).length;
    return { correct, total: items.length, rate: correct / items.length };
  } finally {
    model.dispose();
  }
}

/**
 * Verifiable accuracy of greedy answers of the SFT reference (sft-model/) and the DPO model (model/) of a run,
 * per distinct prompt, on the training prompts and on the held-out prompts of the run's split.
 */
export async function scoreRun(runDir: string, data: string) {
  const { items } = await readTasks(data);
  const split = JSON.parse(readFileSync(runPaths(runDir).split, 'utf8')) as { evalPrompts: unknown[] };
  const heldOut = new Set(split.evalPrompts.map((p) => JSON.stringify(p)));
  const seen = new Set<string>();
  const distinct = items.filter((it) => (seen.has(promptKeyOf(it.prompt)) ? false : (seen.add(promptKeyOf(it.prompt)), true)));
  const trainItems = distinct.filter((it) => !heldOut.has(promptKeyOf(it.prompt)));
  const evalItems = distinct.filter((it) => heldOut.has(promptKeyOf(it.prompt)));
  const paths = runPaths(runDir);
  const before = { train: await accuracy(paths.sftModel, trainItems), heldOut: await accuracy(paths.sftModel, evalItems) };
  const after = { train: await accuracy(paths.finalModel, trainItems), heldOut: await accuracy(paths.finalModel, evalItems) };
  return { before, after, heldOutPrompts: evalItems.length, trainPrompts: trainItems.length };
}

const pct = (a: { correct: number; total: number; rate: number }) => `${(100 * a.rate).toFixed(1)}% (${a.correct}/${a.total})`;

async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, { out: { type: 'string' }, backend: { type: 'string' }, seed: { type: 'string' }, quick: { type: 'boolean' } });
  const data = sampleData();
  const out = resolve(values.out ?? join(tmpdir(), 'dap-demo'));
  const config = demoConfig(data, out, integerFlag('seed', values.seed, 0), (backendFlag(values.backend) ?? 'auto') as TrainConfig['backend'], values.quick === true);
  const t0 = Date.now();
  const tty = process.stdout.isTTY === true;
  const print = eventPrinter(process.stdout, tty ? 'tty' : 'plain');
  const steps: StepEvent[] = [];
  let lastEval: Record<string, number> = {};
  const onEvent = (e: TrainEvent) => {
    if (e.type === 'step') {
      steps.push(e);
      if (!tty && e.step % Math.max(1, Math.floor(e.totalSteps / 10)) !== 0 && e.step !== e.totalSteps) return;
    }
    if (e.type === 'eval' && e.stage === 'dpo') lastEval = e.metrics;
    print(e);
  };
  process.stdout.write(`DAP Studio demo: DPO on ${data}\n`);
  const outcome = await runTraining(config, { onEvent });
  if (outcome.status !== 'finished') return 1;
  const trainSeconds = (Date.now() - t0) / 1000;

  process.stdout.write(`\nscoring greedy answers with the SFT reference and the DPO model…\n`);
  const scores = await scoreRun(outcome.runDir, data);
  const { before, after } = scores;
  const dpoLoss = steps.filter((s) => s.stage === 'dpo').map((s) => s.metrics.loss);
  const totalSeconds = (Date.now() - t0) / 1000;
  const lines = [
    '', 'DPO loss per optimizer step (raw, not smoothed):', ...asciiChart(dpoLoss, 60, 10),
    '',
    `held-out reward accuracy (eval_rewards/accuracies, ${scores.heldOutPrompts} held-out prompts): ${((lastEval['eval_rewards/accuracies'] ?? NaN) * 100).toFixed(1)}%` +
      `   eval_loss ${(lastEval.eval_loss ?? NaN).toFixed(4)} (ln 2 = 0.6931 at the start)`,
    'verifiable accuracy of greedy answers (src/core/verify.ts):',
    `  training prompts : SFT reference ${pct(before.train)}  →  DPO ${pct(after.train)}`,
    `  held-out prompts : SFT reference ${pct(before.heldOut)}  →  DPO ${pct(after.heldOut)}`,
    `time: training ${formatDuration(trainSeconds)}, total ${formatDuration(totalSeconds)}; run folder ${outcome.runDir}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  writeFileAtomicSync(join(outcome.runDir, 'demo.json'), JSON.stringify({ config, before, after, eval: lastEval, dpoLoss, trainSeconds, totalSeconds }, null, 2) + '\n');
  return 0;
}

export const command: Command = { name: 'demo', summary: 'Train DPO on the sample data with the built-in model and show before/after accuracy', usage, run };
