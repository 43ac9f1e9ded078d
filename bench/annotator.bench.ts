/**
 * Annotator speed budgets (DESIGN.md §5): opening a 100,000-item task file until the first item is
 * sent to the webview (target < 1 s, lazy index), and key → fsync'd line → `saved` latency of the host
 * side (target p99 < 30 ms), and reopening with half the items judged until the first unjudged item
 * (log read + id scan), measured on real files in os.tmpdir() through the same controller the
 * editor uses.
 */
import { mkdtempSync, openSync, rmSync, writeSync, closeSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AnnotatorController } from '../src/host/annotator/controller';
import { openLog, openTasks } from '../src/host/annotator/coreAdapter';
import type { AnnotatorHostToWebview, ItemView } from '../webview/protocol/annotator';

const ITEMS = 100_000;
const JUDGMENTS = 300;

function writeTaskFile(file: string): void {
  const fd = openSync(file, 'w');
  let chunk = '';
  for (let i = 0; i < ITEMS; i++) {
    chunk += JSON.stringify({ id: `t${i}`, prompt: `What is ${i} + ${i % 97}?`, responses: [`${i + (i % 97)}`, `The answer is ${i + (i % 97) + 1}.`] }) + '\n';
    if (chunk.length > 1 << 20) {
      writeSync(fd, chunk);
      chunk = '';
    }
  }
  writeSync(fd, chunk);
  closeSync(fd);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export async function run(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'dap-annot-bench-'));
  try {
    const taskFile = join(dir, 'big.jsonl');
    writeTaskFile(taskFile);
    const posted: AnnotatorHostToWebview[] = [];
    let firstItemAt = 0;
    const t0 = performance.now();
    const tasks = openTasks(taskFile);
    const log = await openLog(join(dir, 'big.annotations.jsonl'));
    const c = new AnnotatorController({
      tasks: tasks.source,
      sink: log.sink,
      existing: log.events,
      annotator: 'bench',
      taskFile,
      post: (m) => {
        if (m.type === 'item' && m.item && !firstItemAt) firstItemAt = performance.now();
        posted.push(m);
      },
    });
    await c.handle({ type: 'ready' });
    const openMs = firstItemAt - t0;
    const total = await tasks.complete;
    const indexMs = performance.now() - t0;

    const latencies: number[] = [];
    for (let i = 0; i < JUDGMENTS; i++) {
      const last = posted.filter((m): m is Extract<AnnotatorHostToWebview, { type: 'item' }> => m.type === 'item').pop();
      const item: ItemView | null | undefined = last?.item;
      if (!item) throw new Error('no item shown');
      const t = performance.now();
      await c.handle({ type: 'judge', requestId: i, itemId: item.id, judgment: { kind: 'pair', shown: item.shown, choice: i % 2 ? 'a' : 'b' }, ms: 1, advance: true });
      latencies.push(performance.now() - t);
    }
    latencies.sort((a, b) => a - b);

    // Resume deep in the file: a log judging the first half, then open until the first unjudged item.
    const logFile = join(dir, 'half.annotations.jsonl');
    const fd = openSync(logFile, 'w');
    let chunk = '';
    for (let i = 0; i < ITEMS / 2; i++) {
      chunk += JSON.stringify({ v: 1, item: `t${i}`, annotator: 'bench', ts: '2026-01-01T00:00:00.000Z', kind: 'pair', shown: [0, 1], choice: 'a', ms: 1 }) + '\n';
      if (chunk.length > 1 << 20) {
        writeSync(fd, chunk);
        chunk = '';
      }
    }
    writeSync(fd, chunk);
    closeSync(fd);
    let resumedAt = 0;
    let resumedIndex = -1;
    const t1 = performance.now();
    const tasks2 = openTasks(taskFile);
    const log2 = await openLog(logFile);
    const c2 = new AnnotatorController({
      tasks: tasks2.source,
      sink: log2.sink,
      existing: log2.events,
      annotator: 'bench',
      taskFile,
      post: (m) => {
        if (m.type === 'item' && m.item && !resumedAt) {
          resumedAt = performance.now();
          resumedIndex = m.item.index;
        }
      },
    });
    await c2.handle({ type: 'ready' });
    if (resumedIndex !== ITEMS / 2) throw new Error(`resumed at ${resumedIndex}, expected ${ITEMS / 2}`);
    return {
      items: total,
      file_mb: +(statSync(taskFile).size / 2 ** 20).toFixed(1),
      open_to_first_item_ms: +openMs.toFixed(1),
      open_target_ms: 1000,
      full_index_ms: +indexMs.toFixed(0),
      judgments: JUDGMENTS,
      judge_to_saved_p50_ms: +percentile(latencies, 50).toFixed(2),
      judge_to_saved_p99_ms: +percentile(latencies, 99).toFixed(2),
      judge_target_p99_ms: 30,
      resume_after_half_judged_ms: +(resumedAt - t1).toFixed(0),
      note: 'host side only (append + fsync + next item); the webview adds one postMessage round trip',
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
