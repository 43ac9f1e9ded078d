/**
 * Model scoring for the review panel, out of the extension host: forks the bundled CLI
 * (`dist/cli.js review TASKS --log LOG --run DIR|--model DIR --json`) with the editor's own Node, shows
 * its stderr progress and returns the report it prints. Training k-fold models never runs in the host.
 */
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ReviewReport } from '../../core/review/types';

/** What to score with (see `dap review --help`). */
export type ScoreSource =
  /** A training run folder: its final policy vs its reference, held-out split marked. */
  | { kind: 'run'; dir: string }
  /** One model folder, reference-free (mean log-prob difference). */
  | { kind: 'model'; dir: string }
  /** k-fold DPO from the built-in model (or `dir`): every pair scored by a model that did not train on it. */
  | { kind: 'kfold'; k: number; dir?: string };

/** The `dap review` arguments that select a source. */
export function sourceArgs(source: ScoreSource): string[] {
  switch (source.kind) {
    case 'run':
      return ['--run', source.dir];
    case 'model':
      return ['--model', source.dir];
    case 'kfold':
      return ['--k', String(source.k), ...(source.dir ? ['--model', source.dir] : [])];
  }
}

/** A short description for progress titles. */
export function describeSource(source: ScoreSource): string {
  return source.kind === 'kfold' ? `${source.k}-fold DPO${source.dir ? ` from ${basename(source.dir)}` : ''}` : `${source.kind} ${basename(source.dir)}`;
}

/** Options of one scoring job. */
export interface ScoreJob {
  /** Path of dist/cli.js. */
  cliPath: string;
  taskFile: string;
  logFile: string;
  source: ScoreSource;
  /** Called with each progress line the CLI writes to stderr. */
  onProgress(line: string): void;
  /** Aborts the child (SIGTERM, then SIGKILL after 3 s). */
  signal?: AbortSignal;
}

/** A run folder has the trainer's metrics.jsonl or config.json with checkpoints; anything else is a model. */
export function detectSource(dir: string): ScoreSource {
  const isRun = existsSync(join(dir, 'metrics.jsonl')) || existsSync(join(dir, 'checkpoints'));
  return { kind: isRun ? 'run' : 'model', dir };
}

/** Runs the CLI in a child process and resolves with its JSON report (rejects with its stderr tail). */
export function scoreInChild(job: ScoreJob): Promise<ReviewReport> {
  return new Promise((resolve, reject) => {
    const args = ['review', job.taskFile, '--log', job.logFile, ...sourceArgs(job.source), '--json'];
    const child = fork(job.cliPath, args, { execPath: process.execPath, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      const lines = chunk.split('\n').filter((l) => l.trim() !== '');
      if (lines.length) job.onProgress(lines[lines.length - 1]);
    });
    const abort = (): void => {
      child.kill('SIGTERM');
      setTimeout(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'), 3000).unref();
    };
    job.signal?.addEventListener('abort', abort, { once: true });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      job.signal?.removeEventListener('abort', abort);
      if (code === 0) {
        try {
          resolve(JSON.parse(stdout) as ReviewReport);
        } catch (e) {
          reject(new Error(`dap review printed no valid JSON: ${(e as Error).message}`));
        }
      } else {
        const tail = stderr.trim().split('\n').slice(-5).join('\n');
        reject(new Error(signal ? `scoring stopped (${signal})` : `dap review exited with ${code}: ${tail}`));
      }
    });
  });
}
