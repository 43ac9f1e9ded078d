/**
 * The Python side of the torch executor as seen from TypeScript: which interpreter (config `python`, else
 * $DAP_PYTHON, else python3), where the `dap_train` package is (the repo's or the extension's `python/`
 * folder, put on PYTHONPATH), and the environment probe `PY -m dap_train env` (python/CONTRACT.md §6):
 * package versions, devices with memory, what is missing and the pip command that installs it.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';

/** The probe's answer (CONTRACT.md §6). */
export interface TorchEnv {
  python: { version: string; executable: string } | null;
  packages: Record<string, string | null>;
  missing: string[];
  install: string | null;
  usable: boolean;
  devices: { type: string; index?: number; name: string; memoryBytes?: number; bf16?: boolean; cores?: number }[];
  torchBuild?: { cuda: string | null; hip: string | null; libuv: boolean } | null;
  /** Set here (not by Python) when the interpreter could not be run or answered nonsense. */
  error?: string;
}

/** The interpreter: the config's, else $DAP_PYTHON, else python3 on PATH. */
export function pythonOf(configured: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return configured?.trim() || env.DAP_PYTHON?.trim() || 'python3';
}

/** The folder holding `dap_train/` (python/ of the repository or of the installed extension). */
export function pythonPackageDir(): string {
  const fromEnv = process.env.DAP_PYTHON_PACKAGE;
  if (fromEnv) return resolve(fromEnv);
  // In a bundle (dist/*.js) __dirname is dist/; under tsx it is this source folder. Walk up to python/.
  let dir = typeof __dirname === 'string' ? __dirname : process.cwd();
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'python', 'dap_train', '__init__.py'))) return join(dir, 'python');
    dir = dirname(dir);
  }
  throw new Error(`cannot find the dap_train Python package (python/dap_train) above ${typeof __dirname === 'string' ? __dirname : process.cwd()}; set DAP_PYTHON_PACKAGE`);
}

/** The environment a Python process of the executor runs with: PYTHONPATH = python/ (before the user's), unbuffered output. */
export function pythonProcessEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const pkg = pythonPackageDir();
  return { ...base, PYTHONPATH: base.PYTHONPATH ? `${pkg}${delimiter}${base.PYTHONPATH}` : pkg, PYTHONUNBUFFERED: '1' };
}

/** The pip command that installs what the executor needs into `python`. */
export function installCommand(python: string, missing: readonly string[]): string {
  return `${python} -m pip install ${missing.length ? missing.join(' ') : 'torch transformers accelerate safetensors'}`;
}

/** Runs `PY -m dap_train env` (never throws: an interpreter that cannot run gives usable = false and `error`). */
export function probeTorchEnv(python: string, timeoutMs = 120_000): Promise<TorchEnv> {
  const unusable = (error: string): TorchEnv => ({ python: null, packages: {}, missing: ['torch', 'transformers', 'accelerate', 'safetensors'],
    install: installCommand(python, ['torch', 'transformers', 'accelerate', 'safetensors']), usable: false, devices: [], error });
  return new Promise((resolveEnv) => {
    // A missing package is reported only once the interpreter itself is known to run (the likelier problem first).
    let env: NodeJS.ProcessEnv = process.env;
    let packageError: string | undefined;
    try {
      env = pythonProcessEnv();
    } catch (e) {
      packageError = (e as Error).message;
    }
    const child = spawn(python, ['-m', 'dap_train', 'env'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => (err += b.toString('utf8')));
    child.on('error', (e) => {
      clearTimeout(timer);
      resolveEnv(unusable(`cannot run ${python}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      try {
        const parsed = JSON.parse(line) as TorchEnv;
        if (typeof parsed.usable !== 'boolean' || !Array.isArray(parsed.missing)) throw new Error('not an env report');
        resolveEnv(parsed);
      } catch {
        const tail = err.trim().split('\n').slice(-5).join('\n');
        if (packageError) resolveEnv(unusable(packageError));
        else resolveEnv(unusable(`${python} -m dap_train env ${signal ? `was killed (${signal})` : `exited with ${code}`}${tail ? `: ${tail}` : ''}`));
      }
    });
  });
}

/** A few lines a person reads: interpreter, versions, devices, what is missing and how to install it. */
export function formatTorchEnv(python: string, e: TorchEnv): string {
  const gib = (b?: number) => (b === undefined ? '' : ` (${(b / 2 ** 30).toFixed(1)} GiB)`);
  const lines = [`python: ${e.python ? `${e.python.executable} ${e.python.version}` : python}`];
  if (e.error) lines.push(`error: ${e.error}`);
  for (const [name, v] of Object.entries(e.packages)) lines.push(`  ${name.padEnd(13)} ${v ?? 'not installed'}`);
  if (e.torchBuild) lines.push(`torch build: ${e.torchBuild.cuda ? `CUDA ${e.torchBuild.cuda}` : e.torchBuild.hip ? `ROCm ${e.torchBuild.hip}` : 'CPU only'}${e.torchBuild.libuv ? '' : ', no libuv (torchrun uses a file rendezvous)'}`);
  for (const d of e.devices) lines.push(`device: ${d.type}${d.index !== undefined ? `:${d.index}` : ''} ${d.name}${gib(d.memoryBytes)}${d.bf16 ? ', bf16' : ''}${d.cores ? `, ${d.cores} cores` : ''}`);
  lines.push(e.usable ? 'torch executor: usable' : `torch executor: not usable — missing ${e.missing.join(', ') || 'a working interpreter'}${e.install ? `; install with: ${e.install}` : ''}`);
  return lines.join('\n');
}
