/**
 * Log resolution (supersede, undo stack, flags/confirms, shown positions → indices) and dataset compile
 * rules (majority vote, ties, both_bad, all_pairs vs best_vs_rest, RRHF ranks, SFT, KTO, determinism),
 * on small hand-made logs whose expected outputs are worked out in the comments.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveJudgments } from '../../src/core/judgments';
import { compile, compileKto, compilePairs, compileRankings, compileSft } from '../../src/core/compile';
import type { AnnotationEvent, Judgment, PairChoice, TaskItem } from '../../src/core/types';

function item(id: string, n: number, prompt: TaskItem['prompt'] = `prompt ${id}`): TaskItem {
  return { id, prompt, responses: Array.from({ length: n }, (_, i) => ({ text: `${id}${i}` })), line: 0, offset: 0, format: 'responses' };
}
let clock = 0;
const ts = () => new Date(Date.UTC(2026, 0, 1) + 1000 * clock++).toISOString();
const pair = (itemId: string, annotator: string, shown: number[], choice: PairChoice): AnnotationEvent => ({ v: 1, item: itemId, annotator, kind: 'pair', shown, choice, ts: ts() });
const rank = (itemId: string, annotator: string, ranking: number[][]): AnnotationEvent => ({ v: 1, item: itemId, annotator, kind: 'rank', shown: ranking.flat().sort(), ranking, ts: ts() });
const undo = (itemId: string, annotator: string): AnnotationEvent => ({ v: 1, item: itemId, annotator, kind: 'undo', ts: ts() });

test('resolution: shown positions → indices, supersede, undo pops a per-(annotator, item) stack', () => {
  const items = [item('p', 2), item('q', 3)];
  const base: AnnotationEvent[] = [
    pair('p', 'alice', [1, 0], 'a'), // response 1 wins
    pair('p', 'alice', [1, 0], 'b'), // supersedes: response 0 wins
    { v: 1, item: 'p', annotator: 'alice', kind: 'flag', flagged: true, ts: ts() },
    pair('q', 'bob', [2, 0], 'tie'),
    pair('zzz', 'bob', [0, 1], 'a'), // unknown item: warning
    pair('q', 'alice', [0, 5], 'a'), // index out of range: error
  ];
  let r = resolveJudgments(base, items, 'log.jsonl');
  assert.deepEqual(r.judgments.map((j) => [j.item, j.annotator, j.ranking, j.bothBad]), [
    ['p', 'alice', [[0], [1]], false],
    ['q', 'bob', [[2, 0]], false],
  ]);
  assert.deepEqual(r.issues.map((i) => `${i.file}:${i.line}: ${i.field}: ${i.severity}`), ['log.jsonl:5: item: warning', 'log.jsonl:6: shown: error']);
  r = resolveJudgments([...base, undo('p', 'alice')], items);
  assert.deepEqual(r.judgments.find((j) => j.item === 'p')?.ranking, [[1], [0]], 'first undo restores the earlier judgment');
  r = resolveJudgments([...base, undo('p', 'alice'), undo('p', 'alice')], items);
  assert.equal(r.judgments.find((j) => j.item === 'p'), undefined, 'second undo retracts that one too');
  assert.deepEqual(r.flags.map((f) => [f.item, f.flagged]), [['p', true]], 'undo leaves the flag');
  r = resolveJudgments([...base, undo('p', 'alice'), undo('p', 'alice'), undo('p', 'alice')], items);
  assert.equal(r.issues.filter((i) => /undo/.test(i.message)).length, 1, 'undo on an empty stack is reported');
  r = resolveJudgments([pair('p', 'bob', [0, 1], 'both_bad')], items);
  assert.deepEqual([r.judgments[0].ranking, r.judgments[0].bothBad], [[[0, 1]], true]);
});

/** The hand-made fixture used by the compile tests. */
function fixture(): { items: TaskItem[]; judgments: Judgment[] } {
  const conv = [{ role: 'user', content: 'Hi' }];
  const items = [item('A', 2), item('B', 2), item('C', 3, conv), item('D', 2), item('E', 4), item('F', 2)];
  const events = [
    pair('A', 'alice', [0, 1], 'a'), // 0 > 1
    pair('A', 'bob', [1, 0], 'b'), // 0 > 1
    pair('A', 'carol', [0, 1], 'b'), // 1 > 0   → majority 2:1 for 0 > 1
    pair('B', 'alice', [0, 1], 'tie'),
    pair('B', 'bob', [0, 1], 'a'), //            → 1 tie vs 1 win: tied vote, dropped
    rank('C', 'alice', [[2], [0, 1]]), //        → 2 > 0, 2 > 1, 0 ~ 1
    pair('D', 'alice', [0, 1], 'both_bad'),
    pair('D', 'bob', [1, 0], 'both_bad'), //     → both-bad item
    rank('E', 'alice', [[3], [1], [0, 2]]), //   → 3 > 1 > {0, 2}
  ];
  return { items, judgments: resolveJudgments(events, items).judgments };
}

