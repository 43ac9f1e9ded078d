/**
 * `dap env [--python PATH] [--json]`: what the torch executor would run on — the interpreter
 * (--python, else $DAP_PYTHON, else python3), its torch / transformers / accelerate versions, the devices
 * with their memory, and what is missing with the pip command that installs it (python -m dap_train env).
 * It always probes, and refreshes the answer `dap train` keeps (train/torch/envCache.ts).
 */
import { formatTorchEnv, probeTorchEnv, pythonOf } from '../../train/torch/env';
import { rememberTorchEnv } from '../../train/torch/envCache';
import { parseCommandArgs, UsageError, type Command } from '../command';

const usage = `Usage: dap env [--python PATH] [--json]

Checks the Python environment of the torch training executor: interpreter, package versions (torch,
transformers, accelerate, safetensors, peft, deepspeed), devices (CUDA / ROCm / MPS / CPU) with memory,
and what is missing, with the pip command that installs it.
  --python PATH   interpreter to check (default $DAP_PYTHON, else python3)
  --json          print the report as one JSON object
Exit code: 0 the torch executor can run, 1 it cannot (the report says why), 2 bad arguments.`;

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { python: { type: 'string' }, json: { type: 'boolean' } } as const);
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const python = pythonOf(values.python);
  const env = await probeTorchEnv(python); // always afresh; what it finds is what the next run uses
  rememberTorchEnv(python, env);
  process.stdout.write(values.json ? `${JSON.stringify({ ...env, interpreter: python })}\n` : `${formatTorchEnv(python, env)}\n`);
  return env.usable ? 0 : 1;
}

export const command: Command = { name: 'env', summary: 'Check the Python environment of the torch training executor', usage, run };
