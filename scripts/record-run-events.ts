/**
 * Records a real training run's event stream for the loss panel's component tests: runs the same pipeline
 * as the worker (built-in tiny model, SFT warm-up then DPO) on the sample data with a tiny configuration,
 * and copies the run's metrics.jsonl to test/fixtures/run-events.jsonl with the temporary run folder
 * replaced by RUN_DIR. Usage: node --import tsx scripts/record-run-events.ts [OUT_FILE]
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runTraining } from '../src/train/pipeline';
import { runPaths } from '../src/train/runDir';

const root = resolve(__dirname, '..');
const outFile = resolve(process.argv[2] ?? join(root, 'test/fixtures/run-events.jsonl'));
async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'dap-record-'));
try {
  const outcome = await runTraining({
    data: join(root, 'media/samples/arith.tasks.jsonl'),
    method: 'dpo',
    builtin: { numLayers: 1, hiddenSize: 32, numHeads: 2, maxPositions: 64 },
    sftEpochs: 1,
    epochs: 1,
    maxSteps: 24,
    batchSize: 8,
    evalEvery: 6,
    backend: 'wasm',
    seed: 1,
    out: work,
    runId: 'dpo-fixture',
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
