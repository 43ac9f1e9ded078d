/**
 * The shipped pretrained built-in model and its corpus: the corpus generator is deterministic and every
 * row's answer is right by the independent verifier (src/core/verify.ts); the shipped folder
 * (media/builtin) loads as the default-shape built-in model with pretraining notes; a custom shape is a
 * fresh seeded initialisation; the trainer says which one a run starts from.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { verifyResponse } from '../../src/core/verify';
import { initBackend } from '../../src/engine/backend';
import { BUILTIN_SHAPE, builtinModelDir, isDefaultBuiltinShape, openBuiltinModel } from '../../src/engine/builtin';
import { builtinCorpus } from '../../scripts/builtin-corpus';

test('the pretraining corpus is deterministic and every answer verifies', () => {
  const a = builtinCorpus({ rows: 3000, seed: 5 });
  assert.deepEqual(builtinCorpus({ rows: 3000, seed: 5 }), a);
  assert.notDeepEqual(builtinCorpus({ rows: 3000, seed: 6 }), a);
  const verdicts = a.map((r) => verifyResponse({ prompt: r.prompt.replace(/^Compute (.*)\.$/, 'What is $1?').replace(/^Convert (\d+) (\w+) to (\w+)\.$/, 'How many $3 in $1 $2?')
    .replace(/^Write '(\w+)' backwards\.$/, "Reverse '$1'.").replace(/^Write '(\w+)' in capitals\.$/, "Uppercase '$1'.") }, r.completion));
  assert.ok(verdicts.every((v) => v === true), `${verdicts.filter((v) => v !== true).length} rows fail the verifier`);
  const families = new Set(a.map((r) => r.prompt.split(' ')[0]));
  for (const f of ['What', 'How', 'Reverse', 'Uppercase', 'Compute', 'Convert', 'Write']) assert.ok(families.has(f), f);
});

test('the default shape opens the shipped pretrained weights; another shape is a seeded random model', async () => {
  await initBackend('wasm');
  const info = JSON.parse(readFileSync(join(builtinModelDir(), 'pretraining.json'), 'utf8'));
  assert.deepEqual(info.shape, BUILTIN_SHAPE);
  const a = openBuiltinModel(0);
  const b = openBuiltinModel(7, {});
  assert.equal(a.pretrained, true);
  const w = (m: typeof a.model) => {
    const p = m.params.get('wte.weight');
    assert.ok(p, 'wte.weight');
    return Array.from(p.variable.dataSync()).slice(0, 64);
  };
  assert.deepEqual(w(a.model), w(b.model), 'the seed does not change shipped weights');
  assert.equal(isDefaultBuiltinShape({ numLayers: BUILTIN_SHAPE.numLayers }), true);
  const c = openBuiltinModel(0, { numLayers: 1, hiddenSize: 32, numHeads: 2, maxPositions: 64 });
  assert.equal(c.pretrained, false);
  const d = openBuiltinModel(1, { numLayers: 1, hiddenSize: 32, numHeads: 2, maxPositions: 64 });
  assert.notDeepEqual(w(c.model), w(d.model), 'a custom shape is initialised from the seed');
  d.model.dispose();
  for (const m of [a.model, b.model, c.model]) m.dispose();
});
