/**
 * The parent side of a training worker (the host's run manager starts one per run): the worker bundle (dist/worker.js) forked as a child process with the editor's own
 * Node (never run inside the extension host), its events received over IPC and kept in memory (so a panel
 * opened later replays them exactly), and a cancel that escalates: 'cancel' message (the worker writes a
 * checkpoint and exits) → SIGTERM after a grace period → SIGKILL. If the worker dies without a final
 * event, a `failed` event is appended to the run's metrics.jsonl so the run never looks alive forever.
 * No vscode import: the run manager wires it to the UI.
 */
import type { ChildProcess } from 'node:child_process';
import type { TrainConfig } from '../config';
import type { FailedEvent, TrainEvent } from '../runs/trainEvents';
import { appendEvent, createRunDir } from '../runs/folder';
import { forkWorker, sendCancel } from './fork';
import type { HostToWorkerMessage } from './protocol';

/** How a job is started. */
export interface JobOptions {
  /** Path of dist/worker.js. */
  workerPath: string;
  /** The run config sent in the worker's `start` message; `out` and `runId` must be set. */
  config: TrainConfig & { out: string; runId: string };
  /** Node binary (default: process.execPath, run as Node even inside Electron). */
  execPath?: string;
  /** Working directory of the worker (default: config.out). */
  cwd?: string;
  /** Extra environment (e.g. DAP_BACKEND). */
  env?: Record<string, string>;
  /** Milliseconds between 'cancel' and SIGTERM (default 20 000: the worker finishes its step and checkpoints). */
  cancelGraceMs?: number;
  /** Milliseconds between SIGTERM and SIGKILL (default 5 000). */
  killGraceMs?: number;
}

export type JobState = 'running' | 'cancelling' | 'ended';

export class TrainingJob {
  readonly runId: string;
  readonly runDir: string;
  readonly data: string;
  /** Every event received, in order. */
  readonly events: TrainEvent[] = [];
  /** The worker's stderr and non-JSON stdout, last 200 lines. */
  readonly output: string[] = [];
  state: JobState = 'running';
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;
  /** Resolves when the process has exited and its final event (real or synthesized) was delivered. */
  readonly done: Promise<void>;

  private readonly child: ChildProcess;
  private readonly listeners = new Set<(e: TrainEvent) => void>();
  private readonly endListeners = new Set<() => void>();
  private timers: NodeJS.Timeout[] = [];
  private readonly options: JobOptions;

  constructor(options: JobOptions) {
    this.options = options;
    this.runId = options.config.runId;
    this.runDir = createRunDir(options.config.out, this.runId);
    this.data = options.config.data;
    this.child = forkWorker(options.workerPath, { execPath: options.execPath, cwd: options.cwd ?? options.config.out, env: options.env });
    this.child.on('message', (m) => this.receive(m));
    this.child.stdout?.on('data', (b: Buffer) => this.keepOutput(b));
    this.child.stderr?.on('data', (b: Buffer) => this.keepOutput(b));
    this.done = new Promise((resolveDone) => {
      let settled = false;
      const end = (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => {
        if (settled) return;
        settled = true;
        this.exitCode = code;
        this.exitSignal = signal;
        for (const t of this.timers) clearTimeout(t);
        this.timers = [];
        if (!this.terminal()) this.synthesizeFailure(code, signal, spawnError);
        this.state = 'ended';
        for (const l of this.endListeners) l();
        resolveDone();
      };
      this.child.on('exit', (code, signal) => end(code, signal));
      this.child.on('error', (err) => {
        if (this.child.exitCode === null && this.child.pid === undefined) end(null, null, err);
      });
    });
    const start: HostToWorkerMessage = { type: 'start', config: options.config };
    this.child.send(start);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Called with every event (live); returns an unsubscribe function. */
  onEvent(listener: (e: TrainEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called once when the process is gone. */
  onEnd(listener: () => void): () => void {
    this.endListeners.add(listener);
    return () => this.endListeners.delete(listener);
  }

  /** The last `started` / `step` / final event, for status displays. */
  lastOf<T extends TrainEvent['type']>(type: T): Extract<TrainEvent, { type: T }> | undefined {
    for (let i = this.events.length - 1; i >= 0; i--) if (this.events[i].type === type) return this.events[i] as Extract<TrainEvent, { type: T }>;
    return undefined;
  }

  /** Asks the worker to checkpoint and stop; escalates to SIGTERM, then SIGKILL, if it does not exit. */
  cancel(): Promise<void> {
    if (this.state !== 'running') return this.done;
    this.state = 'cancelling';
    sendCancel(this.child); // a closed channel: the process is exiting anyway; the timers below still apply
    this.timers.push(
      setTimeout(() => {
        this.child.kill('SIGTERM');
        this.timers.push(setTimeout(() => this.child.kill('SIGKILL'), this.options.killGraceMs ?? 5000));
      }, this.options.cancelGraceMs ?? 20000),
    );
    return this.done;
  }

  /** Stops at once (window closing): SIGTERM now, SIGKILL after `graceMs`. */
  kill(graceMs = 2000): Promise<void> {
    if (this.state === 'ended') return this.done;
    this.state = 'cancelling';
    this.child.kill('SIGTERM');
    this.timers.push(setTimeout(() => this.child.kill('SIGKILL'), graceMs));
    return this.done;
  }

  private terminal(): boolean {
    const last = this.events[this.events.length - 1];
    return last?.type === 'finished' || last?.type === 'failed';
  }

  private receive(m: unknown): void {
    if (!m || typeof m !== 'object' || typeof (m as { type?: unknown }).type !== 'string') return;
    const e = m as TrainEvent;
    this.events.push(e);
    for (const l of this.listeners) l(e);
  }

  private keepOutput(b: Buffer): void {
    for (const line of b.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      this.output.push(line);
    }
    if (this.output.length > 200) this.output.splice(0, this.output.length - 200);
  }

  /** The worker died without `finished`/`failed`: record why, in memory and in metrics.jsonl. */
  private synthesizeFailure(code: number | null, signal: NodeJS.Signals | null, spawnError?: Error): void {
    const why = spawnError
      ? `could not start the training worker (${this.options.workerPath}): ${spawnError.message}`
      : this.state === 'cancelling' && signal
        ? `cancelled: the worker did not stop in time and was ended with ${signal}`
        : `the training worker exited unexpectedly (${signal ? `signal ${signal}` : `exit code ${code}`})`;
    const tail = this.output.slice(-20).join('\n');
    const lastCheckpoint = this.lastOf('checkpoint')?.path;
    const event: FailedEvent = {
      type: 'failed',
      ts: new Date().toISOString(),
      error: why,
      ...(tail ? { stack: tail } : {}),
      ...(lastCheckpoint ? { lastCheckpoint } : {}),
    };
    try {
      appendEvent(this.runDir, event);
    } catch {
      // The run folder may be gone (deleted); the event still reaches the UI.
    }
    this.receive(event);
  }
}