test('TRL pairs: majority vote, ties and both_bad give no pair, all_pairs vs best_vs_rest, conversational stays', () => {
  const { items, judgments } = fixture();
  const all = compilePairs(items, judgments, 'all_pairs');
  // A: 0>1. C: pairs (0,2), (1,2) won by 2. E: (0,1) 1>0, (0,3) 3>0, (1,2) 1>2, (1,3) 3>1, (2,3) 3>2.
  assert.deepEqual(all.map((r) => [r.id, r.chosen, r.rejected]), [
    ['A', 'A0', 'A1'],
    ['C', [{ role: 'assistant', content: 'C2' }], [{ role: 'assistant', content: 'C0' }]],
    ['C', [{ role: 'assistant', content: 'C2' }], [{ role: 'assistant', content: 'C1' }]],
    ['E', 'E1', 'E0'],
    ['E', 'E3', 'E0'],
    ['E', 'E1', 'E2'],
    ['E', 'E3', 'E1'],
    ['E', 'E3', 'E2'],
  ]);
  assert.deepEqual(all[1].prompt, [{ role: 'user', content: 'Hi' }]);
  assert.equal(all[0].prompt, 'prompt A');
  const best = compilePairs(items, judgments, 'best_vs_rest');
  assert.deepEqual(best.map((r) => [r.id, typeof r.chosen === 'string' ? r.chosen : r.chosen[0].content, typeof r.rejected === 'string' ? r.rejected : r.rejected[0].content]), [
    ['A', 'A0', 'A1'],
    ['C', 'C2', 'C0'],
    ['C', 'C2', 'C1'],
    ['E', 'E3', 'E0'],
    ['E', 'E3', 'E1'],
    ['E', 'E3', 'E2'],
  ]);
});

test('RRHF rankings, SFT and KTO rows follow the documented rules', () => {
  const { items, judgments } = fixture();
  // B: tied vote → both rank 0. C: 2 best, 0 and 1 tied. D: both-bad, left out. E: 3, 1, {0, 2}.
  assert.deepEqual(compileRankings(items, judgments).map((r) => [r.id, r.responses, r.ranks]), [
    ['A', ['A0', 'A1'], [0, 1]],
    ['B', ['B0', 'B1'], [0, 0]],
    ['C', ['C0', 'C1', 'C2'], [1, 1, 0]],
    ['E', ['E0', 'E1', 'E2', 'E3'], [2, 1, 2, 0]],
  ]);
  // SFT: best response; tie → lowest index of the best group; both-bad D and unjudged F left out.
  assert.deepEqual(compileSft(items, judgments).map((r) => [r.id, r.completion]), [
    ['A', 'A0'],
    ['B', 'B0'],
    ['C', 'C2'],
    ['E', 'E3'],
  ]);
  // KTO: best group true, worst group false; B (all tied) none; D both-bad → all false.
  assert.deepEqual(compileKto(items, judgments).map((r) => [r.id, r.completion, r.label]), [
    ['A', 'A0', true],
    ['A', 'A1', false],
    ['C', 'C0', false],
    ['C', 'C1', false],
    ['C', 'C2', true],
    ['D', 'D0', false],
    ['D', 'D1', false],
    ['E', 'E0', false],
    ['E', 'E2', false],
    ['E', 'E3', true],
  ]);
});

test('compile output does not depend on the order of judgments', () => {
  const { items, judgments } = fixture();
  const reversed = [...judgments].reverse();
  for (const mode of ['all_pairs', 'best_vs_rest'] as const) {
    assert.deepEqual(JSON.stringify(compilePairs(items, reversed, mode)), JSON.stringify(compilePairs(items, judgments, mode)));
  }
  assert.deepEqual(compileRankings(items, reversed), compileRankings(items, judgments));
  assert.deepEqual(compileKto(items, reversed), compileKto(items, judgments));
});

test('export rows: sft and kto completions of a conversational prompt are one assistant message (TRL), plain stay strings', () => {
  const { items, judgments } = fixture();
  const assistant = (content: string) => [{ role: 'assistant', content }];
  // C (conversational prompt): SFT best is C2; KTO C2 true, C0 and C1 false. The others as in the test above.
  assert.deepEqual(compile('sft', items, judgments).map((r) => JSON.stringify(r)), [
    '{"prompt":"prompt A","completion":"A0","id":"A"}',
    '{"prompt":"prompt B","completion":"B0","id":"B"}',
    JSON.stringify({ prompt: [{ role: 'user', content: 'Hi' }], completion: assistant('C2'), id: 'C' }),
    '{"prompt":"prompt E","completion":"E3","id":"E"}',
  ]);
  const kto = compile('kto', items, judgments).filter((r) => r.id === 'C' || r.id === 'A');
  assert.deepEqual(kto.map((r) => JSON.stringify(r)), [
    '{"prompt":"prompt A","completion":"A0","label":true,"id":"A"}',
    '{"prompt":"prompt A","completion":"A1","label":false,"id":"A"}',
    ...(['C0', 'C1', 'C2'] as const).map((c) => JSON.stringify({ prompt: [{ role: 'user', content: 'Hi' }], completion: assistant(c), label: c === 'C2', id: 'C' })),
  ]);
  // Every exported row is uniformly plain or uniformly conversational, as TRL requires.
  for (const format of ['trl', 'sft', 'kto'] as const) {
    for (const row of compile(format, items, judgments)) {
      const fields = Object.entries(row).filter(([k]) => k !== 'id' && k !== 'label').map(([, v]) => typeof v === 'string');
      assert.ok(fields.every((f) => f === fields[0]), `${format} row ${JSON.stringify(row)}`);
    }
  }
  // The in-memory rows the trainer reads keep string completions.
  assert.ok(compileSft(items, judgments).every((r) => typeof r.completion === 'string'));
});
