/**
 * The ports the torch executor's data order and schedule depend on (CONTRACT.md §2, §4) equal their
 * TypeScript originals exactly: mulberry32 draws, deriveSeed, the tfjs trainer's per-epoch shuffle
 * (epochOrder) for many (n, seed, epoch), and the learning-rate schedule (warm-up, constant / linear /
 * cosine) — computed by python (dap_train.order / .schedule) and by TS, compared value for value.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, deriveSeed } from '../../src/core/random';
import { learningRateAt } from '../../src/train/stage/schedule';
import { epochOrder } from '../../src/train/stage/index';
import { startPython } from './fixtures';

const SCRIPT = `
import json, sys
from dap_train.order import Rng, derive_seed, epoch_order
from dap_train.schedule import js_round, learning_rate_at
q = json.loads(sys.argv[1])
r = Rng(q["rngSeed"])
print(json.dumps({
  "draws": [r.next() for _ in range(50)],
  "seeds": [derive_seed(s, t) for s, t in q["seedTags"]],
  "orders": [epoch_order(n, s, e) for n, s, e in q["orders"]],
  "lrs": [learning_rate_at(step, 3e-4, js_round(w * total), total, kind) for step, w, total, kind in q["lrs"]],
}))
`;

test('mulberry32, deriveSeed, epochOrder and the LR schedule: python = TypeScript, value for value', async () => {
  const seeds = [0, 1, 42, 7777, 2 ** 31 + 5, 4294967295];
  const q = {
    rngSeed: 123456789,
    seedTags: seeds.flatMap((s) => [0, 1, 2, 0x10a, 0x5eed].map((t) => [s, t])),
    orders: [1, 2, 3, 7, 50, 257].flatMap((n) => seeds.flatMap((s) => [0, 1, 3].map((e) => [n, s, e]))),
    lrs: [0, 1, 2, 5, 9, 10, 11, 37, 99].flatMap((step) => [0, 0.1, 0.33].flatMap((w) => ['constant', 'linear', 'cosine'].map((k) => [step, w, 100, k]))),
  };
  const r = await startPython(['-c', SCRIPT, JSON.stringify(q)]).done;
  assert.equal(r.code, 0, r.stderr);
  const py = JSON.parse(r.stdout);
  const rng = new Rng(q.rngSeed);
  assert.deepEqual(py.draws, Array.from({ length: 50 }, () => rng.next()));
  assert.deepEqual(py.seeds, q.seedTags.map(([s, t]) => deriveSeed(s, t)));
  assert.deepEqual(py.orders, q.orders.map(([n, s, e]) => epochOrder(n, s, e)));
  q.lrs.forEach(([step, w, total, kind], i) => {
    const ts = learningRateAt(step as number, { lr: 3e-4, warmupSteps: Math.round((w as number) * (total as number)), totalSteps: total as number, kind: kind as 'linear' });
    assert.ok(Math.abs(py.lrs[i] - ts) <= 1e-18, `lr ${JSON.stringify(q.lrs[i])}: ${py.lrs[i]} vs ${ts}`);
  });
});
