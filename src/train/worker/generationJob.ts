/**
 * The parent side of a generation worker: forks dist/worker.js, sends one `generate` message
 * (./protocol.ts), passes on its `generateProgress` events and resolves with its `generated` result. Abort
 * sends `cancel`: the worker stops after its current batch (what is written stays) and still reports its
 * result, marked `stopped`; SIGKILL follows after 20 s if it does not exit. A worker that fails says why in
 * its `failed` event; one that dies without a word is reported with its exit status and the tail of stderr.
 */
import { assertUnreachable } from '../../core/assertUnreachable';
import type { GenerateJob, GenerateJobResult } from '../loop/generateJob';
import type { GenerateProgress } from '../loop/generateTasks';
import type { TorchGeneration } from '../loop/samplers';
import { forkWorker, sendCancel, stderrTail, type ForkOptions } from './fork';
import type { GenerationEvent, HostToWorkerMessage } from './protocol';

export interface GenerationWorkerJob extends ForkOptions {
  /** Path of dist/worker.js. */
  workerPath: string;
  job: GenerateJob;
  backend?: string;
  /** Generate on the torch executor (its interpreter and device). */
  torch?: TorchGeneration;
  onProgress(p: GenerateProgress): void;
  /** Stops after the current batch. */
  signal?: AbortSignal;
}

/** Generates in a worker process; rejects with the worker's own error message. */
export function generateInWorker(w: GenerationWorkerJob): Promise<GenerateJobResult> {
  return new Promise((resolve, reject) => {
    const child = forkWorker(w.workerPath, w);
    let result: GenerateJobResult | undefined;
    let failure: Error | undefined;
    const stderr = stderrTail(child);
    child.on('message', (m: GenerationEvent) => {
      switch (m.type) {
        case 'generateProgress':
          w.onProgress(m.progress);
          break;
        case 'generated':
          result = m.result;
          break;
        case 'failed':
          failure = new Error(m.error);
          break;
        default:
          assertUnreachable(m);
      }
    });
    const abort = (): void => {
      sendCancel(child);
      setTimeout(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'), 20_000).unref();
    };
    w.signal?.addEventListener('abort', abort, { once: true });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      w.signal?.removeEventListener('abort', abort);
      if (failure) reject(failure);
      else if (code === 0 && result) resolve(result);
      else reject(new Error(`the generation worker exited with ${signal ? `signal ${signal}` : `code ${code}`} before it finished${stderr.length ? `: ${stderr.join('\n')}` : ''}`));
    });
    const start: HostToWorkerMessage = { type: 'generate', job: w.job, ...(w.backend ? { backend: w.backend } : {}), ...(w.torch ? { torch: w.torch } : {}) };
    child.send(start);
    if (w.signal?.aborted) abort();
  });
}
