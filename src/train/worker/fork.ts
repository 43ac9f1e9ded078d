/**
 * Starting the worker bundle (dist/worker.js) as a child process, the same way for every parent (the
 * training job, the review scoring job): with the editor's own Node binary run as Node even inside
 * Electron, none of the parent's Node flags (the extension host's --inspect, a test runner's --import tsx),
 * stdout/stderr piped and JSON messages over IPC.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { HostToWorkerMessage } from './protocol';

export interface ForkOptions {
  /** Node binary (default: process.execPath). */
  execPath?: string;
  /** Working directory of the worker. */
  cwd?: string;
  /** Extra environment (e.g. DAP_BACKEND). */
  env?: Record<string, string>;
}

/** Forks the worker at `workerPath` (no arguments: its job comes as the first message). */
export function forkWorker(workerPath: string, options: ForkOptions = {}): ChildProcess {
  return fork(workerPath, [], {
    execPath: options.execPath ?? process.execPath,
    execArgv: [],
    ...(options.cwd ? { cwd: options.cwd } : {}),
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'json',
  });
}

/**
 * The last `lines` non-blank lines the worker wrote to stderr, kept up to date as it writes (the tail a
 * parent quotes when the worker exits before it finished); stdout is drained so the worker never blocks.
 */
export function stderrTail(child: ChildProcess, lines = 5): string[] {
  const tail: string[] = [];
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    tail.push(...chunk.split('\n').filter((l) => l.trim() !== ''));
    tail.splice(0, Math.max(0, tail.length - lines));
  });
  child.stdout?.resume();
  return tail;
}

/** Asks the worker to stop at its next boundary (a channel already closed means it is exiting anyway). */
export function sendCancel(child: ChildProcess): void {
  const cancel: HostToWorkerMessage = { type: 'cancel' };
  try {
    if (child.connected) child.send(cancel);
  } catch {
    // The channel closed: the process is exiting anyway.
  }
}
