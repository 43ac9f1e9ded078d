/**
 * `dap logps` end to end: a saved model folder and a JSONL file on disk, the command run in-process, its
 * JSON lines compared with the float64 reference (prompt bytes, completion bytes + EOS); bad rows name
 * file, line and field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { builtinConfig } from '../../src/engine/builtin';
import { saveModel } from '../../src/engine/checkpoint';
import { ByteTokenizer } from '../../src/engine/tokenizer';
import { gpt2Reference, sequenceLogpReference } from './engine-reference';
import { hfWeights, randomModel, runCli } from './engine-fixtures';

test('dap logps prints chosen/rejected and completion log-probs equal to the float64 reference', async () => {
  await tf.setBackend('cpu');
  const config = builtinConfig({ numLayers: 1, hiddenSize: 16, numHeads: 2, maxPositions: 64 });
  const m = randomModel(config, 17);
  const w = await hfWeights(m);
  const dir = mkdtempSync(join(tmpdir(), 'dap-logps-'));
  await saveModel(m, join(dir, 'model'));
  const rows = [
    { id: 'p1', prompt: 'Say hi', chosen: 'hi!', rejected: 'no' },
    { prompt: 'Q: 2+2', completion: ' 4' },
    { prompt: 'Another', chosen: 'a much longer answer here', rejected: '?' },
  ];
  const data = join(dir, 'rows.jsonl');
  writeFileSync(data, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const res = await runCli(['logps', '--model', join(dir, 'model'), '--data', data, '--backend', 'cpu', '--batch-size', '2']);
  assert.equal(res.code, 0, res.err);
  const lines = res.out.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 3);
  const bt = new ByteTokenizer();
  const expect = (prompt: string, completion: string) => {
    const p = bt.encode(prompt), c = [...bt.encode(completion), ByteTokenizer.EOS];
    const ids = [...p, ...c];
    const r = sequenceLogpReference(gpt2Reference(config, w, ids, ids.map(() => 1)), ids, ids.map((_, t) => (t >= p.length ? 1 : 0)));
    return { sum: r.sum, mean: r.sum / r.count, tokens: r.count };
  };
  const check = (got: { sum: number; mean: number; tokens: number }, want: { sum: number; mean: number; tokens: number }) => {
    assert.equal(got.tokens, want.tokens);
    assert.ok(Math.abs(got.sum - want.sum) < 1e-4 * (1 + Math.abs(want.sum)), `sum ${got.sum} vs ${want.sum}`);
    assert.ok(Math.abs(got.mean - want.mean) < 1e-4 * (1 + Math.abs(want.mean)));
  };
  assert.equal(lines[0].id, 'p1');
  check(lines[0].chosen, expect('Say hi', 'hi!'));
  check(lines[0].rejected, expect('Say hi', 'no'));
  check(lines[1].completion, expect('Q: 2+2', ' 4'));
  check(lines[2].chosen, expect('Another', 'a much longer answer here'));
  check(lines[2].rejected, expect('Another', '?'));
  writeFileSync(data, JSON.stringify(rows[0]) + '\n' + JSON.stringify({ prompt: 'x', chosen: 3, rejected: 'y' }) + '\n');
  const bad = await runCli(['logps', '--model', join(dir, 'model'), '--data', data, '--backend', 'cpu']);
  assert.equal(bad.code, 1);
  assert.match(bad.err, new RegExp(`${data.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: chosen: expected a string`));
  // Unparsable lines: field `line` (not "(line)"), control characters escaped, not printed raw.
  writeFileSync(data, JSON.stringify(rows[0]) + '\n{"prompt": "x\u0001\u001b[31m\n');
  const broken = await runCli(['logps', '--model', join(dir, 'model'), '--data', data, '--backend', 'cpu']);
  assert.equal(broken.code, 1);
  assert.match(broken.err, new RegExp(`${data.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: line: invalid JSON \\(`));
  assert.doesNotMatch(broken.err, /\(line\)|[\u0001\u001b]/);
  // Implicit-prompt pairs are split like training splits them: same log-probs as the explicit row.
  writeFileSync(data, JSON.stringify({ chosen: 'Say hi!', rejected: 'Say no' }) + '\n' + JSON.stringify({ prompt: 'Say', chosen: ' hi!', rejected: ' no' }) + '\n');
  const implicit = await runCli(['logps', '--model', join(dir, 'model'), '--data', data, '--backend', 'cpu']);
  assert.equal(implicit.code, 0, implicit.err);
  const [a, b] = implicit.out.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(a, b);
  check(a.chosen, expect('Say', ' hi!'));
  m.dispose();
});
