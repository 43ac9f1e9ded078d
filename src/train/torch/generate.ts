/**
 * Generation on the torch executor: one `PY -m dap_train generate --data -` process per model
 * (python/dap_train/generate.py: transformers' model.generate with the KV cache, on CUDA/MPS when there is
 * one), fed token-id rows through stdin and answering one JSON line per row, in order. Tokenization stays
 * here (the engine's tokenizer), so both executors see the same prompt ids; each row is seeded on its own,
 * so a row's sample depends only on its seed, as with the tfjs engine's rowSeeds.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { pythonProcessEnv } from './env';

/** The sampling settings of a generator process. */
export interface TorchGeneratorOptions {
  python: string;
  /** Hugging Face model folder (safetensors). */
  modelDir: string;
  maxNewTokens: number;
  /** 0 = greedy. */
  temperature: number;
  topP: number;
  eosId: number;
  padId: number;
  /** auto (cuda, mps, cpu) or a torch device name. */
  device?: string;
}

/** One prompt to continue. */
export interface TorchGenerateRow {
  ids: number[];
  seed: number;
  /** New tokens at most for this row (default: the process's maxNewTokens). */
  maxNew?: number;
}

/** A running generator process. */
export interface TorchGenerator {
  /** The new token ids of each row (without the prompt and the stopping EOS). */
  generate(rows: readonly TorchGenerateRow[]): Promise<number[][]>;
  /** Ends the process (stdin closed; killed if it does not exit). */
  close(): Promise<void>;
}

/** Starts a generator process (see the file comment). */
export function startTorchGenerator(o: TorchGeneratorOptions): TorchGenerator {
  const argv = ['-m', 'dap_train', 'generate', '--model', o.modelDir, '--data', '-', '--max-new-tokens', String(o.maxNewTokens),
    '--temperature', String(o.temperature), '--top-p', String(o.topP), '--eos-id', String(o.eosId), '--pad-id', String(o.padId), '--device', o.device ?? 'auto'];
  const child: ChildProcessWithoutNullStreams = spawn(o.python, argv, { env: pythonProcessEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
  const waiting: { resolve: (ids: number[]) => void; reject: (e: Error) => void }[] = [];
  let stderr = '';
  let failure: Error | undefined;
  const fail = (e: Error) => {
    failure ??= e;
    for (const w of waiting.splice(0)) w.reject(failure);
  };
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString('utf8')).slice(-4000);
  });
  child.on('error', (e) => fail(new Error(`${o.python}: cannot start the torch executor's generator: ${e.message}`)));
  const exited = new Promise<void>((resolve) => child.on('close', (code, signal) => {
    const tail = stderr.trim().split('\n').slice(-6).join('\n');
    fail(new Error(`torch generator (${o.modelDir}) exited (${signal ?? code})${tail ? `:\n${tail}` : ''}`));
    resolve();
  }));
  createInterface({ input: child.stdout }).on('line', (line) => {
    const w = waiting.shift();
    if (!w) return fail(new Error(`torch generator: unexpected output line: ${line.slice(0, 200)}`));
    try {
      const ids = (JSON.parse(line) as { ids?: unknown }).ids;
      if (!Array.isArray(ids) || !ids.every((t) => Number.isInteger(t))) throw new Error('no "ids" list');
      w.resolve(ids as number[]);
    } catch (e) {
      w.reject(new Error(`torch generator: bad output line (${(e as Error).message}): ${line.slice(0, 200)}`));
    }
  });
  return {
    generate(rows) {
      if (failure) return Promise.reject(failure);
      const answers = rows.map(() => new Promise<number[]>((resolve, reject) => waiting.push({ resolve, reject })));
      child.stdin.write(rows.map((r) => JSON.stringify(r.maxNew === undefined ? { ids: r.ids, seed: r.seed } : r) + '\n').join(''));
      return Promise.all(answers);
    },
    async close() {
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
