/**
 * Task-file readers: streaming lines with byte offsets (CRLF, BOM, blank lines, no final newline, chunk
 * boundaries), every accepted format, a file with planted bad lines checked line by line, duplicate ids,
 * content-hash ids, the lazy index (first items before the index is complete, random access), and inputs
 * that are no JSONL at all: a directory, binary data, another text encoding.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readJsonlBatches, readJsonlLines } from '../../src/core/jsonl';
import { readAnnotationLog } from '../../src/core/annotationLog';
import { formatIssue } from '../../src/core/issues';
import { readTasks } from '../../src/core/tasks';
import { TaskIndex } from '../../src/core/taskIndex';

const dir = mkdtempSync(join(tmpdir(), 'dap-tasks-'));
function write(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

test('line reader: offsets, CRLF, BOM, blank lines, last line without newline, tiny chunks', async () => {
  const lines = ['{"a":1}', '', '{"b":"é ü"}', '  ', '{"c":3}'];
  const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(lines.join('\r\n'), 'utf8')]);
  const path = write('lines.jsonl', body);
  for (const chunkSize of [1, 2, 3, 7, 65536]) {
    const got = [];
    for await (const l of readJsonlLines(path, { chunkSize })) got.push(l);
    assert.deepEqual(got.map((l) => l.text), lines, `chunk ${chunkSize}`);
    assert.deepEqual(got.map((l) => l.line), [1, 2, 3, 4, 5]);
    assert.deepEqual(got.map((l) => l.terminated), [true, true, true, true, false]);
    // Each offset points at the line's bytes in the file (independently: search the raw buffer).
    for (const l of got) {
      const expected = Buffer.from(l.text, 'utf8');
      assert.ok(body.subarray(l.offset, l.offset + expected.length).equals(expected), `offset of line ${l.line}`);
    }
    assert.equal(got[0].offset, 3, 'line 1 starts after the BOM');
  }
});

test('line reader in batches: every line as the whole file split on newlines says, whatever the chunk size', async () => {
  // Lines mixing ASCII, multi-byte characters that chunk boundaries cut, invalid bytes, CRLF, blank and
  // over-long lines; the expected lines come from splitting the whole buffer (no chunks involved).
  let seed = 5;
  const rand = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
  const pieces = [Buffer.from('{"a":1}'), Buffer.from('é ü 😀'), Buffer.from([0xc3]), Buffer.from([0xff, 0xfe]), Buffer.from('\r'), Buffer.from('x'.repeat(40))];
  const parts: Buffer[] = [];
  for (let line = 0; line < 300; line++) {
    for (let k = rand(5); k > 0; k--) parts.push(pieces[rand(pieces.length)]);
    if (line < 299 || rand(2) === 0) parts.push(Buffer.from('\n'));
  }
  const body = Buffer.concat(parts);
  const path = write('batches.jsonl', body);
  const maxLineBytes = 45;
  const expected: { line: number; offset: number; byteLength: number; text: string; utf8: boolean; oversize: boolean; terminated: boolean }[] = [];
  for (let at = 0, line = 1; at < body.length; line++) {
    const nl = body.indexOf(0x0a, at);
    const end = nl < 0 ? body.length : nl;
    const bytes = body.subarray(at, end);
    const text = bytes.toString('utf8').replace(/\r$/, '');
    expected.push({ line, offset: at, byteLength: bytes.length, text: bytes.length > maxLineBytes ? '' : text, utf8: bytes.length > maxLineBytes || Buffer.from(text + (bytes.at(-1) === 0x0d ? '\r' : ''), 'utf8').equals(bytes),
      oversize: bytes.length > maxLineBytes, terminated: nl >= 0 });
    at = end + 1;
  }
  assert.ok(expected.some((e) => !e.utf8) && expected.some((e) => e.oversize) && expected.some((e) => e.text.includes('😀')), `the file has every kind of line: ${expected.filter((e) => !e.utf8).length} not UTF-8, ${expected.filter((e) => e.oversize).length} oversize`);
  const view = (l: import('../../src/core/jsonl').JsonlLine) => ({ line: l.line, offset: l.offset, byteLength: l.byteLength, text: l.oversize ? '' : l.text, utf8: l.utf8,
    oversize: l.oversize !== undefined, terminated: l.terminated });
  for (const chunkSize of [1, 2, 3, 5, 64, 100, 1000, 1 << 16]) {
    const batched = [];
    for await (const batch of readJsonlBatches(path, { chunkSize, maxLineBytes })) batched.push(...batch.map(view));
    assert.deepEqual(batched, expected, `batches, chunk ${chunkSize}`);
    const single = [];
    for await (const l of readJsonlLines(path, { chunkSize, maxLineBytes })) single.push(view(l));
    assert.deepEqual(single, expected, `lines, chunk ${chunkSize}`);
  }
});

test('every accepted format parses into the same item shape', async () => {
  const conv = [{ role: 'user', content: 'Hi?' }];
  const path = write(
    'formats.jsonl',
    [
      { id: 'r', prompt: 'P', responses: ['x', { text: 'y', model: 'm1' }], meta: { task: 'add' }, extra: 5 },
      { prompt: 'P2', chosen: 'good', rejected: 'bad' },
      { id: 'c', prompt: conv, chosen: [{ role: 'assistant', content: 'Hello' }], rejected: [{ role: 'assistant', content: 'Go away' }] },
      { id: 'i', chosen: [...conv, { role: 'assistant', content: 'A' }], rejected: [...conv, { role: 'assistant', content: 'B' }] },
      { id: 's', chosen: 'Q: sky? A: blue', rejected: 'Q: sky? A: green' },
      { id: 7, query: 'Q', responses: ['a', 'b', 'c'], scores: [0.5, 2, 0.5] },
    ].map((o) => JSON.stringify(o)).join('\n') + '\n',
  );
  const { items, issues } = await readTasks(path);
  assert.deepEqual(issues, []);
  assert.deepEqual(items.map((i) => [i.id.startsWith('h:') ? 'hash' : i.id, i.format, i.line]), [
    ['r', 'responses', 1],
    ['hash', 'trl_pair', 2],
    ['c', 'trl_pair_conversational', 3],
    ['i', 'trl_pair_implicit', 4],
    ['s', 'trl_pair_implicit', 5],
    ['7', 'rrhf', 6],
  ]);
  assert.deepEqual(items[0].responses, [{ text: 'x' }, { text: 'y', model: 'm1' }]);
  assert.deepEqual(items[0].meta, { task: 'add', extra: 5 });
  assert.deepEqual(items[1].sourcePreference, [[0], [1]]);
  assert.deepEqual(items[2].prompt, conv);
  assert.deepEqual(items[2].responses.map((r) => r.text), ['Hello', 'Go away']);
  assert.deepEqual(items[3].prompt, conv);
  assert.deepEqual(items[3].responses.map((r) => r.text), ['A', 'B']);
  // TRL's rule for implicit string prompts: the shared prefix, minus the space right before the split.
  assert.equal(items[4].prompt, 'Q: sky? A:');
  assert.deepEqual(items[4].responses.map((r) => r.text), [' blue', ' green']);
  assert.equal(items[5].prompt, 'Q');
  assert.deepEqual(items[5].sourcePreference, [[1], [0, 2]]);
  // Content-hash id: h: + 16 hex of sha256 over canonical JSON (sorted keys) of prompt + response texts.
  const canonical = '{"prompt":"P2","responses":["good","bad"]}';
  assert.equal(items[1].id, `h:${createHash('sha256').update(canonical).digest('hex').slice(0, 16)}`);
});

test('planted bad lines: each reported as file:line: field: problem, the rest still read', async () => {
  const lines = [
    '{"id":"ok1","prompt":"p","responses":["a","b"]}', // 1 ok
    '{"id":"b2","prompt":"p","responses":["a",{"text":5}]}', // 2
    '{"id":"b3","prompt":"p","responses":["only one"]}', // 3
    'not json', // 4
    '', // 5 blank: fine
    '[1,2]', // 6
    '{"id":"b7","prompt":[{"role":"user"}],"responses":["a","b"]}', // 7
    '{"id":"b8","prompt":"p","chosen":"a"}', // 8
    '{"id":"b9","query":"q","responses":["a","b"],"scores":[1]}', // 9
    '{"id":"ok1","prompt":"again","responses":["a","b"]}', // 10 duplicate
    '{"id":"b11","something":"else"}', // 11
    '{"id":"b12","prompt":"p","chosen":[{"role":"assistant","content":"x"}],"rejected":"y"}', // 12
    '{"id":"ok13","prompt":"p","responses":["a","b"]}', // 13 ok
  ];
  const path = write('bad.jsonl', lines.join('\n'));
  const { items, issues } = await readTasks(path, { displayName: 'bad.jsonl' });
  assert.deepEqual(items.map((i) => i.id), ['ok1', 'ok13']);
  const printed = issues.map(formatIssue);
  assert.deepEqual(printed.map((p) => p.split(': ').slice(0, 2).join(': ')), [
    'bad.jsonl:2: responses[1].text',
    'bad.jsonl:3: responses',
    'bad.jsonl:4: line',
    'bad.jsonl:6: line',
    'bad.jsonl:7: prompt[0].content',
    'bad.jsonl:8: rejected',
    'bad.jsonl:9: scores',
    'bad.jsonl:10: id',
    'bad.jsonl:11: line',
    'bad.jsonl:12: rejected',
  ]);
  assert.equal(printed[0], 'bad.jsonl:2: responses[1].text: expected a string, got number');
  assert.equal(printed[7], 'bad.jsonl:10: id: duplicate id "ok1", first on line 1; line skipped');
  // a string prompt beside a message list is TRL's implicit-prompt case (maybe_extract_prompt): rejected must be messages too
  assert.equal(printed[9], 'bad.jsonl:12: rejected: expected a list of messages, got string');
  assert.ok(issues.every((i) => i.severity === 'error'));
  assert.equal(readFileSync(path, 'utf8'), lines.join('\n'), 'input file untouched');
});

test('duplicate ids: a written id is an error on the later line, a repeated id-less item a warning; reader and index agree', async () => {
  const lines = [
    '{"id":"q1","prompt":"p","responses":["a","b"]}', // 1
    '{"prompt":"same","responses":["x","y"]}', // 2: content id
    '', // 3 blank
    '{"id":"q1","prompt":"other","responses":["c","d"]}', // 4: written id taken by line 1 → error
    '{"prompt":"same","responses":["x","y"]}', // 5: same content as line 2 → warning
    '{"id":"q1","prompt":"p","responses":["a","b"]}', // 6: line 1 repeated, written id → still an error
    '{"prompt":"same","responses":["x","z"]}', // 7: other content, other content id: fine
    'HASH_LINE', // 8: a written id equal to line 2's content id → error (the file names it)
    '{"id":"q9","prompt":"p","responses":["a","b"]}', // 9: same content as line 1 but its own id: fine
  ];
  // Line 2's content id, computed here from the documented rule (sha256 of canonical prompt + texts).
  const hashId = `h:${createHash('sha256').update('{"prompt":"same","responses":["x","y"]}').digest('hex').slice(0, 16)}`;
  lines[7] = JSON.stringify({ id: hashId, prompt: 'elsewhere', responses: ['e', 'f'] });
  const path = write('dups.jsonl', lines.join('\n') + '\n');
  const expected = [
    { line: 4, field: 'id', severity: 'error', message: 'duplicate id "q1", first on line 1; line skipped' },
    { line: 5, field: 'id', severity: 'warning', message: `duplicate item: same prompt and responses as line 2 (content id "${hashId}"); line skipped` },
    { line: 6, field: 'id', severity: 'error', message: 'duplicate id "q1", first on line 1; line skipped' },
    { line: 8, field: 'id', severity: 'error', message: `duplicate id "${hashId}", first on line 2; line skipped` },
  ].map((i) => ({ file: 'dups.jsonl', ...i }));

  const { items, issues } = await readTasks(path, { displayName: 'dups.jsonl' });
  assert.deepEqual(items.map((i) => i.line), [1, 2, 7, 9], 'the first line of each id is kept');
  assert.deepEqual(issues, expected);

  // The lazy index reports the same issues on the same entries, and gives no item and no id for them.
  const index = TaskIndex.open(path, 'dups.jsonl');
  const seen: { line: number; id?: string; issues: unknown[] }[] = [];
  for await (const r of index.items()) seen.push({ line: r.line, id: r.item?.id, issues: r.issues });
  assert.deepEqual(seen.map((r) => r.line), [1, 2, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(seen.filter((r) => r.id !== undefined).map((r) => r.line), [1, 2, 7, 9]);
  assert.deepEqual(seen.flatMap((r) => r.issues), expected);
  const ids = await Promise.all(seen.map((_, i) => index.idAt(i)));
  assert.deepEqual(ids, ['q1', hashId, null, null, null, items[2].id, null, 'q9']);
  assert.equal(await index.idAt(seen.length), null, 'past the end');
});

test('lazy index: first items before the index is complete, then random access by position', async () => {
  const n = 20000;
  const lines: string[] = [];
  for (let i = 0; i < n; i++) lines.push(JSON.stringify({ id: `t${i}`, prompt: `What is ${i} + 1?`, responses: [String(i + 1), String(i)] }));
  const path = write('big.jsonl', lines.join('\n') + '\n');
  const index = TaskIndex.open(path);
  const first = await index.get(0);
  assert.equal(first?.item?.id, 't0');
  assert.equal(index.isComplete, false, 'item 0 came before the pass finished');
  const seen: string[] = [];
  for await (const r of index.items()) {
    seen.push(r.item?.id ?? '');
    if (seen.length === 3) break;
  }
  assert.deepEqual(seen, ['t0', 't1', 't2']);
  assert.equal(await index.complete, n);
  for (const i of [n - 1, 12345, 1]) {
    const r = await index.get(i);
    assert.equal(r?.item?.id, `t${i}`);
    assert.equal(r?.line, i + 1);
  }
  assert.equal(await index.get(n), undefined);
});

test('a directory or UTF-16 file is refused naming it; binary lines are "not UTF-8 text"; a mis-encoded JSON line is kept with a warning', async () => {
  const folder = join(dir, 'folder.jsonl');
  mkdirSync(folder);
  await assert.rejects(readTasks(folder), (err: Error) => err.message === `${folder}: is a directory, not a JSONL file`);
  await assert.rejects(readAnnotationLog(folder), /is a directory, not a JSONL file/);
  await assert.rejects(TaskIndex.open(folder).get(0), /is a directory/);
  // PowerShell's `>` writes UTF-16LE with a byte-order mark: refused as a whole, saying what to do.
  const utf16 = write('utf16.jsonl', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('{"prompt":"p","responses":["a","b"]}\r\n', 'utf16le')]));
  await assert.rejects(readTasks(utf16), (err: Error) => err.message === `${utf16}: UTF-16 text (byte-order mark FF FE); save the file as UTF-8`);

  const lines = [
    Buffer.from('{"id":"ok","prompt":"p","responses":["a","b"]}'), // 1: fine
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x1a, 0x00, 0xff, 0x1b, 0x5b, 0x33, 0x31, 0x6d]), // 2: PNG-like bytes + an ANSI escape
    Buffer.from('{"id":"latin1","prompt":"caf\xe9","responses":["a","b"]}', 'latin1'), // 3: JSON, but é as one Latin-1 byte
    Buffer.from('\x1b[2J{not json', 'latin1'), // 4: valid UTF-8 (ASCII) but not JSON: V8's message quotes the escape
  ];
  const path = write('binary.jsonl', Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])));
  const { items, issues } = await readTasks(path, { displayName: 'binary.jsonl' });
  assert.deepEqual(items.map((i) => [i.id, i.prompt]), [['ok', 'p'], ['latin1', 'caf\ufffd']]);
  assert.deepEqual(issues.slice(0, 2).map(formatIssue), [
    'binary.jsonl:2: line: not UTF-8 text (a binary file, or a file saved in another encoding?)',
    'binary.jsonl:3: line: warning: invalid UTF-8 bytes, read as U+FFFD (save the file as UTF-8)',
  ]);
  assert.equal(issues.length, 3);
  assert.match(formatIssue(issues[2]), /^binary\.jsonl:4: line: invalid JSON \(/);
  assert.ok(!/[\u0000-\u001f]/.test(formatIssue(issues[2])), 'control characters of the line are escaped in the message');
  assert.match(formatIssue(issues[2]), /\\u001b/);
  // The lazy index reports each line exactly as the reader does.
  const index = TaskIndex.open(path, 'binary.jsonl');
  const fromIndex = [];
  for await (const r of index.items()) fromIndex.push(...r.issues);
  assert.deepEqual(fromIndex, issues);
  // An annotation log with the same kinds of lines.
  const log = write('binary.annotations.jsonl', Buffer.concat([lines[1], Buffer.from('\n'),
    Buffer.from('{"v":1,"item":"caf\xe9","annotator":"a","ts":"2026-01-01T00:00:00Z","kind":"flag","flagged":true}\n', 'latin1')]));
  const read = await readAnnotationLog(log, { displayName: 'x.log' });
  assert.deepEqual(read.issues.map(formatIssue), [
    'x.log:1: line: not UTF-8 text (a binary file, or a file saved in another encoding?); skipped',
    'x.log:2: line: warning: invalid UTF-8 bytes, read as U+FFFD (save the file as UTF-8)',
  ]);
  assert.deepEqual(read.events.map((e) => e.event.item), ['caf\ufffd']);
});

/** TRL's implicit-prompt split, written independently over code points (Python's str indexing). */
function trlSplitByCodePoints(chosen: string, rejected: string): [string, string, string] {
  const c = Array.from(chosen);
  const r = Array.from(rejected);
  let idx = 0;
  while (idx < Math.min(c.length, r.length) && c[idx] === r[idx]) idx++;
  if (idx > 0 && c[idx - 1] === ' ') idx--;
  return [c.slice(0, idx).join(''), c.slice(idx).join(''), r.slice(idx).join('')];
}

