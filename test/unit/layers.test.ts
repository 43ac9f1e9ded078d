/**
 * The layer rules (scripts/layers.mjs, run first by scripts/build.mjs): the tree keeps them, and each
 * rule is caught when broken in a planted tree (core importing the engine, vscode outside src/host, a
 * webview value import that would pull Node code into the browser bundle, the host importing webview
 * code that is not a protocol type, src importing a test), and the build refuses such a tree.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
// @ts-expect-error -- a plain ES module without type declarations
import { layerViolations } from '../../scripts/layers.mjs';
import { repoRoot } from './train-fixtures';

const violations = layerViolations as (root: string) => string[];

test('every import of src/ and webview/ keeps to its layer', () => {
  assert.deepEqual(violations(repoRoot), []);
});

/** A tree that breaks every rule once (and keeps the allowed imports beside them). */
function plantedTree(): string {
  const root = mkdtempSync(join(tmpdir(), 'dap-layers-'));
  const files: Record<string, string> = {
    'src/core/pure.ts': "/** imports nothing */\nexport const x = 1;\n",
    'src/core/reader.ts': "import { readFileSync } from 'node:fs';\nexport const read = readFileSync;\n",
    'src/core/bad.ts': "import { model } from '../engine/model';\nexport const y = model;\n",
    'src/engine/model.ts': "import type { x } from '../core/pure';\nimport { cpus } from 'node:os';\nexport const model = cpus().length;\n// import { nope } from '../train/nope';\n",
    'src/train/job.ts': "import * as vscode from 'vscode';\nimport { helper } from '../../test/unit/helper';\nexport { vscode, helper };\n",
    'src/cli/cmd.ts': "import { panel } from '../host/panel';\nexport const c = panel;\n",
    'src/host/panel.ts': [
      "import type { Msg } from '../../webview/protocol/msgs';",
      "import { view } from '../../webview/app/view';",
      "import type { View } from '../../webview/app/view';",
      'export const panel = 1;',
    ].join('\n'),
    'webview/protocol/msgs.ts': "import type { x } from '../../src/core/pure';\nexport type Msg = { x: typeof x };\n",
    'webview/app/view.ts': [
      "import { x } from '../../src/core/pure';",
      "import type { read } from '../../src/core/reader';",
      "import {\n  read as r,\n} from '../../src/core/reader';",
      "const later = () => import('../../src/core/bad');",
      'export const view = [x, r, later];',
      'export type View = string;',
    ].join('\n'),
    'test/unit/helper.ts': 'export const helper = 1;\n',
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, dirname(path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

test('each broken layer rule is reported, naming the file and the import', () => {
  const root = plantedTree();
  const found = violations(root).map((v) => v.replace(/: [^:]*$/, ''));
  assert.deepEqual(found.sort(), [
    'src/cli/cmd.ts: imports ../host/panel',
    'src/core/bad.ts: imports ../engine/model',
    'src/host/panel.ts: imports ../../webview/app/view',
    'src/host/panel.ts: imports ../../webview/app/view',
    'src/train/job.ts: imports ../../test/unit/helper',
    'src/train/job.ts: imports vscode',
    'webview/app/view.ts: imports ../../src/core/bad',
    'webview/app/view.ts: imports ../../src/core/reader',
  ]);
});

test('the build fails on a broken layer, naming it', () => {
  const root = plantedTree();
  mkdirSync(join(root, 'scripts'));
  for (const f of ['build.mjs', 'layers.mjs']) copyFileSync(join(repoRoot, 'scripts', f), join(root, 'scripts', f));
  symlinkSync(join(repoRoot, 'node_modules'), join(root, 'node_modules'));
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 1, r.stdout);
  assert.match(r.stderr, /^build: layers: src\/core\/bad\.ts: imports \.\.\/engine\/model: src\/core may import only src\/core$/m);
  assert.match(r.stderr, /^build: layers: src\/train\/job\.ts: imports vscode: /m);
});
