/**
 * Review of a compiled TRL pairs file with no annotation log: the rows are the labels. A small real file
 * (a ranking compiled to pair rows repeating one id, an implicit-prompt row, and each pair also written
 * swapped) is scored with `dap review FILE --model DIR` (a saved random tiny model, reference-free); the
 * flagged rows must be exactly those whose mean log-prob difference, computed row by row in the test,
 * is negative, with those margins. Never-won and disagreement lists are empty; the file is not touched.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/engine/backend';
import { builtinTokenizer, createBuiltinModel } from '../../src/engine/builtin';
import { saveModel } from '../../src/engine/checkpoint';
import { buildBatch, disposeBatch, logpsToHost, sequenceLogps } from '../../src/engine/logps';
import { loadReview } from '../../src/core/review/load';
import type { ReviewReport } from '../../src/core/review/types';
import { repoRoot as root, tinyShape } from './train-fixtures';

test('dap review --model on a compiled TRL pairs file flags exactly the rows the model contradicts', async () => {
  await initBackend('cpu');
  const dir = mkdtempSync(join(tmpdir(), 'dap-review-rows-'));
  const model = createBuiltinModel(7, tinyShape(48));
  const modelDir = join(dir, 'model');
  await saveModel(model, modelDir);
  const tok = builtinTokenizer();
  const meanOf = async (prompt: string, completion: string): Promise<number> => {
    const batch = buildBatch(tok, [{ prompt, completion }], { maxLength: 48 });
    const l = sequenceLogps(model, batch);
    const [h] = await logpsToHost(l);
    tf.dispose([l.sum, l.mean, l.count]);
    disposeBatch(batch);
    return h.mean;
  };

  // (prompt, chosen, rejected, written as): "q1" repeats its id as a compiled ranking export does.
  const pairs: [string, string, string, Record<string, unknown>][] = [
    ['2+2=', '4', '5', { id: 'q1', prompt: '2+2=', chosen: '4', rejected: '5' }],
    ['2+2=', '4', 'four?', { id: 'q1', prompt: '2+2=', chosen: '4', rejected: 'four?' }],
    ['2+2=', '5', '4', { id: 'q1-swapped', prompt: '2+2=', chosen: '5', rejected: '4' }],
    ['2+2=', 'four?', '4', { id: 'q1-swapped-2', prompt: '2+2=', chosen: 'four?', rejected: '4' }],
    ['Name a colour:', ' red', ' zzz', { chosen: 'Name a colour: red', rejected: 'Name a colour: zzz' }],
    ['Name a colour:', ' zzz', ' red', { chosen: 'Name a colour: zzz', rejected: 'Name a colour: red' }],
  ];
  const file = join(dir, 'pairs.jsonl');
  const text = pairs.map((p) => JSON.stringify(p[3]) + '\n').join('');
  writeFileSync(file, text);
  const expected: { line: number; chosen: string; rejected: string; margin: number }[] = [];
  for (const [i, [prompt, chosen, rejected]] of pairs.entries()) {
    expected.push({ line: i + 1, chosen, rejected, margin: (await meanOf(prompt, chosen)) - (await meanOf(prompt, rejected)) });
  }
  model.dispose();
  const flaggedExpected = expected.filter((e) => e.margin < 0).sort((a, b) => a.margin - b.margin);
  assert.equal(flaggedExpected.length, 3, 'each pair is written both ways: exactly one of each is contradicted');

  // The lists without a model: rows mode, one "source" label per row, no never-won or disagreements.
  const { report: lists, input } = await loadReview(file, join(dir, 'pairs.annotations.jsonl'));
  assert.equal(lists.labelSource, 'rows');
  assert.equal(input.items.length, 6, 'rows with a repeated id are kept');
  assert.deepEqual(input.items.map((i) => i.id).slice(0, 2), ['q1', 'q1@2']);
  assert.equal(lists.annotatedItems, 6);
  assert.deepEqual(lists.annotators, ['source']);
  assert.equal(lists.neverWon.length + lists.disagreements.length + lists.annotatorAgreement.length, 0);

  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'review', file, '--model', modelDir, '--backend', 'cpu', '--json'], {
    encoding: 'utf8',
    cwd: root,
  });
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as ReviewReport;
  assert.ok(report.flagged);
  assert.deepEqual(
    report.flagged.map((p) => [p.line, p.chosenText, p.rejectedText, p.annotators]),
    flaggedExpected.map((e) => [e.line, e.chosen, e.rejected, ['source']]),
  );
  for (const [i, p] of report.flagged.entries()) {
    assert.ok(Math.abs(p.margin - flaggedExpected[i].margin) < 1e-4, `${p.margin} vs ${flaggedExpected[i].margin}`);
  }
  assert.equal(report.scores?.length, 6);
  assert.equal(readFileSync(file, 'utf8'), text, 'the input file is never rewritten');
  assert.ok(!existsSync(join(dir, 'pairs.annotations.jsonl')), 'no log is created by reviewing');
});