test('implicit-prompt pairs split on code points as TRL does: a surrogate pair (emoji) is never cut in half', async () => {
  const pairs: [string, string][] = [
    ['I feel 😀 today', 'I feel 😃 today'], // same high surrogate, different low one
    ['I feel😀', 'I feel😃'], // no space before the split
    ['Answer: 𝔸', 'Answer: 𝔹'], // astral letters
    ['漢字 is 日本', '漢字 is 中国'], // CJK (one UTF-16 unit each)
    ['The sky is blue.', 'The sky is green.'], // the plain case, space moved to the completion
  ];
  const path = write('implicit.jsonl', pairs.map(([chosen, rejected]) => JSON.stringify({ chosen, rejected })).join('\n'));
  const { items, issues } = await readTasks(path);
  assert.deepEqual(issues, []);
  assert.deepEqual(items.map((it) => [it.prompt, it.responses[0].text, it.responses[1].text]), pairs.map(([c, r]) => trlSplitByCodePoints(c, r)));
  for (const it of items) {
    for (const text of [it.prompt as string, ...it.responses.map((x) => x.text)]) {
      assert.ok(!/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text), `no lone surrogate: ${JSON.stringify(text)}`);
    }
  }
});

test('integer ids beyond 2^53 are refused (JSON.parse would round two different ids into one); safe ones read as strings', async () => {
  const lines = [
    '{"id":12345678901234567891,"prompt":"a","responses":["x","y"]}', // both round to 12345678901234567000
    '{"id":12345678901234567892,"prompt":"b","responses":["x","y"]}',
    '{"id":9007199254740991,"prompt":"c","responses":["x","y"]}', // 2^53 - 1: exact
    '{"id":-42,"prompt":"d","responses":["x","y"]}',
    '{"id":"","prompt":"e","responses":["x","y"]}',
  ];
  const { items, issues } = await readTasks(write('bigids.jsonl', lines.join('\n')), { displayName: 'bigids.jsonl' });
  assert.deepEqual(items.map((i) => i.id), ['9007199254740991', '-42']);
  const rounded = String(Number('12345678901234567891'));
  assert.deepEqual(issues.map(formatIssue), [
    `bigids.jsonl:1: id: integer beyond 2^53 cannot be read exactly (read as ${rounded}); write the id as a string`,
    `bigids.jsonl:2: id: integer beyond 2^53 cannot be read exactly (read as ${rounded}); write the id as a string`,
    'bigids.jsonl:5: id: expected a non-empty string or an integer, got an empty string',
  ]);
});
