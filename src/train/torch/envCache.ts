/**
 * The environment probe's answer kept between runs: `PY -m dap_train env` imports torch, transformers and
 * accelerate (5–16 s here), and every `auto` / `torch` run would pay it again before training starts.
 * Only a usable answer is kept — a Python that lacked a package is probed again, so installing it counts
 * at once — keyed by the interpreter as configured, the file that name runs (found on PATH; its size and
 * modification time, through symlinks, and the link itself, so two venvs of one base Python differ) and the
 * text of the package's probe (python/dap_train/env.py). An entry expires after CACHE_TTL_MS; a torch run
 * that fails drops its interpreter's entry (run.ts), and `dap env` / *DAP: Check Training Environment*
 * always probe afresh and store what they found. The file: DAP_CACHE_DIR, else $XDG_CACHE_HOME/dap-studio,
 * else ~/.cache/dap-studio; torch-env.json, written atomically; an unreadable file counts as empty.
 */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { writeFileAtomicSync } from '../../core/atomicWrite';
import { probeTorchEnv, pythonPackageDir, type TorchEnv } from './env';

/** How long a kept answer is trusted (a day: devices and installs rarely change within one). */
export const CACHE_TTL_MS = 24 * 3600 * 1000;

interface Entry {
  key: string;
  at: number;
  env: TorchEnv;
}

/** The cache file (see the file comment). */
export function torchEnvCachePath(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.DAP_CACHE_DIR?.trim() || (env.XDG_CACHE_HOME?.trim() ? join(env.XDG_CACHE_HOME.trim(), 'dap-studio') : join(homedir(), '.cache', 'dap-studio'));
  return join(dir, 'torch-env.json');
}

/** The file `python` runs: itself when it names a path, else the first executable of that name on PATH. */
function interpreterFile(python: string): string | undefined {
  if (python.includes('/')) return resolve(python);
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir || !isAbsolute(dir)) continue;
    const p = join(dir, python);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** What the kept answer depends on; undefined when the interpreter cannot be found (nothing is kept). */
function keyOf(python: string): string | undefined {
  const file = interpreterFile(python);
  if (!file) return undefined;
  try {
    const link = lstatSync(file);
    const target = statSync(file);
    const probe = readFileSync(join(pythonPackageDir(), 'dap_train', 'env.py'));
    return [python, file, link.mtimeMs, target.size, target.mtimeMs, target.ino, createHash('sha256').update(probe).digest('hex').slice(0, 16)].join('\u0000');
  } catch {
    return undefined;
  }
}

function readAll(): Record<string, Entry> {
  try {
    const parsed = JSON.parse(readFileSync(torchEnvCachePath(), 'utf8')) as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, Entry>) : {};
  } catch {
    return {};
  }
}

function writeAll(all: Record<string, Entry>): void {
  try {
    writeFileAtomicSync(torchEnvCachePath(), `${JSON.stringify(all, null, 1)}\n`);
  } catch {
    // A cache that cannot be written only costs the next run a probe.
  }
}

/** Keeps a usable answer for `python` (and forgets an unusable one). */
export function rememberTorchEnv(python: string, env: TorchEnv, now = Date.now()): void {
  const key = keyOf(python);
  const all = readAll();
  if (key && env.usable && !env.error) all[python] = { key, at: now, env };
  else if (python in all) delete all[python];
  else return;
  writeAll(all);
}

/** Drops the kept answer of `python` (a torch run with it failed: the next run probes again). */
export function forgetTorchEnv(python: string): void {
  const all = readAll();
  if (!(python in all)) return;
  delete all[python];
  writeAll(all);
}

/** The kept answer for `python` when it still holds, else a fresh probe (kept when usable). */
export async function cachedTorchEnv(python: string, probe: (python: string) => Promise<TorchEnv> = probeTorchEnv): Promise<TorchEnv> {
  const entry = readAll()[python];
  const key = keyOf(python);
  if (entry && key && entry.key === key && Date.now() - entry.at < CACHE_TTL_MS && entry.env?.usable === true) return entry.env;
  const env = await probe(python);
  rememberTorchEnv(python, env);
  return env;
}
