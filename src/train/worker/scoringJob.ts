/**
 * The parent side of a scoring worker: forks dist/worker.js, sends one `score` message (./protocol.ts),
 * passes on its typed `progress` events and resolves with its `scored` event — no text is parsed. Abort
 * sends `cancel`, then SIGTERM, then SIGKILL after 3 s. A worker that fails says why in its `failed`
 * event; one that dies without a word is reported with its exit status and the tail of its stderr.
 */
import { forkWorker, sendCancel, stderrTail, type ForkOptions } from './fork';
import type { HostToWorkerMessage, ScoreMessage, ScoringEvent } from './protocol';
import { assertUnreachable } from '../../core/assertUnreachable';
import type { ResponseScores } from '../../core/review/types';

export interface ScoringJob extends ForkOptions {
  /** Path of dist/worker.js. */
  workerPath: string;
  /** What to score (the `score` message without its type). */
  score: Omit<ScoreMessage, 'type'>;
  /** Called with each progress line of the worker. */
  onProgress(message: string): void;
  /** Stops the worker. */
  signal?: AbortSignal;
}

/** Scores in a worker process; rejects with the worker's own error message. */
export function scoreInWorker(job: ScoringJob): Promise<{ scores: ResponseScores[]; method: string }> {
  return new Promise((resolve, reject) => {
    const child = forkWorker(job.workerPath, job);
    let result: { scores: ResponseScores[]; method: string } | undefined;
    let failure: Error | undefined;
    const stderr = stderrTail(child);
    child.on('message', (m: ScoringEvent) => {
      switch (m.type) {
        case 'progress':
          job.onProgress(m.message);
          break;
        case 'scored':
          result = { scores: m.scores, method: m.method };
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
      child.kill('SIGTERM');
      setTimeout(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'), 3000).unref();
    };
    job.signal?.addEventListener('abort', abort, { once: true });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      job.signal?.removeEventListener('abort', abort);
      if (job.signal?.aborted) reject(new Error(`scoring stopped (${signal ?? `exit code ${code}`})`));
      else if (failure) reject(failure);
      else if (code === 0 && result) resolve(result);
      else reject(new Error(`the scoring worker exited with ${signal ? `signal ${signal}` : `code ${code}`} before it sent scores${stderr.length ? `: ${stderr.join('\n')}` : ''}`));
    });
    const start: HostToWorkerMessage = { type: 'score', ...job.score };
    child.send(start);
    if (job.signal?.aborted) abort();
  });
}
