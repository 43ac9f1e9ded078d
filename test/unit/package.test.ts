/**
 * Packaging check: builds the bundles, runs the manifest's `package` script (`vsce package
 * --no-dependencies ...`) into a temp folder and reads the .vsix's zip central directory to check what
 * ships — the bundles, every webview asset and tfjs wasm binary found in dist/, the icons and sample
 * data under media/, the torch executor's Python package python/dap_train/ (+ CONTRACT.md), package.json,
 * README, LICENSE — and what must not (sources, tests, node_modules, CI and scripts, source maps, the
 * README screenshots, Python byte-code); prints the size and checks it stays under a sane
 * bound. Also: the build makes dist/cli.js an executable script (node shebang, mode 0755).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..', '..');
const MAX_VSIX_BYTES = 30 * 1024 * 1024;

interface ZipEntry {
  name: string;
  compressedSize: number;
  size: number;
}

/** Entries of a zip file, read from its central directory (no zip64: a .vsix here is far below 4 GB). */
export function zipEntries(zip: Buffer): ZipEntry[] {
  const EOCD = 0x06054b50;
  const CENTRAL = 0x02014b50;
  let eocd = -1;
  // The end-of-central-directory record is 22 bytes plus a comment of up to 65 535 bytes.
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip file: no end-of-central-directory record');
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const entries: ZipEntry[] = [];
  for (let n = 0; n < count; n++) {
    if (zip.readUInt32LE(at) !== CENTRAL) throw new Error(`bad central directory header at byte ${at}`);
    const compressedSize = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    entries.push({ name: zip.toString('utf8', at + 46, at + 46 + nameLength), compressedSize, size });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** Files under `dir` (relative paths with '/'), recursively. */
function filesUnder(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
  );
}

test('vsce packages the extension with the bundles and without sources, tests or source maps', () => {
  execFileSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'pipe' });
  const out = mkdtempSync(join(tmpdir(), 'dap-vsix-'));
  try {
    const vsix = join(out, 'x.vsix');
    // Runs the manifest's own `package` script (vsce package --no-dependencies ...), into a temp file.
    const script = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.package;
    const [tool, ...args] = script.split(/\s+/);
    assert.equal(tool, 'vsce', `the package script runs vsce: ${script}`);
    assert.ok(args.includes('--no-dependencies'), 'bundles ship without node_modules');
    const vsce = join(root, 'node_modules/@vscode/vsce/vsce');
    execFileSync(process.execPath, [vsce, ...args, '-o', vsix], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 120_000,
    });
    const bytes = statSync(vsix).size;
    const entries = zipEntries(readFileSync(vsix));
    const names = new Set(entries.map((e) => e.name));
    // vsce stores the README as extension/readme.md and the licence as extension/LICENSE.txt.
    const lowerNames = new Set(entries.map((e) => e.name.toLowerCase().replace(/^extension\/license\.txt$/, 'extension/license')));
    console.log(`vsix: ${(bytes / 1024 / 1024).toFixed(2)} MB, ${entries.length} files`);

    // The manifest's own files, independently of vsce: these exist on disk and must ship.
    const required = ['package.json', 'README.md', 'LICENSE', 'dist/extension.js'];
    for (const optional of ['dist/cli.js', 'dist/worker.js']) if (existsSync(join(root, optional))) required.push(optional);
    const webviewAssets = filesUnder(join(root, 'dist/webview')).filter((f) => !f.endsWith('.map')).map((f) => `dist/webview/${f}`);
    const wasm = filesUnder(join(root, 'dist/wasm')).filter((f) => f.endsWith('.wasm')).map((f) => `dist/wasm/${f}`);
    assert.ok(wasm.length >= 1, 'the build copies the tfjs wasm binaries to dist/wasm');
    const native = filesUnder(join(root, 'dist/native')).filter((f) => f.endsWith('.node')).map((f) => `dist/native/${f}`);
    assert.ok(native.includes('dist/native/linux-x64/dap-kernels.node'), `the build copies the prebuilt native kernels to dist/native: ${native}`);
    wasm.push(...native);
    // The manifest's icons, the sample data `dap demo` trains on and the pretrained built-in model.
    const media = ['icons', 'samples', 'builtin'].flatMap((d) => filesUnder(join(root, 'media', d)).map((f) => `media/${d}/${f}`));
    assert.ok(media.some((f) => f.endsWith('.svg')) && media.some((f) => f.endsWith('.jsonl')), `media files found: ${media.join(', ')}`);
    assert.ok(media.includes('media/builtin/model.safetensors') && media.includes('media/builtin/config.json'), `the built-in model ships: ${media.join(', ')}`);
    // The torch executor's Python package (src/train/torch/env.ts finds it beside dist/; run as `python -m dap_train`) and its contract.
    const python = filesUnder(join(root, 'python')).filter((f) => f.endsWith('.py') || f === 'CONTRACT.md').map((f) => `python/${f}`);
    for (const f of ['python/CONTRACT.md', 'python/dap_train/__main__.py', 'python/dap_train/losses/__init__.py']) assert.ok(python.includes(f), `${f} exists`);
    for (const f of [...required, ...webviewAssets, ...wasm, ...media, ...python]) {
      assert.ok(lowerNames.has(`extension/${f}`.toLowerCase()), `${f} is missing from the vsix: ${[...names].join(', ')}`);
    }
    // Shipped entries keep their sizes (a truncated bundle would still be "present").
    const shipped = entries.find((e) => e.name === 'extension/dist/extension.js');
    assert.equal(shipped?.size, statSync(join(root, 'dist/extension.js')).size);

    // README screenshots are served from the repository (--baseImagesUrl), not shipped.
    const forbidden = [/^extension\/src\//, /^extension\/test\//, /^extension\/node_modules\//, /^extension\/\.ci\//,
      /^extension\/scripts\//, /^extension\/webview\//, /^extension\/bench\//, /^extension\/runs\//, /^extension\/media\/screenshots\//, /\.map$/, /\.vsix$/,
      /__pycache__/, /\.pyc$/];
    const leaked = [...names].filter((n) => forbidden.some((re) => re.test(n)));
    assert.deepEqual(leaked, [], `files that must not ship: ${leaked.slice(0, 20).join(', ')}`);
    assert.ok(bytes < MAX_VSIX_BYTES, `vsix is ${bytes} bytes, over the ${MAX_VSIX_BYTES}-byte bound`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('the build leaves dist/cli.js executable, starting with a node shebang, so ./dist/cli.js runs', () => {
  const cli = join(root, 'dist/cli.js');
  if (existsSync(cli)) chmodSync(cli, 0o644); // the build must set the mode itself, not inherit it
  execFileSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'pipe' });
  assert.equal(statSync(cli).mode & 0o777, 0o755);
  assert.equal(readFileSync(cli, 'utf8').split('\n', 1)[0], '#!/usr/bin/env node');
  // Run the file itself (the kernel reads the shebang), with this test's node first on PATH.
  const help = execFileSync(cli, ['--help'], { cwd: root, encoding: 'utf8', env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` } });
  assert.match(help, /^Usage: dap COMMAND/);
});

test('zipEntries rejects a file that is not a zip', () => {
  assert.throws(() => zipEntries(Buffer.alloc(100)), /not a zip file/);
});
