/**
 * The Review view's entries (host/annotator/logPath.ts taskFilesWithLogs, on real files): a task file is
 * listed when its log by the annotator's rule exists — `arith.tasks.jsonl` with `arith.annotations.jsonl`
 * (never a made-up `arith.jsonl`), `data.jsonl` with `data.annotations.jsonl`, logs moved by a
 * dapStudio.annotationLogPath pattern — and a log without its task file, a task file without a log, and
 * logs themselves are not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { annotationLogPath, taskFilesWithLogs } from '../../src/host/annotator/logPath';

test('Review view: task files whose log exists by the one log-name rule, nothing else', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dap-review-view-'));
  try {
    const files = ['arith.tasks.jsonl', 'arith.annotations.jsonl', 'data.jsonl', 'data.annotations.jsonl', 'orphan.annotations.jsonl', 'lonely.jsonl'];
    for (const f of files) writeFileSync(join(dir, f), '');
    const candidates = [...files.map((f) => join(dir, f)), join(dir, 'arith.jsonl')]; // a name that does not exist
    const listed = taskFilesWithLogs(candidates, (t) => annotationLogPath(t, ''));
    assert.deepEqual(listed, [join(dir, 'arith.tasks.jsonl'), join(dir, 'data.jsonl')]);

    // A pattern that moves logs: only task files with a log there are listed.
    mkdirSync(join(dir, 'logs'));
    writeFileSync(join(dir, 'logs', 'lonely.log.jsonl'), '');
    const moved = taskFilesWithLogs(candidates, (t) => annotationLogPath(t, '${dir}/logs/${name}.log.jsonl'));
    assert.deepEqual(moved, [join(dir, 'lonely.jsonl')]);
    // A bad pattern lists nothing (the annotator reports the pattern), and throws nothing.
    assert.deepEqual(taskFilesWithLogs(candidates, (t) => annotationLogPath(t, '${home}/x.jsonl')), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
