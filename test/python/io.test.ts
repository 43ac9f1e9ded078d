/**
 * The torch executor's file safety (CONTRACT.md §3): folders are written into a temporary sibling and
 * renamed into place, so a failure while writing leaves neither a half-written folder nor a temp folder and
 * keeps the previous folder of that name intact, and a successful write replaces it whole; a model folder
 * holding only pickle weights is refused without being opened, naming the file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startPython, tempDir } from './fixtures';

const SCRIPT = `
import os, sys
from dap_train.folders import atomic_folder
from dap_train.model_io import weight_files
root = sys.argv[1]
dest = os.path.join(root, "ckpt")
with atomic_folder(dest) as tmp:
    open(os.path.join(tmp, "a.txt"), "w").write("first")
try:
    with atomic_folder(dest) as tmp:
        open(os.path.join(tmp, "a.txt"), "w").write("half")
        raise RuntimeError("disk full")
except RuntimeError:
    print("failed write raised", open(os.path.join(dest, "a.txt")).read(), sorted(os.listdir(root)))
with atomic_folder(dest) as tmp:
    open(os.path.join(tmp, "b.txt"), "w").write("second")
try:
    weight_files(os.path.join(root, "pickled"))
except ValueError as e:
    print("refused:", e)
`;

test('atomic folders: a failed write leaves the old folder and no temp; a good one replaces it whole; pickles refused', async () => {
  const dir = tempDir('io');
  mkdirSync(join(dir, 'pickled'));
  writeFileSync(join(dir, 'pickled', 'config.json'), '{}');
  writeFileSync(join(dir, 'pickled', 'pytorch_model.bin'), 'not opened');
  const r = await startPython(['-c', SCRIPT, dir]).done;
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines[0], "failed write raised first ['ckpt', 'pickled']", 'the old folder intact, no temp folder');
  assert.match(lines[1], /^refused: .*pickled\/pytorch_model\.bin: refusing to load a pickle checkpoint/);
  assert.deepEqual(readdirSync(dir).sort(), ['ckpt', 'pickled'], 'no temporary folders left');
  assert.deepEqual(readdirSync(join(dir, 'ckpt')), ['b.txt'], 'the second good write replaced the folder whole');
  assert.equal(readFileSync(join(dir, 'ckpt', 'b.txt'), 'utf8'), 'second');
  assert.ok(!existsSync(join(dir, 'ckpt', 'a.txt')));
});
