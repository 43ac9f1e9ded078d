/**
 * The command that starts the torch executor (python/CONTRACT.md §1): `PY -m dap_train train RUN_DIR` for
 * one process, or the standard launchers for N — torchrun (`PY -m torch.distributed.run --nproc-per-node N`)
 * or accelerate (`PY -m accelerate.commands.launch --num_processes N`) — with the file rendezvous that
 * PyTorch builds without libuv need. Also the exact text `dap train` prints for it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedTrainConfig } from '../config/index';
import type { TorchEnv } from './env';

/** What to spawn: argv, extra environment, and the launcher used. */
export interface LaunchCommand {
  argv: string[];
  env: Record<string, string>;
  launcher: 'python' | 'torchrun' | 'accelerate';
}

/**
 * A rendezvous file no launch of this run has used: torchrun's file store keeps a finished launch's
 * rendezvous closed, so reusing its file makes the next launch (a resume) fail with RendezvousClosedError.
 */
export function freshRendezvousFile(runDir: string): string {
  let k = 1;
  while (existsSync(join(runDir, `.rendezvous-${k}`))) k++;
  return join(runDir, `.rendezvous-${k}`);
}

/** Where a launch continues a run from: its checkpoint, and a maxSteps replacing config.json's (`dap train --resume R --max-steps N`). */
export interface ResumeFrom {
  ckpt: string;
  maxSteps?: number;
}

/** The launch command of a prepared run (and `--resume CKPT [--max-steps N]`). */
export function launchCommand(c: Pick<ResolvedTrainConfig, 'launcher' | 'numProcesses'>, python: string, runDir: string, env: TorchEnv | undefined, resume?: ResumeFrom): LaunchCommand {
  const n = c.numProcesses;
  const launcher = c.launcher === 'auto' ? (n > 1 ? 'torchrun' : 'python') : c.launcher;
  const tail = ['-m', 'dap_train', 'train', runDir, ...(resume ? ['--resume', resume.ckpt] : []),
    ...(resume?.maxSteps !== undefined ? ['--max-steps', String(resume.maxSteps)] : [])];
  const noLibuv = env?.torchBuild?.libuv === false;
  const extraEnv: Record<string, string> = noLibuv && launcher !== 'python' ? { USE_LIBUV: '0', TORCH_DISABLE_SHARE_RDZV_TCP_STORE: '1' } : {};
  switch (launcher) {
    case 'python':
      if (n > 1) throw new Error(`launcher python runs one process; numProcesses ${n} needs torchrun or accelerate (launcher auto)`);
      return { argv: [python, ...tail], env: extraEnv, launcher };
    case 'torchrun':
      return {
        argv: [python, '-m', 'torch.distributed.run', '--nproc-per-node', String(n),
          ...(noLibuv ? ['--rdzv-backend', 'c10d', '--rdzv-endpoint', freshRendezvousFile(runDir), '--rdzv-conf', 'store_type=file'] : []), ...tail],
        env: extraEnv, launcher,
      };
    case 'accelerate':
      return {
        argv: [python, '-m', 'accelerate.commands.launch', '--num_processes', String(n),
          ...(noLibuv && n > 1 ? ['--multi_gpu', '--rdzv_backend', 'c10d', '--rdzv_conf', 'store_type=file'] : []), ...tail],
        env: extraEnv, launcher,
      };
    default:
      return assertUnreachableLauncher(launcher);
  }
}

function assertUnreachableLauncher(x: never): never {
  throw new Error(`unknown launcher: ${JSON.stringify(x)}`);
}

/** A word as a POSIX shell reads it. */
export function shellQuote(w: string): string {
  return /^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

/** The command line as a person would type it: `PYTHONPATH=… [ENV=…] PY -m …`. */
export function commandText(cmd: LaunchCommand, pythonPath: string): string {
  const env = { PYTHONPATH: pythonPath, ...cmd.env };
  return [...Object.entries(env).map(([k, v]) => `${k}=${shellQuote(v)}`), ...cmd.argv.map(shellQuote)].join(' ');
}
