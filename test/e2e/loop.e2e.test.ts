/**
 * End-to-end in a real VS Code (code-server): from a finished run to a blind comparison in the annotator.
 * A tiny DPO run (built-in model in a custom shape: SFT warm-up, then DPO; 20% of prompts held out) is
 * trained before the editor starts; its loss panel, opened from the Runs view, offers *Evaluate against
 * the starting model*; clicking it generates in the worker process (greedy answers of RUN/sft-model and
 * RUN/model on the held-out prompts) and opens RUN/eval/vs-start.tasks.jsonl in the annotator, where the
 * model names stay hidden until the item is judged; the judgment is on disk in the comparison's log.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/engine/backend';
import { runTraining } from '../../src/train/pipeline';
import { ROOT, startVsCode, type VsCodeSession } from './harness';

const folder = mkdtempSync(join(tmpdir(), 'dap-e2e-loop-'));
const taskFile = join(folder, 'arith.tasks.jsonl');
copyFileSync(join(ROOT, 'media/samples/arith.tasks.jsonl'), taskFile);
copyFileSync(join(ROOT, 'media/samples/arith.annotations.jsonl'), join(folder, 'arith.annotations.jsonl'));
const runId = 'dpo-tiny-finished';
const runDir = join(folder, '.dap', 'runs', runId);

let vscode: VsCodeSession | undefined;
before(async () => {
  await initBackend('wasm');
  const outcome = await runTraining({
    data: taskFile, method: 'dpo', out: join(folder, '.dap'), runId, backend: 'wasm', seed: 1, evalFraction: 0.2,
    builtin: { numLayers: 1, hiddenSize: 32, numHeads: 2, maxPositions: 64 }, sftEpochs: 1, maxSteps: 2, batchSize: 8,
  });
  assert.equal(outcome.status, 'finished', outcome.error);
  vscode = await startVsCode({ folder, settings: { 'dapStudio.train.backend': 'wasm', 'dapStudio.annotator': 'eve' } });
});
after(async () => {
  await vscode?.close();
  rmSync(folder, { recursive: true, force: true });
});

test('finished run → Evaluate against the starting model → blind comparison in the annotator → judged', { timeout: 300_000 }, async () => {
  const vs = vscode!;
  try {
    await vs.runCommand('View: Show DAP Studio');
    const row = vs.page.locator('.monaco-list-row', { hasText: runId });
    await row.waitFor({ state: 'visible', timeout: 30_000 });
    await row.click();
    const panel = await vs.webviewFrame('[data-testid="summary"][data-status="finished"]', 60_000);
    await panel.click('[data-testid="evaluate"]');

    // The comparison opens in the annotator once the worker has generated it.
    const annotator = await vs.webviewFrame('[data-testid="annotator-root"][data-item-id]', 180_000);
    const evalFile = join(runDir, 'eval', 'vs-start.tasks.jsonl');
    assert.ok(existsSync(evalFile));
    const lines = readFileSync(evalFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; responses: { model: string }[] });
    const split = JSON.parse(readFileSync(join(runDir, 'split.json'), 'utf8')) as { evalPrompts: unknown[] };
    assert.equal(lines.length, split.evalPrompts.length, 'one pair per held-out prompt');
    assert.deepEqual(lines[0].responses.map((r) => r.model), [`${runId}/sft-model`, runId]);
    await annotator.waitForSelector('[data-testid="pair-view"]', { timeout: 30_000 });
    const html = await annotator.content();
    assert.ok(!html.includes('sft-model') && !html.includes(`>${runId}<`), 'no model name before judging');
    assert.equal(await annotator.locator('[data-testid="model-name"]').count(), 0);

    const first = await annotator.getAttribute('[data-testid="annotator-root"]', 'data-item-id');
    await vs.pressInWebview(annotator, ['1']);
    await annotator.waitForFunction((id) => document.querySelector('[data-testid="annotator-root"]')?.getAttribute('data-item-id') !== id, first, { timeout: 30_000 });
    const log = join(runDir, 'eval', 'vs-start.annotations.jsonl');
    const events = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { item: string; annotator: string; choice: string });
    assert.deepEqual(events.map((e) => [e.item, e.annotator, e.choice]), [[first, 'eve', 'a']]);
    // Back on the judged item, each card names its model.
    await vs.pressInWebview(annotator, ['k']);
    await annotator.waitForSelector('[data-testid="model-name"]', { timeout: 30_000 });
    const names = await annotator.locator('[data-testid="model-name"]').allTextContents();
    assert.deepEqual([...names].sort(), [`${runId}/sft-model`, runId].sort());
  } catch (e) {
    const dir = await vs.saveArtifacts('loop');
    throw new Error(`${(e as Error).message}\n(screenshot and logs in ${dir})`, { cause: e });
  }
});
