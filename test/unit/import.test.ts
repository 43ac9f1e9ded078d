/**
 * `dap import`: Parquet files written here by a real writer (hyparquet-writer) — an UltraFeedback-binarized
 * layout with nested list<struct> conversations over several row groups, a KTO file, a Hub-style folder of
 * splits — and label-tool exports (Label Studio Pairwise and Ranker, Argilla v2 records with a RankingQuestion)
 * turned into a task file plus an annotation log that the other commands read.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetWriteFile } from 'hyparquet-writer';
import { conversationColumn as conversation, textColumn as text } from '../parquet-fixtures';
import { initBackend } from '../../src/engine/backend';
import { parquetInfo } from '../../src/core/parquet';
import { readAnnotationLog } from '../../src/core/annotationLog';
import { runCli } from './engine-fixtures';

const dir = mkdtempSync(join(tmpdir(), 'dap-import-'));
before(async () => { await initBackend('wasm'); });
const lines = (p: string) => readFileSync(p, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const msg = (role: string, content: string | null) => ({ role, content });

test('Parquet, UltraFeedback layout: nested conversations over 3 row groups; a bad row named file:row N and left out', async () => {
  const n = 5;
  const q = (i: number) => `Question ${i}?`;
  const chosen = Array.from({ length: n }, (_, i) => [msg('user', q(i)), msg('assistant', `good ${i}`)]);
  const rejected = Array.from({ length: n }, (_, i) => [msg('user', q(i)), msg('assistant', i === 3 ? null : `bad ${i}`)]);
  const file = join(dir, 'ultra.parquet');
  parquetWriteFile({
    filename: file,
    columnData: [
      { name: 'prompt', data: chosen.map((_, i) => q(i)) },
      { name: 'prompt_id', data: chosen.map((_, i) => `p${i}`) },
      { name: 'chosen', data: chosen },
      { name: 'rejected', data: rejected },
      { name: 'score_chosen', data: chosen.map((_, i) => 8 + i / 2) },
      { name: 'score_rejected', data: chosen.map(() => 2) },
    ],
    schema: [
      { name: 'root', num_children: 6 }, text('prompt'), text('prompt_id'), ...conversation('chosen'), ...conversation('rejected'),
      { name: 'score_chosen', type: 'DOUBLE', repetition_type: 'OPTIONAL' }, { name: 'score_rejected', type: 'DOUBLE', repetition_type: 'OPTIONAL' },
    ],
    rowGroupSize: 2,
  });
  assert.deepEqual(await parquetInfo(file), { rows: 5, rowGroups: 3 });
  const out = join(dir, 'ultra.tasks.jsonl');
  const r = await runCli(['import', file, '--out', out]);
  assert.equal(r.code, 1, 'a bad row makes the exit code 1');
  assert.match(r.err, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:row 4: rejected\\[1\\]\\.content: expected a string, got null`));
  assert.match(r.out, /4 rows from 1 Parquet file; 1 bad row left out/);
  const rows = lines(out);
  assert.deepEqual(rows.map((x) => x.prompt_id), ['p0', 'p1', 'p2', 'p4']);
  assert.deepEqual(rows[1], { prompt: q(1), prompt_id: 'p1', chosen: chosen[1], rejected: rejected[1], score_chosen: 8.5, score_rejected: 2 });
  const v = await runCli(['validate', out]);
  assert.equal(v.code, 0, v.out);
  assert.match(v.out, /4 valid items; 0 errors/);
  assert.ok(!readFileSync(out, 'utf8').includes('.tmp'), 'no temp file name leaks');
});

test('Parquet KTO rows and a Hub folder of splits (--split)', async () => {
  const data = join(dir, 'hub', 'data');
  mkdirSync(data, { recursive: true });
  const kto = (name: string, k: number) => parquetWriteFile({
    filename: join(data, name),
    columnData: [
      { name: 'prompt', data: Array.from({ length: k }, (_, i) => `Q${i}`) },
      { name: 'completion', data: Array.from({ length: k }, (_, i) => `A${i}`) },
      { name: 'label', data: Array.from({ length: k }, (_, i) => i % 2 === 0) },
    ],
  });
  kto('train-00000-of-00001.parquet', 3);
  kto('test-00000-of-00001.parquet', 2);
  const out = join(dir, 'kto.jsonl');
  const none = await runCli(['import', join(dir, 'hub'), '--out', out]);
  assert.equal(none.code, 1);
  assert.match(none.err, /several splits \(test, train\): choose one with --split/);
  const r = await runCli(['import', join(dir, 'hub'), '--split', 'train', '--out', out]);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(lines(out), [{ prompt: 'Q0', completion: 'A0', label: true }, { prompt: 'Q1', completion: 'A1', label: false }, { prompt: 'Q2', completion: 'A2', label: true }]);
  const v = await runCli(['validate', out]);
  assert.match(v.out, /3 valid KTO rows \(2 desirable, 1 undesirable\)/);
  const missing = await runCli(['import', join(dir, 'hub'), '--split', 'dev', '--out', out]);
  assert.match(missing.err, /no split "dev" \(found test, train\)/);
});

test('Label Studio Pairwise and Ranker exports → task file + annotation log (annotators, choices, rankings, times kept)', async () => {
  const exportFile = join(dir, 'ls-export.json');
  writeFileSync(exportFile, JSON.stringify([
    { id: 11, data: { prompt: 'Capital of France?', answer1: 'Paris', answer2: 'Lyon' }, annotations: [
      { id: 1, completed_by: 7, created_at: '2025-03-01T10:00:00.000Z', updated_at: '2025-03-01T10:00:05.000Z', lead_time: 4.5, was_cancelled: false,
        result: [{ id: 'x', type: 'pairwise', from_name: 'pw', to_name: 'answer1,answer2', value: { selected: 'left' } }] },
      { id: 2, completed_by: { id: 8, email: 'bob@example.com' }, created_at: '2025-03-02T09:00:00Z', was_cancelled: false,
        result: [{ type: 'pairwise', from_name: 'pw', to_name: 'answer1,answer2', value: { selected: 'right' } }] },
      { id: 3, completed_by: 9, created_at: '2025-03-03T09:00:00Z', was_cancelled: true, result: [] },
    ] },
    { id: 12, data: { prompt: 'Best search result?', items: [{ id: 'blog', body: 'A blog' }, { id: 'mdn', body: 'MDN docs' }, { id: 'wiki', body: 'Wiki' }] }, annotations: [
      { id: 4, completed_by: 7, created_at: '2025-03-04T08:00:00Z', was_cancelled: false,
        result: [{ type: 'ranker', from_name: 'rank', to_name: 'results', value: { ranker: { rank: ['mdn', 'wiki', 'blog'] } } }] },
    ] },
  ]));
  const out = join(dir, 'ls.tasks.jsonl');
  const r = await runCli(['import', exportFile, '--out', out]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /annotation 3: cancelled, skipped/);
  const rows = lines(out);
  assert.deepEqual(rows.map((x) => [x.id, x.prompt, x.responses]), [
    ['ls-11', 'Capital of France?', ['Paris', 'Lyon']],
    ['ls-12', 'Best search result?', ['A blog', 'MDN docs', 'Wiki']],
  ]);
  const logFile = join(dir, 'ls.annotations.jsonl');
  const log = await readAnnotationLog(logFile);
  assert.deepEqual(log.issues, []);
  assert.deepEqual(log.events.map(({ event: e }) => [e.item, e.annotator, e.ts, e.kind, 'choice' in e ? e.choice : 'ranking' in e ? e.ranking : null]), [
    ['ls-11', 'label-studio:7', '2025-03-01T10:00:05.000Z', 'pair', 'a'],
    ['ls-11', 'label-studio:bob@example.com', '2025-03-02T09:00:00.000Z', 'pair', 'b'],
    ['ls-12', 'label-studio:7', '2025-03-04T08:00:00.000Z', 'rank', [[1], [2], [0]]],
  ]);
  assert.equal((log.events[0].event as { ms?: number }).ms, 4500);
  const stats = await runCli(['stats', out, '--json']);
  const s = JSON.parse(stats.out);
  assert.equal(s.judgments, 3);
  assert.deepEqual(s.perAnnotator.map((a: { annotator: string }) => a.annotator), ['label-studio:7', 'label-studio:bob@example.com']);
  const ex = await runCli(['export', out, '--format', 'rrhf']);
  assert.deepEqual(lines2(ex.out).find((x) => x.id === 'ls-12').ranks, [2, 0, 1]);
  // A second import never touches the existing log.
  const again = await runCli(['import', exportFile, '--out', out]);
  assert.equal(again.code, 1);
  assert.match(again.err, /exists; an import never adds to or replaces an existing annotation log/);
});

function lines2(s: string) { return s.trim().split('\n').map((l) => JSON.parse(l)); }

test('Argilla v2 records with a RankingQuestion (to_disk folder with settings) → tasks + log; drafts skipped', async () => {
  const folder = join(dir, 'argilla-export');
  mkdirSync(join(folder, '.argilla'), { recursive: true });
  writeFileSync(join(folder, '.argilla', 'settings.json'), JSON.stringify({
    fields: [{ name: 'prompt', type: 'text' }, { name: 'response1', type: 'text' }, { name: 'response2', type: 'text' }, { name: 'response3', type: 'text' }],
    questions: [{ name: 'preference', settings: { type: 'ranking', options: [{ value: 'response1', text: 'Response 1' }, { value: 'response2', text: 'Response 2' }, { value: 'response3', text: 'Response 3' }] } }],
  }));
  writeFileSync(join(folder, 'records.json'), JSON.stringify([
    { id: 'rec-1', fields: { prompt: '2+2?', response1: '4', response2: '5', response3: 'four' }, metadata: { source: 'x' },
      responses: { preference: [
        { value: ['response1', 'response3', 'response2'], user_id: 'u-alice', status: 'submitted' },
        { value: [{ value: 'response3', rank: 1 }, { value: 'response1', rank: 1 }, { value: 'response2', rank: 2 }], user_id: 'u-bob', status: 'submitted' },
        { value: ['response2', 'response1', 'response3'], user_id: 'u-carol', status: 'draft' },
      ] }, suggestions: {}, vectors: {}, _server_id: 'srv-1', inserted_at: '2025-05-01T12:00:00Z', updated_at: '2025-05-02T12:00:00Z' },
  ]));
  const out = join(dir, 'arg.tasks.jsonl');
  const r = await runCli(['import', folder, '--out', out]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /argilla:u-carol: status draft, skipped/);
  const rows = lines(out);
  assert.deepEqual([rows[0].id, rows[0].prompt, rows[0].responses], ['rec-1', '2+2?', ['4', '5', 'four']]);
  assert.deepEqual(rows[0].meta.argilla.metadata, { source: 'x' });
  const log = await readAnnotationLog(join(dir, 'arg.annotations.jsonl'));
  assert.deepEqual(log.issues, []);
  assert.deepEqual(log.events.map(({ event: e }) => [e.annotator, e.ts, 'ranking' in e ? e.ranking : null]), [
    ['argilla:u-alice', '2025-05-02T12:00:00.000Z', [[0], [2], [1]]],
    ['argilla:u-bob', '2025-05-02T12:00:00.000Z', [[2, 0], [1]]],
  ]);
  assert.ok(existsSync(out));
});

test('the annotator reads a .parquet through the same import, cached by path, size and time; its log sits beside it', async () => {
  const { parquetTaskFile } = await import('../../src/core/importRows');
  const { defaultLogPath } = await import('../../src/core/project');
  const file = join(dir, 'cache-me.parquet');
  const write = (answers: string[]) => parquetWriteFile({ filename: file, columnData: [
    { name: 'prompt', data: answers.map((_, i) => `P${i}`) }, { name: 'chosen', data: answers }, { name: 'rejected', data: answers.map((a) => `${a}?`) }] });
  write(['a', 'b']);
  const cacheDir = join(dir, 'cache');
  const first = await parquetTaskFile(file, cacheDir);
  assert.deepEqual(first.issues, []);
  assert.deepEqual(lines(first.path).map((r) => r.chosen), ['a', 'b']);
  const again = await parquetTaskFile(file, cacheDir);
  assert.equal(again.path, first.path, 'unchanged file: the cached import is reused');
  await new Promise((r) => setTimeout(r, 20));
  write(['a', 'b', 'c']);
  const changed = await parquetTaskFile(file, cacheDir);
  assert.notEqual(changed.path, first.path);
  assert.equal(lines(changed.path).length, 3);
  assert.equal(defaultLogPath(file), join(dir, 'cache-me.annotations.jsonl'), 'NAME.parquet → NAME.annotations.jsonl, as dap import --out NAME.tasks.jsonl');
});
