// Builds every bundle with esbuild: the extension host bundle, the CLI, the worker (training and review
// scoring), and the Svelte webview apps. First checks the layer rules (scripts/layers.mjs): an import
// across a layer is an error, and so is a missing entry (a moved file must be named here).
// Usage: node scripts/build.mjs [--watch] [--production]
import * as esbuild from 'esbuild';
import sveltePlugin from 'esbuild-svelte';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, readSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { layerViolations } from './layers.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

/** Packages that must stay outside the bundles: native or optional at run time. */
const nodeExternals = ['vscode', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'webgpu'];

const SHEBANG = '#!/usr/bin/env node';
/** Node bundles; `executable`: starts with SHEBANG and gets mode 0755, so `./dist/cli.js` runs from a clone. */
const nodeEntries = [
  { in: 'src/extension.ts', out: 'extension' },
  { in: 'src/cli/main.ts', out: 'cli', executable: true },
  { in: 'src/train/worker/main.ts', out: 'worker' },
  { in: 'src/cli/statsLogWorker.ts', out: 'statsLogWorker' },
];
const webEntries = [
  { in: 'webview/annotator/main.ts', out: 'annotator' },
  { in: 'webview/loss/main.ts', out: 'loss' },
  { in: 'webview/review/main.ts', out: 'review' },
];

const broken = layerViolations(root);
if (broken.length) {
  for (const line of broken) console.error(`build: layers: ${line}`);
  console.error('build: imports break the layer rules (scripts/layers.mjs, README "Architecture")');
  process.exit(1);
}

const missing = [...nodeEntries, ...webEntries].filter((e) => !existsSync(join(root, e.in)));
if (missing.length) {
  console.error(`build: missing entry point(s): ${missing.map((e) => e.in).join(', ')} (scripts/build.mjs names every bundle's source)`);
  process.exit(1);
}

const common = { bundle: true, sourcemap: !production, minify: production, logLevel: 'warning', absWorkingDir: root };

/** After every build of `dist/NAME.js` (watch rebuilds too): checks its first line is SHEBANG, sets 0755. */
function executablePlugin(name) {
  return {
    name: 'executable',
    setup(build) {
      build.onEnd((result) => {
        if (result.errors.length) return;
        const file = join(root, 'dist', `${name}.js`);
        const head = Buffer.alloc(SHEBANG.length + 1);
        const fd = openSync(file, 'r');
        try {
          readSync(fd, head, 0, head.length, 0);
        } finally {
          closeSync(fd);
        }
        if (head.toString('utf8') !== `${SHEBANG}\n`) {
          return { errors: [{ text: `dist/${name}.js does not start with "${SHEBANG}"` }] };
        }
        chmodSync(file, 0o755);
      });
    },
  };
}

const contexts = [];
for (const e of nodeEntries) {
  contexts.push(await esbuild.context({
    ...common,
    entryPoints: { [e.out]: e.in },
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: nodeExternals,
    banner: e.executable ? { js: SHEBANG } : undefined,
    plugins: e.executable ? [executablePlugin(e.out)] : [],
  }));
}
contexts.push(
  await esbuild.context({
    ...common,
    entryPoints: Object.fromEntries(webEntries.map((e) => [e.out, e.in])),
    outdir: 'dist/webview',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    mainFields: ['svelte', 'browser', 'module', 'main'],
    conditions: ['svelte', 'browser'],
    plugins: [sveltePlugin({ compilerOptions: { css: 'external' } })],
    loader: { '.ttf': 'file', '.woff': 'file', '.woff2': 'file' },
  }),
);

// tfjs' wasm backend loads its .wasm binaries at run time: ship them beside the node bundles.
const wasmSrc = join(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist');
if (existsSync(wasmSrc)) {
  mkdirSync(join(root, 'dist/wasm'), { recursive: true });
  for (const f of readdirSync(wasmSrc)) if (f.endsWith('.wasm')) copyFileSync(join(wasmSrc, f), join(root, 'dist/wasm', f));
}

// The native kernels (prebuilt, committed under native/prebuilt/PLATFORM/): ship them beside the bundles too.
const nativeSrc = join(root, 'native/prebuilt');
if (existsSync(nativeSrc)) {
  for (const platform of readdirSync(nativeSrc)) {
    const from = join(nativeSrc, platform, 'dap-kernels.node');
    if (!existsSync(from)) continue;
    mkdirSync(join(root, 'dist/native', platform), { recursive: true });
    copyFileSync(from, join(root, 'dist/native', platform, 'dap-kernels.node'));
  }
}

if (watch) {
  await Promise.all(contexts.map((c) => c.watch()));
  console.log('build: watching');
} else {
  await Promise.all(contexts.map((c) => c.rebuild()));
  await Promise.all(contexts.map((c) => c.dispose()));
  console.log(`build: ${contexts.length} bundle group(s) written to dist/`);
}
