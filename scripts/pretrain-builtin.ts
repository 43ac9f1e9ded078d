/**
 * Pretrains the built-in model shipped in media/builtin/ (the embedded default: src/engine/builtin.ts).
 * Deterministic: a seeded corpus (scripts/builtin-corpus.ts) and a seeded run of
 * the trainer's own SFT stage on the wasm backend, from the seeded random initialisation of the built-in
 * shape. Writes config.json, model.safetensors (F32), tokenizer files and pretraining.json (corpus size,
 * steps, final loss, time) into media/builtin/ (or --out). Takes tens of minutes on a 2-core machine;
 * run it only to change the shipped model:
 *   node --import tsx scripts/pretrain-builtin.ts [--rows N] [--epochs N] [--out DIR]
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/engine/backend';
import { BUILTIN_SHAPE, createBuiltinModel } from '../src/engine/builtin';
import { saveModel } from '../src/engine/checkpoint';
import { runTraining } from '../src/train/pipeline';
import { eventPrinter } from '../src/cli/progress';
import { builtinCorpus } from './builtin-corpus';

const { values } = parseArgs({ options: { rows: { type: 'string' }, epochs: { type: 'string' }, out: { type: 'string' }, seed: { type: 'string' } } });
const root = join(import.meta.dirname, '..');
const out = values.out ?? join(root, 'media', 'builtin');
const rows = Number(values.rows ?? 256000);
const epochs = Number(values.epochs ?? 1);
const seed = Number(values.seed ?? 0);

const work = mkdtempSync(join(tmpdir(), 'dap-pretrain-'));
const corpusPath = join(work, 'corpus.jsonl');
const corpus = builtinCorpus({ rows, seed: 20261201 + seed });
writeFileSync(corpusPath, corpus.map((r) => JSON.stringify(r)).join('\n') + '\n');
process.stdout.write(`pretrain-builtin: ${corpus.length} corpus rows → ${out}\n`);

/** The checkout's commit (best effort), recorded with the weights. */
function commit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
const t0 = Date.now();
// The starting point: the seeded random initialisation of the default shape, saved as a model folder (the
// trainer would otherwise start a default-shape built-in run from the shipped weights).
await initBackend('wasm');
const init = join(work, 'init');
const fresh = createBuiltinModel(seed, BUILTIN_SHAPE);
await saveModel(fresh, init, { dtype: 'F32' });
fresh.dispose();
const print = eventPrinter(process.stdout, process.stdout.isTTY ? 'tty' : 'plain');
let lastLoss = NaN;
const outcome = await runTraining({
  data: corpusPath, method: 'sft', model: init, out: work, runId: 'pretrain', backend: 'wasm', seed, epochs, batchSize: 32, lr: 3e-3, schedule: 'cosine', warmupRatio: 0.03, evalFraction: 0, maxLength: 64,
}, {
  onEvent: (e) => {
    if (e.type === 'step') {
      lastLoss = e.metrics.loss;
      if (!process.stdout.isTTY && e.step % 50 !== 0 && e.step !== e.totalSteps) return;
    }
    print(e);
  },
});
if (outcome.status !== 'finished') {
  process.stderr.write(`pretrain-builtin: training ${outcome.status}: ${outcome.error ?? ''}\n`);
  process.exit(1);
}
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const model = join(outcome.runDir, 'model');
for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']) cpSync(join(model, f), join(out, f));
const info = { script: `scripts/pretrain-builtin.ts (corpus: scripts/builtin-corpus.ts), run at commit ${commit()}`, batchSize: 32, lr: 3e-3, schedule: 'cosine', shape: BUILTIN_SHAPE, corpusRows: corpus.length, corpusSeed: 20261201 + seed, epochs, steps: outcome.summary?.steps, finalLoss: lastLoss, seconds: (Date.now() - t0) / 1000, backend: 'wasm' };
writeFileSync(join(out, 'pretraining.json'), JSON.stringify(info, null, 2) + '\n');
rmSync(work, { recursive: true, force: true });
process.stdout.write(`pretrain-builtin: done in ${Math.round(info.seconds)} s, final loss ${lastLoss.toFixed(4)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`pretrain-builtin: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
