// The layer rules of DAP Studio, checked on the imports of every source file (README "Architecture"):
//   src/core    imports nothing of the project outside src/core (the ground floor);
//   src/engine  imports only src/core;
//   src/train   imports only src/core and src/engine;
//   src/cli     imports src/core, src/engine, src/train (never src/host or webview/);
//   src/host    imports src/core, src/engine, src/train, and from webview/ only types of webview/protocol/;
//   `vscode`    is imported only in src/host and src/extension.ts;
//   webview/    imports from outside webview/ only types, and values only from files that run in a browser
//               as they are: files that import no Node module, no package and no such file that does
//               (today src/core/assertUnreachable.ts, src/core/duration.ts, src/train/runs/lora.ts);
//   nothing     imports test/, bench/ or scripts/ from src/ or webview/.
// `node scripts/build.mjs` runs this check first and fails on any violation; test/unit/layers.test.ts
// runs it on the tree and on planted violations. Usage: node scripts/layers.mjs [ROOT] (exit 1 on violations).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `text` with its comments blanked out (string and template literals are kept as they are). */
function withoutComments(text) {
  let out = '';
  for (let i = 0; i < text.length; ) {
    const c = text[i];
    if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
      out += ' ';
    } else if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      while (j < text.length && text[j] !== c && (c === '`' || text[j] !== '\n')) j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** One import of a file: its specifier and whether it brings only types. */
function importsOf(text) {
  const out = [];
  const code = withoutComments(text);
  const from = /(?:^|[\n;])\s*(import|export)\s+(type\s+)?([^'"`;]*?)\s+from\s+['"]([^'"]+)['"]/g;
  for (const m of code.matchAll(from)) {
    const clause = m[3].trim();
    let typeOnly = Boolean(m[2]);
    // `import { type A, type B } from` brings only types too.
    const named = /^\{([\s\S]*)\}$/.exec(clause);
    if (!typeOnly && named) {
      const parts = named[1].split(',').map((p) => p.trim()).filter(Boolean);
      typeOnly = parts.length > 0 && parts.every((p) => p.startsWith('type '));
    }
    out.push({ spec: m[4], typeOnly });
  }
  for (const m of code.matchAll(/(?:^|[\n;])\s*import\s+['"]([^'"]+)['"]/g)) out.push({ spec: m[1], typeOnly: false });
  for (const m of code.matchAll(/\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)(\s*\.)?/g)) out.push({ spec: m[1], typeOnly: Boolean(m[2]) });
  for (const m of code.matchAll(/\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push({ spec: m[1], typeOnly: false });
  return out;
}

/** The script part of a Svelte component (what it imports). */
function scriptOf(file, text) {
  if (!file.endsWith('.svelte')) return text;
  return [...text.matchAll(/<script[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]).join('\n');
}

function sourceFiles(root, dir) {
  const out = [];
  const walk = (d) => {
    if (!existsSync(d)) return;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'node_modules') walk(p);
      } else if (/\.(ts|svelte|mjs|js)$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p);
    }
  };
  walk(join(root, dir));
  return out;
}

/** The project file a relative specifier names (undefined for packages, node: modules and assets). */
function resolveSpec(root, file, spec) {
  if (!spec.startsWith('.')) return undefined;
  const base = resolve(dirname(file), spec);
  for (const cand of [base, `${base}.ts`, join(base, 'index.ts'), `${base}.svelte`]) {
    if (existsSync(cand) && statSync(cand).isFile()) return relative(root, cand).split(sep).join('/');
  }
  return undefined;
}

/** Which layer a project path is on. */
function layerOf(path) {
  if (path === 'src/extension.ts') return 'extension';
  const m = /^src\/(core|engine|train|cli|host)\//.exec(path);
  if (m) return m[1];
  if (path.startsWith('webview/')) return 'webview';
  if (/^(test|bench|scripts)\//.test(path)) return 'tooling';
  return 'other';
}

/** What each src layer may import (value or type) of the project. */
const MAY_IMPORT = {
  core: ['core'],
  engine: ['core', 'engine'],
  train: ['core', 'engine', 'train'],
  cli: ['core', 'engine', 'train', 'cli'],
  host: ['core', 'engine', 'train', 'host', 'webview'],
  extension: ['host'],
};

/**
 * Every broken rule under `root`, as "FILE: imports SPEC: why" lines (empty when the layers hold).
 * Imports are read from the text (type-only imports told apart); tooling (test/, bench/, scripts/) is not checked.
 */
export function layerViolations(root) {
  root = resolve(root);
  const files = [...sourceFiles(root, 'src'), ...sourceFiles(root, 'webview')];
  const parsed = new Map();
  const importsOfPath = (path) => {
    if (!parsed.has(path)) {
      const abs = join(root, path);
      parsed.set(path, existsSync(abs) ? importsOf(scriptOf(abs, readFileSync(abs, 'utf8'))).map((i) => ({ ...i, target: resolveSpec(root, abs, i.spec) })) : []);
    }
    return parsed.get(path);
  };
  // A file runs in a browser as it is when it imports no Node module or package, and only such files.
  const portable = new Map();
  const isPortable = (path, seen = new Set()) => {
    if (portable.has(path)) return portable.get(path);
    if (seen.has(path)) return true;
    seen.add(path);
    const ok = importsOfPath(path).every((i) => i.typeOnly || (i.target !== undefined && isPortable(i.target, seen)) || /\.css$/.test(i.spec));
    portable.set(path, ok);
    return ok;
  };
  const problems = [];
  for (const abs of files) {
    const path = relative(root, abs).split(sep).join('/');
    const layer = layerOf(path);
    for (const i of importsOfPath(path)) {
      const say = (why) => problems.push(`${path}: imports ${i.spec}: ${why}`);
      if (i.spec === 'vscode') {
        if (layer !== 'host' && layer !== 'extension') say('vscode is imported only in src/host (and src/extension.ts)');
        continue;
      }
      if (!i.target) continue;
      const to = layerOf(i.target);
      if (to === 'tooling') {
        say('src/ and webview/ never import tests, benchmarks or scripts');
        continue;
      }
      if (layer === 'webview') {
        if (to !== 'webview' && !i.typeOnly && !isPortable(i.target)) say(`webview/ imports from outside webview/ only types, or files that import no Node module or package (${i.target} does, or imports one that does)`);
        continue;
      }
      const allowed = MAY_IMPORT[layer];
      if (allowed && !allowed.includes(to)) {
        say(`${layer === 'extension' ? 'src/extension.ts' : `src/${layer}`} may import only ${allowed.map((l) => (l === 'webview' ? 'webview/protocol types' : `src/${l}`)).join(', ')}`);
        continue;
      }
      if (layer === 'host' && to === 'webview' && (!i.typeOnly || !i.target.startsWith('webview/protocol/'))) say('src/host imports from webview/ only types of webview/protocol/');
    }
  }
  return problems;
}

if (process.argv[1] && normalize(process.argv[1]) === normalize(fileURLToPath(import.meta.url))) {
  const root = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..');
  const problems = layerViolations(root);
  for (const p of problems) console.error(`layers: ${p}`);
  if (problems.length) process.exit(1);
  console.log('layers: every import keeps to its layer');
}
