/**
 * Model-flagged review with real engine models: (1) a controlled case: a tiny built-in-shaped model is
 * trained (SFT) to produce "aaaa", saved as a model folder, and `dap review --model DIR` must flag the
 * pair whose label prefers "zq9!" over "aaaa" and only that one, with the margin equal to the mean
 * log-prob difference computed row by row in the test; (2) a tiny finished training run scored with
 * `--run`: rewards equal β·Δ of its model/ vs sft-model/, and its held-out items are marked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/engine/backend';
import { builtinTokenizer, createBuiltinModel } from '../../src/engine/builtin';
import { loadPretrained, saveModel } from '../../src/engine/checkpoint';
import { buildBatch, disposeBatch, logpsToHost, sequenceLogps } from '../../src/engine/logps';
import { AdamW } from '../../src/train/stage/optimizer';
import { appendEvent } from '../../src/core/annotationLog';
import { engineLogpFn, scoreForReview } from '../../src/train/flagging/index';
import { runTraining } from '../../src/train/pipeline/index';
import { loadReviewInput } from '../../src/core/review/load';
import type { ReviewReport } from '../../src/core/review/types';
import { repoRoot as root, tinyShape } from './train-fixtures';

const shape = tinyShape(32);

test('reference-free scoring flags exactly the pair whose label contradicts a model trained on "aaaa"', async () => {
  await initBackend('cpu');
  const tok = builtinTokenizer();
  const model = createBuiltinModel(3, shape);
  const vars = model.trainableVariables();
  const opt = new AdamW(vars);
  const sftRows = ['What?', 'Say it', 'Go'].map((prompt) => ({ prompt, completion: 'aaaa' }));
  for (let step = 0; step < 40; step++) {
    const batch = buildBatch(tok, sftRows, { maxLength: 32 });
    const { value, grads } = tf.variableGrads(() => tf.neg(tf.mean(sequenceLogps(model, batch).mean)) as tf.Scalar, vars);
    opt.apply(vars.map((v) => grads[v.name]), 1e-2);
    tf.dispose([value, ...Object.values(grads)]);
    disposeBatch(batch);
  }
  const dir = mkdtempSync(join(tmpdir(), 'dap-review-model-'));
  const modelDir = join(dir, 'model');
  await saveModel(model, modelDir);

  // Row-by-row mean log-probs (one row per batch: no padding involved) as the independent reference.
  const meanOf = async (prompt: string, completion: string): Promise<number> => {
    const batch = buildBatch(tok, [{ prompt, completion }], { maxLength: 32 });
    const l = sequenceLogps(model, batch);
    const [h] = await logpsToHost(l);
    tf.dispose([l.sum, l.mean, l.count]);
    disposeBatch(batch);
    return h.mean;
  };
  const expected = (await meanOf('Say it', 'zq9!')) - (await meanOf('Say it', 'aaaa'));
  assert.ok(expected < 0, 'the trained model prefers "aaaa"');
  // The batched log-prob function (padding, several rows) equals the row-by-row values.
  const batched = await engineLogpFn(model, tok, 4)([
    { prompt: 'Say it', completion: 'zq9!' },
    { prompt: 'Say it', completion: 'aaaa' },
    { prompt: 'Longer prompt!', completion: 'aaaa' },
  ]);
  assert.ok(Math.abs(batched.mean[0] - batched.mean[1] - expected) < 1e-4, `${batched.mean} vs ${expected}`);
  assert.ok(Math.abs(batched.mean[2] - (await meanOf('Longer prompt!', 'aaaa'))) < 1e-4);
  model.dispose();

  const tasks = join(dir, 'ctl.jsonl');
  writeFileSync(
    tasks,
    JSON.stringify({ id: 'bad-label', prompt: 'Say it', responses: ['aaaa', 'zq9!'] }) +
      '\n' +
      JSON.stringify({ id: 'good-label', prompt: 'Say it', responses: ['zq9!', 'aaaa'] }) +
      '\n',
  );
  const log = join(dir, 'ctl.annotations.jsonl');
  const ts = '2026-01-01T00:00:00.000Z';
  // bad-label: annotator prefers response 1 "zq9!"; good-label: prefers response 1 "aaaa".
  await appendEvent(log, { v: 1, kind: 'pair', item: 'bad-label', annotator: 'ann', shown: [0, 1], choice: 'b', ts });
  await appendEvent(log, { v: 1, kind: 'pair', item: 'good-label', annotator: 'ann', shown: [0, 1], choice: 'b', ts });

  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'review', tasks, '--model', modelDir, '--backend', 'cpu', '--json'], {
    encoding: 'utf8',
    cwd: root,
  });
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as ReviewReport;
  assert.ok(report.flagged);
  assert.deepEqual(report.flagged.map((p) => [p.item, p.chosenText, p.rejectedText, p.scorer]), [['bad-label', 'zq9!', 'aaaa', 'reference_free']]);
  assert.ok(Math.abs(report.flagged[0].margin - expected) < 1e-4, `${report.flagged[0].margin} vs ${expected}`);
  assert.match(report.flaggedMethod ?? '', /reference-free/);
  assert.equal(report.scores?.length, 2);
});

test('run scoring: a finished tiny run scores every pair with β·Δ of model/ vs sft-model/, held-out items marked', async () => {
  await initBackend('cpu');
  const dir = mkdtempSync(join(tmpdir(), 'dap-review-run-'));
  const tasks = join(dir, 'tiny.jsonl');
  const log = join(dir, 'tiny.annotations.jsonl');
  const n = 8;
  writeFileSync(tasks, Array.from({ length: n }, (_, i) => JSON.stringify({ id: `t${i}`, prompt: `Add ${i}+1`, responses: [String(i + 1), String(i + 2)] }) + '\n').join(''));
  for (let i = 0; i < n; i++) {
    await appendEvent(log, { v: 1, kind: 'pair', item: `t${i}`, annotator: 'ann', shown: [0, 1], choice: i === 5 ? 'b' : 'a', ts: '2026-01-01T00:00:00.000Z' });
  }
  const outcome = await runTraining({
    data: tasks,
    out: dir,
    builtin: shape,
    sftEpochs: 1,
    epochs: 1,
    batchSize: 4,
    evalFraction: 0.25,
    backend: 'cpu',
    seed: 2,
  });
  assert.equal(outcome.status, 'finished', outcome.error);
  const { input } = await loadReviewInput(tasks, log);
  const scored = await scoreForReview(input, { kind: 'run', dir: outcome.runDir }, { backend: 'cpu', onProgress: () => {} });
  assert.equal(scored.scores.length, n);

  // Independent: β·(Σ log π − Σ log π_ref) of each response, row by row, from the run's two folders.
  const split = JSON.parse(readFileSync(join(outcome.runDir, 'split.json'), 'utf8')) as { evalPrompts: string[] };
  assert.equal(split.evalPrompts.length, 2, '25% of 8 prompts held out');
  const beta = (JSON.parse(readFileSync(join(outcome.runDir, 'config.json'), 'utf8')) as { loss: { beta: number } }).loss.beta;
  const policy = loadPretrained(join(outcome.runDir, 'model'));
  const reference = loadPretrained(join(outcome.runDir, 'sft-model'));
  const sumOf = async (m: typeof policy, prompt: string, completion: string): Promise<number> => {
    const batch = buildBatch(m.tokenizer, [{ prompt, completion }], { maxLength: 32, maxPromptLength: 16 });
    const l = sequenceLogps(m.model, batch);
    const [h] = await logpsToHost(l);
    tf.dispose([l.sum, l.mean, l.count]);
    disposeBatch(batch);
    return h.sum;
  };
  for (const s of scored.scores) {
    const it = input.items.find((i) => i.id === s.item)!;
    assert.equal(s.scorer, split.evalPrompts.includes(it.prompt as string) ? 'run_heldout' : 'run_train', s.item);
    for (const [r, resp] of it.responses.entries()) {
      const expected = beta * ((await sumOf(policy, it.prompt as string, resp.text)) - (await sumOf(reference, it.prompt as string, resp.text)));
      assert.ok(Math.abs(s.scores[r] - expected) < 1e-4, `${s.item}[${r}]: ${s.scores[r]} vs ${expected}`);
    }
  }
  assert.equal(scored.scores.filter((s) => s.scorer === 'run_heldout').length, split.evalPrompts.length);
  assert.match(scored.method, /held-out split/);
  policy.model.dispose();
  reference.model.dispose();
});
