/**
 * A whole training run, as the worker and `dap train` execute it: resolve the config, pick the backend,
 * read and split the data, create the model (the built-in tiny model gets an SFT stage on the data's
 * responses first) or load a model folder, compute or load the reference log-probs, run the method's stage
 * (or the SPIN driver), save the final model (in the source dtype), and report everything as events (appended to
 * runs/RUN_ID/metrics.jsonl and passed to `onEvent`). Resume continues the run folder of a checkpoint.
 * With `lora`, adapters are added to the policy just before the method's stage (after the built-in model's
 * full SFT stage); the reference is the model before them (B = 0: identical), see lora.ts; the stage plumbing it shares with SPIN is in stages.ts.
 * Failures: an invalid config (or resume checkpoint) throws before any run folder exists. Once the folder is
 * made, every failure, including a data file that is missing or invalid, ends metrics.jsonl with a `failed`
 * event and keeps the folder: the VS Code Runs view lists the failed run with its error (the worker has no
 * other channel for it), and `dap train` also prints the error on stderr and exits 1.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomicSync } from '../../core/atomicWrite';
import { dirname, resolve } from 'node:path';
import { initBackend } from '../../engine/backend';
import { builtinModelDir, builtinTokenizer, openBuiltinModel } from '../../engine/builtin';
import { loadPretrained, saveModel } from '../../engine/checkpoint';
import { setEngineThreads } from '../../engine/kernels/native';
import type { TransformerLM } from '../../engine/transformer';
import type { EngineTokenizer } from '../../engine/types';
import { resolveConfig, type ResolvedTrainConfig, type TrainConfig } from '../config';
import { chooseExecutor, ExecutorError, type ExecutorChoice } from '../torch/choose';
import { runTorchTraining } from '../torch/run';
import { allPrompts, allResponseRows, chooseEvalPrompts, examplesFor, readSourceData, splitByPrompt, type SourceData } from '../data/index';
import type { FinishedEvent, TrainEvent } from '../runs/events';
import { getLoss } from '../losses/index';
import type { DataKind } from '../losses/types';
import { appendEvent, createRunDir, isRunFolder, resumePoint, runPaths, writeRunConfig } from '../runs/folder';
import { stageSteps, type EventSink, type StageOptions, type StageResult } from '../stage/index';
import { readTrainerState } from '../stage/checkpoints';
import { runSpin } from './spin';
import { sampleGenerations, type SampleGeneration } from './samples';
import { baseStage, referenceFor, startStage, type RunContext } from './stages';
import { enableRunLora, loadResumedPolicy, loraBaseOf, resolveLoraTargets, saveFinalOutputs } from './lora';

/** Callbacks of a run. */
export interface RunHooks {
  /** Every event, after it was appended to metrics.jsonl. */
  onEvent?: (e: TrainEvent) => void;
  /** Polled after every optimizer step: true = write a checkpoint and stop (exit status stays 0). */
  shouldStop?: () => boolean;
  /** torch executor: prepare the run folder and print the launch command only (torch/run.ts). */
  prepareOnly?: boolean;
}

/** How a run ended. */
export interface RunOutcome {
  status: 'finished' | 'cancelled' | 'failed';
  runDir: string;
  summary?: FinishedEvent['summary'];
  error?: string;
}

let backendName: string | null = null;

/**
 * The config of a resumed run: the run folder's saved config, with `resume` set to the checkpoint.
 * `c.resume` is a checkpoint folder, or a run folder: then its newest whole checkpoint, or — when the run
 * was killed before its first checkpoint — none, and the run starts again from the beginning in its folder
 * (same config, same seed: the same run). A run that already finished is refused (nothing is written).
 */
function configForResume(c: TrainConfig): { config: ResolvedTrainConfig; runDir: string } {
  const target = resolve(c.resume as string);
  const isRunDir = isRunFolder(target);
  if (isRunDir && !existsSync(runPaths(target).config)) {
    throw new Error(`${target}: the run stopped before it saved config.json (nothing was trained yet); nothing to resume — start it again`);
  }
  if (!isRunDir) readTrainerState(target); // validates the folder
  const runDir = isRunDir ? target : dirname(dirname(target));
  const point = resumePoint(runDir);
  const ckpt = isRunDir ? point.checkpoint : target;
  const finished = point.finished;
  if (finished) throw new Error(`${runDir}: the run already finished at ${finished.ts}${finished.model ? ` (its model is ${finished.model})` : ''}; nothing to resume — start a new run`);
  const saved = JSON.parse(readFileSync(runPaths(runDir).config, 'utf8')) as ResolvedTrainConfig;
  return { config: { ...saved, resume: ckpt, ...(c.maxSteps ? { maxSteps: c.maxSteps } : {}) }, runDir };
}

