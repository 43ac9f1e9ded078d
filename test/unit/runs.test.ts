/**
 * The run-folder module (src/train/runs/): a run folder is told from a model folder (both may hold a
 * config.json); the metrics tail delivers each appended event once, in order, only when its line is
 * complete, and a character split across two appends arrives whole.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TrainEvent } from '../../src/train/runs/events';
import { appendEvent, createRunDir, isRunFolder, readRunEvents, runDirOf, runPaths } from '../../src/train/runs/folder';
import { MetricsTail } from '../../src/train/runs/tail';

const ts = '2026-01-01T00:00:00.000Z';

test('a run folder is told from a model folder and from an empty one', () => {
  const out = mkdtempSync(join(tmpdir(), 'dap-runs-'));
  const run = createRunDir(out, 'dpo-1');
  assert.equal(run, runDirOf(out, 'dpo-1'));
  assert.equal(run, join(out, 'runs', 'dpo-1'));
  assert.equal(isRunFolder(run), false, 'empty');
  writeFileSync(runPaths(run).config, JSON.stringify({ method: 'dpo', runId: 'dpo-1' }));
  assert.equal(isRunFolder(run), true, 'a run config before the first event');
  const model = join(out, 'model');
  mkdirSync(model);
  writeFileSync(join(model, 'config.json'), JSON.stringify({ model_type: 'gpt2', n_layer: 2 }));
  assert.equal(isRunFolder(model), false, 'a Hugging Face model folder');
  const eventsOnly = createRunDir(out, 'dpo-2');
  appendEvent(eventsOnly, { type: 'log', ts, level: 'info', message: 'hi' });
  assert.equal(isRunFolder(eventsOnly), true);
  assert.deepEqual(readRunEvents(eventsOnly).map((e) => e.type), ['log']);
  assert.deepEqual(readRunEvents(run), [], 'no metrics.jsonl yet');
});

test('the metrics tail delivers complete lines once, in order, and characters split across appends whole', async () => {
  const run = createRunDir(mkdtempSync(join(tmpdir(), 'dap-runs-')), 'dpo-tail');
  const metrics = runPaths(run).metrics;
  appendEvent(run, { type: 'log', ts, level: 'info', message: 'before the tail' });
  const got: TrainEvent[] = [];
  const messages = (): (string | false)[] => got.map((e) => e.type === 'log' && e.message);
  const tail = new MetricsTail(metrics, statSync(metrics).size, (events) => got.push(...events), 60_000);
  try {
    const line = Buffer.from(JSON.stringify({ type: 'log', ts, level: 'info', message: 'Grüße — 日本' }) + '\n', 'utf8');
    const cut = line.indexOf(Buffer.from('ü')) + 1; // inside the two bytes of "ü"
    appendFileSync(metrics, line.subarray(0, cut));
    await tail.poll();
    assert.deepEqual(messages(), [], 'an unfinished line is not read');
    appendFileSync(metrics, line.subarray(cut));
    appendFileSync(metrics, JSON.stringify({ type: 'log', ts, level: 'warn', message: 'second' }) + '\n{"type": "log"');
    await tail.poll();
    assert.deepEqual(messages(), ['Grüße — 日本', 'second']);
    appendFileSync(metrics, `, "ts": "${ts}", "level": "info", "message": "third"}\n`);
    await tail.poll();
    await tail.poll();
    assert.deepEqual(messages(), ['Grüße — 日本', 'second', 'third'], 'each event once');
  } finally {
    tail.dispose();
  }
});
