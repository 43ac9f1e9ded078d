/**
 * core/spilledLog.ts resolves `dap stats`' partitioned log from numeric event records. Over a generated log
 * with every rule in play (pairs of each choice, rankings with ties, stacked judgments and undos, undos with
 * nothing to retract, flags, confirms, unknown ids, shown indices out of range, annotators first seen in
 * an order other than their names'), each partition's judgments (in batches) and issues equal what
 * resolveJudgments (core/judgments.ts) gives for the whole log, restricted to that partition's items:
 * the same judgments (but `ts`) in the same order, the same issues in log order. Items repeated in the
 * spill (a task file's late duplicate) count once, the first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLogLine } from '../../src/core/annotationLog';
import { readJsonlLines } from '../../src/core/jsonl';
import { resolveJudgments } from '../../src/core/judgments';
import { partitionOf } from '../../src/core/spillFiles';
import { SpilledLog, type StatsItem } from '../../src/core/spilledLog';
import type { AnnotationEvent, DataIssue, Judgment } from '../../src/core/types';

const dir = mkdtempSync(join(tmpdir(), 'dap-spilled-log-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function rng(seed: number): (n: number) => number {
  let s = seed;
  return (n) => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) % n);
}

/** Items (some carrying models) and a log of events about them and about ids the items lack. */
function project(count: number, events: number, seed: number): { items: StatsItem[]; log: string } {
  const rand = rng(seed);
  const items: StatsItem[] = Array.from({ length: count }, (_, i) => {
    const n = 2 + rand(3);
    return { id: `id-${i}-${'"\\\t'.charAt(i % 4)}`, order: i, responses: Array.from({ length: n }, (_, k) => (i % 3 === 0 ? { model: `m${k % 2}` } : {})) };
  });
  const annotators = ['zed', 'amy', 'Bob', 'carl', 'émile'];
  const lines: string[] = [];
  const ts = '2026-03-01T10:00:00.000Z';
  for (let e = 0; e < events; e++) {
    const unknown = rand(40) === 0;
    const item = unknown ? `missing-${rand(5)}` : items[rand(Math.min(count, 60 + e))].id; // early events crowd a few items: deep stacks
    const n = unknown ? 3 : items.find((it) => it.id === item)!.responses.length;
    const annotator = annotators[rand(annotators.length)];
    const x = rand(100);
    const shownOf = (k: number) => {
      const order = Array.from({ length: n }, (_, i) => i).sort(() => rand(3) - 1).slice(0, k);
      if (rand(50) === 0) order[0] = n + rand(2); // a response the item lacks
      return order;
    };
    let event: AnnotationEvent;
    if (x < 15) event = { v: 1, item, annotator, ts, kind: 'undo' };
    else if (x < 20) event = { v: 1, item, annotator, ts, kind: 'flag', flagged: rand(2) === 0 };
    else if (x < 23) event = { v: 1, item, annotator, ts, kind: 'confirm', reason: 'never_won' };
    else if (x < 70) event = { v: 1, item, annotator, ts, kind: 'pair', shown: shownOf(2), choice: (['a', 'b', 'tie', 'both_bad'] as const)[rand(4)] };
    else {
      const shown = shownOf(n);
      const ranking: number[][] = [];
      for (const r of [...shown].sort(() => rand(3) - 1)) {
        if (ranking.length > 0 && rand(3) === 0) ranking[ranking.length - 1].push(r);
        else ranking.push([r]);
      }
      event = { v: 1, item, annotator, ts, kind: 'rank', shown, ranking };
    }
    lines.push(JSON.stringify(event));
  }
  const log = join(dir, `log-${seed}.jsonl`);
  writeFileSync(log, `${lines.join('\n')}\n`);
  return { items, log };
}

const withoutTs = (j: Judgment) => ({ ...j, ts: '' });

test('each partition resolves as resolveJudgments does for the whole log, restricted to its items', async () => {
  for (const [count, events, partitions] of [[40, 900, 1], [40, 900, 3], [3000, 6000, 1], [3000, 6000, 7]]) {
    const { items, log } = project(count, events, count + partitions);
    const logged: { line: number; offset: number; event: AnnotationEvent }[] = [];
    for await (const l of readJsonlLines(log)) {
      const r = parseLogLine(l, log);
      if (r.event) logged.push({ line: l.line, offset: l.offset, event: r.event });
    }
    const expected = resolveJudgments(logged, items, log);
    const itemOfLine = new Map(logged.map((e) => [e.line, e.event.item]));
    const spilled = new SpilledLog(partitions, log, log);
    try {
      for (const it of items) spilled.writeItem(it, it.order);
      spilled.writeItem({ ...items[1], responses: [{}] }, count); // a late duplicate of an id: the first counts
      await spilled.spillLog(() => {});
      assert.equal(spilled.events, logged.length);
      spilled.finishWriting();
      let judgmentsSeen = 0;
      for (let p = 0; p < partitions; p++) {
        const inPartition = (id: string) => partitionOf(id, partitions) === p;
        const batches: { items: StatsItem[]; judgments: Judgment[] }[] = [];
        const issues: DataIssue[] = spilled.resolve(p, (batchItems, judgments) => batches.push({ items: batchItems, judgments }));
        const judged = new Set(logged.map((e) => e.event.item));
        assert.deepEqual(batches.flatMap((b) => b.items), items.filter((it) => inPartition(it.id) && judged.has(it.id)), `${count} items, partition ${p}: the named items, in file order`);
        for (const b of batches) {
          assert.ok(b.items.length <= 1024);
          const ids = new Set(b.items.map((it) => it.id));
          assert.ok(b.judgments.every((j) => ids.has(j.item)), 'a batch holds its own items\' judgments');
        }
        const got = batches.flatMap((b) => b.judgments);
        assert.deepEqual(got, expected.judgments.filter((j) => inPartition(j.item)).map(withoutTs), `${count} items, partition ${p}: judgments`);
        assert.deepEqual(issues, expected.issues.filter((i) => inPartition(itemOfLine.get(i.line)!)), `${count} items, partition ${p}: issues`);
        judgmentsSeen += got.length;
      }
      assert.equal(judgmentsSeen, expected.judgments.length);
      const kinds = new Set(expected.issues.map((i) => i.field));
      assert.deepEqual([...kinds].sort(), ['item', 'kind', 'shown'], 'the log has unknown items, empty undos and out-of-range indices');
      assert.ok(expected.judgments.some((j) => j.kind === 'rank' && j.ranking.some((g) => g.length > 1)), 'rankings with ties');
      assert.ok(count < 1024 || partitions > 1 || expected.judgments.length > 1024, 'more than one batch');
    } finally {
      spilled.close();
    }
  }
});