/** Runs a training run to the end; never throws for training errors (they become a `failed` event). */
export async function runTraining(input: TrainConfig, hooks: RunHooks = {}, choice?: ExecutorChoice): Promise<RunOutcome> {
  let config: ResolvedTrainConfig;
  let runDir: string;
  if (input.resume) {
    ({ config, runDir } = configForResume(input));
    if (config.executor === 'torch') {
      if (!config.resume) throw new ExecutorError(`${runDir}: the torch run was stopped before its first checkpoint; the torch executor resumes from a checkpoint only — start the run again`);
      const ckpt = config.resume;
      // --max-steps: the resumed stage trains to that many steps, as on tfjs (Python is told; config.json stays as the host wrote it).
      const maxSteps = input.maxSteps;
      if (maxSteps !== undefined) {
        const at = readTrainerState(ckpt).step;
        if (maxSteps < at) throw new ExecutorError(`resume: --max-steps ${maxSteps} is below the step of ${ckpt} (${at}); give at least ${at}`);
      }
      const torch = await chooseExecutor({ ...config, ...(input.python ? { python: input.python } : {}) });
      return runTorchTraining(config, torch, hooks, { ckpt, runDir, ...(maxSteps !== undefined ? { maxSteps } : {}) });
    }
  } else {
    config = resolveConfig(input);
    const picked = choice ?? (await chooseExecutor(config));
    if (picked.executor === 'torch') return runTorchTraining(config, picked, hooks);
    config.executor = 'tfjs';
    runDir = createRunDir(resolve(config.out), config.runId);
  }
  const emit: EventSink = (e) => {
    const full = { ts: new Date().toISOString(), ...e } as TrainEvent;
    try {
      appendEvent(runDir, full);
    } catch (err) {
      // A failing run on a full disk: its failed event still reaches the caller (stdout / the host), saying both.
      if (full.type !== 'failed') throw err;
      full.error += ` (this event is not in metrics.jsonl either: ${(err as Error).message})`;
    }
    hooks.onEvent?.(full);
  };
  const t0 = Date.now();
  let lastCheckpoint: string | undefined;
  const models: TransformerLM[] = [];
  try {
    if (!backendName) backendName = (await initBackend(config.backend)).name;
    if (config.threads > 0) setEngineThreads(config.threads);
    const src = await readSourceData(config.data, config.log, config.pairMode);
    for (const n of src.notes.slice(0, 20)) emit({ type: 'log', level: 'warn', message: n });
    // Policy and tokenizer: from the checkpoint when resuming, else the model folder or a fresh built-in model.
    // (LoRA checkpoints: the base model + the checkpoint's adapter/.)
    let policy: TransformerLM;
    let tokenizer: EngineTokenizer;
    let loraBase: string | undefined;
    if (config.resume) ({ model: policy, tokenizer, loraBase } = loadResumedPolicy(config, runDir, config.resume));
    else if (config.model) ({ model: policy, tokenizer } = loadPretrained(config.model));
    else {
      const builtin = openBuiltinModel(config.seed, config.builtin);
      policy = builtin.model;
      tokenizer = builtinTokenizer();
      emit({ type: 'log', level: 'info', message: builtin.pretrained ? `built-in model: pretrained weights from ${builtinModelDir()}` : 'built-in model: random initialisation (custom shape)' });
    }
    models.push(policy);
    if (!config.maxLength) config.maxLength = Math.min(256, policy.config.maxPositions);
    if (!config.maxPromptLength) config.maxPromptLength = Math.floor(config.maxLength / 2);
    resolveLoraTargets(config, policy);
    if (config.lora) loraBase ??= loraBaseOf(config, runDir);
    if (!config.resume) writeRunConfig(runDir, config);
    const evalPrompts = chooseEvalPrompts(allPrompts(src), config.evalFraction, config.seed);
    writeFileAtomicSync(runPaths(runDir).split, JSON.stringify({ evalPrompts: [...evalPrompts].map((k) => JSON.parse(k)) }, null, 2) + '\n');
    const resumeStage = config.resume ? readTrainerState(config.resume).stage : undefined;
    const ctx: RunContext = { config, runDir, tokenizer, emit, shouldStop: hooks.shouldStop ?? (() => false), evalPrompts,
      resume: config.resume ? { dir: config.resume, stage: resumeStage as string } : undefined, loraBase };
    const backend = backendName;
    let result: StageResult | undefined;
    const mainStage = config.method;
    // The stages ahead and their step counts, known now: every started event carries them (the loss panel and
    // the status bar show "sft, then dpo" with each stage's own progress from the first step).
    const sftRows = !config.model && config.method !== 'sft' && (!resumeStage || resumeStage === 'sft') ? splitByPrompt(allResponseRows(src), evalPrompts) : undefined;
    const mainSplit = config.method === 'spin' ? undefined : splitByPrompt(examplesFor(src, getLoss(config.method).dataKind), evalPrompts);
    ctx.plan = [
      ...(sftRows ? [{ stage: 'sft', totalSteps: stageSteps(sftRows.train.length, config.sftEpochs, config.batchSize, config.gradAccum) }] : []),
      ...(mainSplit
        ? [{ stage: mainStage, totalSteps: stageSteps(mainSplit.train.length, config.epochs, config.batchSize, config.gradAccum, config.maxSteps) }]
        : Array.from({ length: config.spin.iterations }, (_, i) => ({ stage: `spin-${i + 1}` }))), // sized once generated
    ];
    // 1. SFT warm-up of the built-in model on all responses of the training prompts.
    if (sftRows) {
      const rows = sftRows;
      const o: StageOptions<'sft'> = { ...baseStage(ctx, policy), stage: 'sft', kind: 'sft', loss: 'sft', hyper: config.loss, train: rows.train, eval: rows.eval,
        epochs: config.sftEpochs, lr: config.sftLr, maxSteps: undefined, resumeFrom: resumeStage === 'sft' ? config.resume : undefined };
      result = await startStage(ctx, o, backend);
      lastCheckpoint = result.checkpoint;
      if (result.cancelled) return finish('cancelled', result);
      await saveModel(policy, runPaths(runDir).sftModel, { dtype: 'F32' });
      ctx.resume = undefined;
    }
    // 2. The method (SPIN has its own driver), on fresh adapters under LoRA (B = 0: the reference is the model before them).
    if (config.lora && policy.lora.size === 0) enableRunLora(config, policy);
    if (config.method === 'spin') {
      result = await runSpin(ctx, policy, src, backend);
    } else {
      const spec = getLoss(config.method);
      const { train, eval: evalRows } = mainSplit as NonNullable<typeof mainSplit>;
      const liveDir = config.model ?? runPaths(runDir).sftModel;
      const reference = await referenceFor(ctx, mainStage, config.method, spec.dataKind, policy, train, evalRows, liveDir);
      if (reference?.kind === 'live') models.push(reference.model);
      const o: StageOptions<DataKind> = { ...baseStage(ctx, policy), stage: mainStage, kind: spec.dataKind, loss: config.method, hyper: config.loss,
        train, eval: evalRows, reference, epochs: config.epochs, lr: config.lr, resumeFrom: resumeStage === mainStage ? config.resume : undefined };
      result = await startStage(ctx, o, backend);
    }
    lastCheckpoint = result.checkpoint;
    if (result.cancelled) return finish('cancelled', result);
    const outputs = await saveFinalOutputs(policy, runDir, loraBase);
    // Before/after greedy answers on a few held-out prompts for the summary (reference = where training started).
    const samplePrompts = [...evalPrompts].map((k) => JSON.parse(k));
    const samples = config.method === 'spin' ? [] : await sampleGenerations(policy, tokenizer, samplePrompts, config.model ?? runPaths(runDir).sftModel);
    return finish('finished', result, samples, outputs.adapter);
  } catch (e) {
    const err = e as Error & { lastCheckpoint?: string };
    const last = err.lastCheckpoint ?? lastCheckpoint;
    emit({ type: 'failed', error: err.message, stack: err.stack, ...(last ? { lastCheckpoint: last } : {}) });
    return { status: 'failed', runDir, error: err.message };
  } finally {
    for (const m of models) m.dispose();
  }

  function finish(status: 'finished' | 'cancelled', r: StageResult, samples: SampleGeneration[] = [], adapter?: string): RunOutcome {
    const summary = { runDir, steps: r.steps, cancelled: status === 'cancelled', final: r.final, checkpoint: r.checkpoint, ...(samples.length ? { samples } : {}),
      seconds: (Date.now() - t0) / 1000, ...(status === 'finished' ? { model: runPaths(runDir).finalModel } : {}), ...(adapter ? { adapter } : {}) };
    emit({ type: 'finished', summary });
    return { status, runDir, summary };
  }
}

export type { SourceData };
