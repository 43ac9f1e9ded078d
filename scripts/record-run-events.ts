/**
 * Records a real training run's event stream for the loss panel's component tests: runs the same pipeline
 * as the worker (built-in tiny model, SFT warm-up then DPO) on the sample data with a tiny configuration,
 * and copies the run's metrics.jsonl to a fixture file with the temporary run folder replaced by RUN_DIR.
 * Default: full fine-tuning → test/fixtures/run-events.jsonl; `--lora`: LoRA r 4 on the DPO stage (the SFT
 * stage stays full), adapter-only checkpoints, RUN/adapter + RUN/model → test/fixtures/lora-run-events.jsonl.
 * Usage: node --import tsx scripts/record-run-events.ts [--lora] [OUT_FILE]
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runTraining } from '../src/train/pipeline/index';
import { runPaths } from '../src/train/runs/folder';

const root = resolve(__dirname, '..');
const args = process.argv.slice(2);
const lora = args.includes('--lora');
const outArg = args.find((a) => a !== '--lora');
const outFile = resolve(outArg ?? join(root, lora ? 'test/fixtures/lora-run-events.jsonl' : 'test/fixtures/run-events.jsonl'));

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'dap-record-'));
  try {
    const outcome = await runTraining({
      data: join(root, 'media/samples/arith.tasks.jsonl'),
      method: 'dpo',
      builtin: { numLayers: 1, hiddenSize: 32, numHeads: 2, maxPositions: 64 },
      sftEpochs: 1,
      epochs: 1,
      maxSteps: lora ? 8 : 24,
      batchSize: 8,
      evalEvery: lora ? 4 : 6,
      backend: 'wasm',
      seed: 1,
      out: work,
      ...(lora ? { runId: 'lora-fixture', lora: { r: 4, alpha: 8 }, checkpointEvery: 4 } : { runId: 'dpo-fixture' }),
    });
    if (outcome.status !== 'finished') throw new Error(`run ${outcome.status}: ${outcome.error ?? ''}`);
    const text = readFileSync(runPaths(outcome.runDir).metrics, 'utf8').split(outcome.runDir).join('RUN_DIR');
    writeFileSync(outFile, text);
    console.log(`${outFile}: ${text.trim().split('\n').length} events`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
