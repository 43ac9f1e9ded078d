/**
 * The worker process (bundled to dist/worker.js): the heavy work of the editor, out of the extension
 * host. It does one job and exits (messages: ./protocol.ts):
 * - a training run: config as a JSON file path in the first argument, or a {type: "start", config} IPC
 *   message; `dap train` runs the same pipeline in the foreground. Events (src/train/runs/events.ts) go to the
 *   parent over IPC when forked, else one JSON object per stdout line, and always to
 *   runs/RUN_ID/metrics.jsonl. Cancel: a {type: "cancel"} message, SIGTERM or SIGINT stops after the current
 *   optimizer step, writes a checkpoint and exits 0; a second signal exits at once (130). If the parent
 *   disconnects, the worker cancels the same way, so it never outlives its parent. Exit status: 0
 *   finished/cancelled, 1 failed.
 * - the review panel's model scores: a {type: "score"} message; it answers with `progress` events, then
 *   `scored` (exit 0) or `failed` (exit 1). Cancel, a signal or a disconnect ends it at once (130):
 *   scores are not checkpointed.
 * - generated responses: a {type: "generate"} message (src/train/loop/generateJob.ts); `generateProgress` after
 *   each batch, then `generated` (exit 0) or `failed` (exit 1). Cancel (or a disconnect) stops after the
 *   current batch; what is written stays.
 */
import { readFileSync } from 'node:fs';
import { assertUnreachable } from '../../core/assertUnreachable';
import { loadReview } from '../../core/review/load';
import type { TrainConfig } from '../config';
import type { TrainEvent } from '../runs/events';
import { scoreForReview } from '../flagging/index';
import { runTraining } from '../pipeline/index';
import { runGenerateJob } from '../loop/generateJob';
import type { GenerateMessage, GenerationEvent, HostToWorkerMessage, ScoreMessage, ScoringEvent } from './protocol';

/** The job this process runs (one per process). */
let job: 'none' | 'training' | 'scoring' | 'generating' = 'none';
let cancelRequested = false;
/** Set once the job is done and the process is on its way out (its own disconnect is no cancel). */
let exiting = false;
const pendingSends: Promise<void>[] = [];

/** Sends a message to the parent (IPC) or prints it as a JSON line. */
function output(e: TrainEvent | ScoringEvent | GenerationEvent): void {
  if (process.send && process.connected) {
    pendingSends.push(new Promise((res) => process.send!(e, undefined, undefined, () => res())));
  } else {
    process.stdout.write(JSON.stringify(e) + '\n');
  }
}

/** Delivers what is still being sent, then exits. */
async function finish(code: number): Promise<never> {
  await Promise.all(pendingSends);
  exiting = true;
  if (process.connected) process.disconnect();
  process.exit(code);
}

/** Cancel (message, signal, disconnect): training stops at its next step boundary; scoring exits now. */
function requestCancel(): void {
  if (job === 'scoring' || cancelRequested) process.exit(130);
  cancelRequested = true;
}

async function train(config: TrainConfig): Promise<never> {
  job = 'training';
  let code = 0;
  try {
    const outcome = await runTraining(config, { onEvent: output, shouldStop: () => cancelRequested });
    if (outcome.status === 'failed') {
      code = 1;
      process.stderr.write(`training failed: ${outcome.error}\n`);
    }
  } catch (e) {
    // Errors before the run folder exists (a bad config): no metrics.jsonl to write to.
    code = 1;
    const err = e as Error;
    output({ type: 'failed', ts: new Date().toISOString(), error: err.message, stack: err.stack });
    process.stderr.write(`training failed: ${err.message}\n`);
  }
  return finish(code);
}

async function score(m: ScoreMessage): Promise<never> {
  job = 'scoring';
  try {
    const { input } = await loadReview(m.taskFile, m.logFile);
    const scored = await scoreForReview(input, m.request, {
      backend: m.backend ?? 'auto',
      onProgress: (message) => output({ type: 'progress', message }),
      train: m.train,
    });
    output({ type: 'scored', scores: scored.scores, method: scored.method });
    return await finish(0);
  } catch (e) {
    const err = e as Error;
    output({ type: 'failed', error: err.message, stack: err.stack });
    return finish(1);
  }
}

async function generate(m: GenerateMessage): Promise<never> {
  job = 'generating';
  try {
    const result = await runGenerateJob(m.job, m.backend ?? 'auto', (progress) => output({ type: 'generateProgress', progress }), () => cancelRequested, m.torch);
    output({ type: 'generated', result });
    return await finish(0);
  } catch (e) {
    const err = e as Error;
    output({ type: 'failed', error: err.message, stack: err.stack });
    return finish(1);
  }
}

function main(): void {
  process.on('SIGTERM', requestCancel);
  process.on('SIGINT', requestCancel);
  // The parent is gone: never outlive it (training still checkpoints first).
  process.on('disconnect', () => {
    if (exiting) return;
    if (job === 'scoring') process.exit(130);
    cancelRequested = true;
  });
  const file = process.argv[2];
  if (file) {
    let config: TrainConfig;
    try {
      config = JSON.parse(readFileSync(file, 'utf8')) as TrainConfig;
    } catch (e) {
      process.stderr.write(`${file}: cannot read the training config: ${(e as Error).message}\n`);
      process.exit(2);
    }
    process.on('message', (m: HostToWorkerMessage) => { if (m?.type === 'cancel') requestCancel(); });
    void train(config);
    return;
  }
  if (!process.send) {
    process.stderr.write('usage: worker CONFIG.json   (or fork it and send {"type":"start","config":{...}} or {"type":"score",...})\n');
    process.exit(2);
  }
  process.on('message', (m: HostToWorkerMessage) => {
    switch (m.type) {
      case 'cancel':
        requestCancel();
        break;
      case 'start':
        if (job === 'none') void train(m.config);
        break;
      case 'score':
        if (job === 'none') void score(m);
        break;
      case 'generate':
        if (job === 'none') void generate(m);
        break;
      default:
        assertUnreachable(m);
    }
  });
}

main();
