/**
 * A training run on the torch executor: the run folder is prepared here (prepare.ts: data, tokens,
 * config), then `python -m dap_train train RUN_DIR` (or torchrun / accelerate for several processes,
 * launch.ts) runs in its own process group. Its stdout events (the lines it also appends to metrics.jsonl)
 * are relayed to `onEvent` exactly as the tfjs pipeline's, and not appended again. Cancel: SIGTERM to the
 * process group → Python checkpoints at the next step boundary and exits 0; SIGKILL after 30 s more. If
 * the process ends without a final event, a `failed` event with the last lines of its stderr (the
 * traceback) is appended, as the host does for a tfjs worker that dies. Resume: `--resume CKPT` on the
 * same prepared folder (with `--max-steps N` when the resume asks for another maxSteps).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ResolvedTrainConfig } from '../config/index';
import { parseEventLine, type FinishedEvent, type TrainEvent } from '../runs/events';
import { appendEvent, createRunDir } from '../runs/folder';
import type { ExecutorChoice } from './choose';
import { pythonProcessEnv } from './env';
import { forgetTorchEnv } from './envCache';
import { commandText, launchCommand, type ResumeFrom } from './launch';
import { prepareTorchRun } from './prepare';

/** An event before its time stamp. */
type EventBody = TrainEvent extends infer E ? (E extends TrainEvent ? Omit<E, 'ts'> : never) : never;

/** Callbacks of a run (as the tfjs pipeline's RunHooks). */
export interface TorchRunHooks {
  onEvent?: (e: TrainEvent) => void;
  shouldStop?: () => boolean;
  /** Milliseconds between SIGTERM and SIGKILL on cancel (default 30 000). */
  killGraceMs?: number;
  /** Prepare the run folder and say the launch command, but launch nothing (multi-node / Slurm runs start it themselves). */
  prepareOnly?: boolean;
}

/** How the run ended (as the tfjs pipeline's RunOutcome). */
export interface TorchRunOutcome {
  status: 'finished' | 'cancelled' | 'failed';
  runDir: string;
  summary?: FinishedEvent['summary'];
  error?: string;
  /** The command that was run, as printed. */
  command?: string;
}

/**
 * Prepares (unless resuming) and runs a torch run. `resume`: the checkpoint folder of a run prepared
 * before (its run folder holds config.json and data/). Never throws for training errors.
 */
export async function runTorchTraining(config: ResolvedTrainConfig, choice: ExecutorChoice, hooks: TorchRunHooks = {}, resume?: ResumeFrom & { runDir: string }): Promise<TorchRunOutcome> {
  const runDir = resume ? resume.runDir : createRunDir(resolve(config.out), config.runId);
  /** Events of the TypeScript side itself (before launch, and a failure it synthesizes): appended and relayed. */
  const emitOwn = (e: EventBody) => {
    const full = { ts: new Date().toISOString(), ...e } as TrainEvent;
    appendEvent(runDir, full);
    hooks.onEvent?.(full);
  };
  const fail = (error: string, stack?: string): TorchRunOutcome => {
    emitOwn({ type: 'failed', error, ...(stack ? { stack } : {}) });
    return { status: 'failed', runDir, error };
  };
  let resolved = config;
  try {
    if (!resume) {
      const prepared = await prepareTorchRun(config, runDir);
      resolved = prepared.config;
      for (const n of prepared.notes.slice(0, 20)) emitOwn({ type: 'log', level: 'warn', message: n });
      const s = prepared.stages[0];
      emitOwn({ type: 'log', level: 'info', message: `${choice.reason}; ${s.count.train} + ${s.count.eval} ${s.kind} examples tokenized into ${runDir}/data` });
    } else if (!existsSync(resume.ckpt)) {
      return fail(`${resume.ckpt}: checkpoint folder not found`);
    }
  } catch (e) {
    return fail((e as Error).message, (e as Error).stack);
  }
  let cmd;
  let env: NodeJS.ProcessEnv;
  try {
    cmd = launchCommand(resolved, choice.python, runDir, choice.env, resume);
    env = { ...pythonProcessEnv(), ...cmd.env };
  } catch (e) {
    return fail((e as Error).message);
  }
  const text = commandText(cmd, env.PYTHONPATH ?? '');
  emitOwn({ type: 'log', level: 'info', message: `${hooks.prepareOnly ? 'prepared; start it with' : 'launch'}: ${text}` });
  if (hooks.prepareOnly) return { status: 'finished', runDir, command: text };
  return new Promise<TorchRunOutcome>((resolveRun) => {
    const child = spawn(cmd.argv[0], cmd.argv.slice(1), { env, cwd: runDir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let last: TrainEvent | undefined;
    let lastCheckpoint: string | undefined;
    const stderrTail: string[] = [];
    let stdoutRest = '';
    let signalled = false;
    let killTimer: NodeJS.Timeout | undefined;
    const group = (sig: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, sig);
      } catch {
        // The group is gone.
      }
    };
    // Never leave Python running when this process goes (a second Ctrl-C, the worker killed).
    const onExit = () => group('SIGKILL');
    process.on('exit', onExit);
    const poll = setInterval(() => {
      if (!signalled && hooks.shouldStop?.()) {
        signalled = true;
        group('SIGTERM');
        killTimer = setTimeout(() => group('SIGKILL'), hooks.killGraceMs ?? 30_000);
      }
    }, 200);
    const relayLine = (line: string) => {
      if (line.trim() === '') return;
      let e: TrainEvent;
      try {
        e = parseEventLine(line, 'dap_train stdout');
      } catch {
        keep(line);
        return;
      }
      last = e;
      if (e.type === 'checkpoint') lastCheckpoint = e.path;
      hooks.onEvent?.(e);
    };
    const keep = (line: string) => {
      stderrTail.push(line);
      if (stderrTail.length > 60) stderrTail.shift();
    };
    child.stdout.on('data', (b: Buffer) => {
      const lines = (stdoutRest + b.toString('utf8')).split('\n');
      stdoutRest = lines.pop() ?? '';
      for (const l of lines) relayLine(l);
    });
    child.stderr.on('data', (b: Buffer) => {
      process.stderr.write(b);
      for (const l of b.toString('utf8').split('\n')) if (l.trim() !== '') keep(l);
    });
    let ended = false;
    const end = (code: number | null, sig: NodeJS.Signals | null, spawnError?: Error) => {
      if (ended) return;
      ended = true;
      clearInterval(poll);
      if (killTimer) clearTimeout(killTimer);
      process.off('exit', onExit);
      if (stdoutRest) relayLine(stdoutRest);
      if (last?.type === 'finished') {
        resolveRun({ status: last.summary.cancelled ? 'cancelled' : 'finished', runDir, summary: last.summary, command: text });
        return;
      }
      forgetTorchEnv(choice.python); // the run did not finish: its interpreter is probed afresh next time
      if (last?.type === 'failed') {
        resolveRun({ status: 'failed', runDir, error: last.error, command: text });
        return;
      }
      const why = spawnError
        ? `could not start ${cmd.argv[0]}: ${spawnError.message}`
        : `the torch executor exited without a final event (${sig ? `signal ${sig}` : `exit code ${code}`})`;
      const event = { type: 'failed' as const, error: why, ...(stderrTail.length ? { stack: stderrTail.slice(-20).join('\n') } : {}),
        ...(lastCheckpoint ? { lastCheckpoint } : {}) };
      emitOwn(event);
      resolveRun({ status: 'failed', runDir, error: why, command: text });
    };
    child.on('error', (err) => end(null, null, err));
    child.on('close', (code, sig) => end(code, sig));
  });
}
