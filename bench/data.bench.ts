/**
 * Data-core benchmark: a synthetic 100,000-item task file and a 150,000-event log in os.tmpdir().
 * Measures time to the first item through the lazy index (target < 1 s), full streaming read of tasks
 * and log, fsync'd append latency, and resolve + compile + agreement time.
 */
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agreementReport } from '../src/core/agreement';
import { appendEvent, readAnnotationLog } from '../src/core/annotationLog';
import { compilePairs } from '../src/core/compile';
import { resolveJudgments } from '../src/core/judgments';
import { TaskIndex } from '../src/core/taskIndex';
import { readTasks } from '../src/core/tasks';

const ITEMS = 100_000;

function writeLines(path: string, count: number, line: (i: number) => string): void {
  const fd = openSync(path, 'w');
  let batch: string[] = [];
  for (let i = 0; i < count; i++) {
    batch.push(line(i));
    if (batch.length === 5000 || i === count - 1) {
      writeSync(fd, batch.join('\n') + '\n');
      batch = [];
    }
  }
  closeSync(fd);
}

export async function run(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'dap-bench-data-'));
  try {
    const tasksPath = join(dir, 'big.jsonl');
    const logPath = join(dir, 'big.annotations.jsonl');
    writeLines(tasksPath, ITEMS, (i) => JSON.stringify({ id: `t${i}`, prompt: `What is ${i} + 1?`, responses: [String(i + 1), `The answer is ${i}.`] }));
    writeLines(logPath, ITEMS * 1.5, (k) => {
      const i = k % ITEMS;
      const annotator = k < ITEMS ? 'alice' : 'bob';
      return JSON.stringify({ v: 1, item: `t${i}`, annotator, kind: 'pair', shown: [k % 2, 1 - (k % 2)], choice: k % 7 === 0 ? 'b' : 'a', ts: '2026-01-01T00:00:00Z' });
    });
    let t = performance.now();
    const index = TaskIndex.open(tasksPath);
    const first = await index.get(0);
    const firstItemMs = performance.now() - t;
    if (first?.item?.id !== 't0') throw new Error('first item wrong');
    await index.complete;
    const fullIndexMs = performance.now() - t;
    t = performance.now();
    const tasks = await readTasks(tasksPath);
    const readTasksMs = performance.now() - t;
    t = performance.now();
    const log = await readAnnotationLog(logPath);
    const readLogMs = performance.now() - t;
    t = performance.now();
    const { judgments } = resolveJudgments(log.events, tasks.items);
    const rows = compilePairs(tasks.items, judgments);
    const agreement = agreementReport(judgments);
    const resolveCompileAgreementMs = performance.now() - t;
    const appendPath = join(dir, 'append.jsonl');
    const latencies: number[] = [];
    for (let k = 0; k < 50; k++) {
      const t0 = performance.now();
      await appendEvent(appendPath, { v: 1, item: `t${k}`, annotator: 'alice', kind: 'pair', shown: [0, 1], choice: 'a', ts: new Date().toISOString() });
      latencies.push(performance.now() - t0);
    }
    latencies.sort((a, b) => a - b);
    return {
      items: ITEMS,
      taskFileMB: +(statSync(tasksPath).size / 1e6).toFixed(1),
      logEvents: log.events.length,
      firstItemMs: +firstItemMs.toFixed(1),
      firstItemUnder1s: firstItemMs < 1000,
      fullIndexMs: Math.round(fullIndexMs),
      readTasksMs: Math.round(readTasksMs),
      readLogMs: Math.round(readLogMs),
      resolveCompileAgreementMs: Math.round(resolveCompileAgreementMs),
      pairRows: rows.length,
      kappa: agreement.pairs.overall.kappa,
      appendFsyncMsP50: +latencies[25].toFixed(2),
      appendFsyncMsP99: +latencies[49].toFixed(2),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
