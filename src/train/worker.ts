/**
 * The training worker process (bundled to dist/worker.js). The VS Code host starts it with
 * child_process.fork; `dap train` may run it too. Config: a JSON file path as the first argument, or a
 * {type: "start", config} IPC message. Events (src/train/events.ts) go to the parent over IPC when forked,
 * else one JSON object per stdout line, and always to runs/RUN_ID/metrics.jsonl.
 * Cancel: a {type: "cancel"} message, SIGTERM or SIGINT stops after the current optimizer step, writes a
 * checkpoint and exits 0; a second signal exits at once (130). If the parent disconnects, the worker
 * cancels the same way, so it never outlives its parent. Exit status: 0 finished/cancelled, 1 failed.
 */
import { readFileSync } from 'node:fs';
import type { TrainConfig } from './config';
import { assertNever, type HostToWorkerMessage, type TrainEvent } from './events';
import { runTraining } from './pipeline';

let cancelRequested = false;
const pendingSends: Promise<void>[] = [];

/** Sends an event to the parent (IPC) or prints it as a JSON line. */
function output(e: TrainEvent): void {
  if (process.send && process.connected) {
    pendingSends.push(new Promise((res) => process.send!(e, undefined, undefined, () => res())));
  } else {
    process.stdout.write(JSON.stringify(e) + '\n');
  }
}

function requestCancel(): void {
  if (cancelRequested) process.exit(130);
  cancelRequested = true;
}

async function start(config: TrainConfig): Promise<never> {
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
  await Promise.all(pendingSends);
  if (process.connected) process.disconnect();
  process.exit(code);
}

function main(): void {
  process.on('SIGTERM', requestCancel);
  process.on('SIGINT', requestCancel);
  process.on('disconnect', () => { cancelRequested = true; });
  const file = process.argv[2];
  if (file) {
    let config: TrainConfig;
    try {
      config = JSON.parse(readFileSync(file, 'utf8')) as TrainConfig;
    } catch (e) {
      process.stderr.write(`${file}: cannot read the training config: ${(e as Error).message}\n`);
      process.exit(2);
    }
    process.on('message', (m: HostToWorkerMessage) => { if (m?.type === 'cancel') cancelRequested = true; });
    void start(config);
    return;
  }
  if (!process.send) {
    process.stderr.write('usage: worker CONFIG.json   (or fork it and send {"type":"start","config":{...}})\n');
    process.exit(2);
  }
  let started = false;
  process.on('message', (m: HostToWorkerMessage) => {
    switch (m.type) {
      case 'cancel':
        cancelRequested = true;
        break;
      case 'start':
        if (!started) {
          started = true;
          void start(m.config);
        }
        break;
      default:
        assertNever(m);
    }
  });
}

main();
