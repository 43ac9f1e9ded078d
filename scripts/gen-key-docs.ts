/**
 * Writes the annotator's key tables into README.md (the overlay's short texts) and
 * webview/annotator/README-keys.md (the manual's texts) from the one key map, webview/annotator/keys.ts,
 * between the marker lines KEY_TABLE_START and KEY_TABLE_END; the rest of each file is kept as it is.
 * Run after changing a key: `node --import tsx scripts/gen-key-docs.ts` (a unit test fails while a table is
 * stale). `--check` exits 1 instead of writing when a file differs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { manualRows } from '../webview/annotator/keys';

export const KEY_TABLE_START = '<!-- key table: generated from webview/annotator/keys.ts by scripts/gen-key-docs.ts; edit the keys there -->';
export const KEY_TABLE_END = '<!-- end of the generated key table -->';

/** The files that hold a key table, and which text each shows: the overlay's short one or the manual's. */
export const KEY_DOCS = [
  { path: 'README.md', text: 'help' },
  { path: 'webview/annotator/README-keys.md', text: 'manual' },
] as const;

const cell = (s: string) => s.replace(/\|/g, '\\|');

/** The Markdown table of every row of the key map. */
export function keyTable(text: 'help' | 'manual'): string {
  const lines = ['| Keys | Mode | Action |', '|---|---|---|'];
  for (const row of manualRows()) {
    const keys = row.label ?? row.keys.map((k) => `\`${k}\``).join(' / ');
    lines.push(`| ${cell(keys)} | ${row.mode} | ${cell(row[text])} |`);
  }
  return lines.join('\n');
}

/** `doc` (the text of `path`) with its key table regenerated; throws when the markers are missing. */
export function withKeyTable(path: string, doc: string, text: 'help' | 'manual'): string {
  const start = doc.indexOf(KEY_TABLE_START);
  const end = doc.indexOf(KEY_TABLE_END);
  if (start < 0 || end < start) throw new Error(`${path}: no generated key table (the lines ${KEY_TABLE_START} and ${KEY_TABLE_END})`);
  return `${doc.slice(0, start)}${KEY_TABLE_START}\n${keyTable(text)}\n${doc.slice(end)}`;
}

const isEntry = process.argv[1]?.replace(/\\/g, '/').endsWith('scripts/gen-key-docs.ts');
if (isEntry) {
  let stale = false;
  for (const { path, text } of KEY_DOCS) {
    const file = join(import.meta.dirname, '..', path);
    const doc = readFileSync(file, 'utf8');
    const next = withKeyTable(path, doc, text);
    if (next === doc) process.stdout.write(`${path}: key table up to date\n`);
    else if (process.argv.includes('--check')) {
      process.stderr.write(`${path}: the key table is stale; run node --import tsx scripts/gen-key-docs.ts\n`);
      stale = true;
    } else {
      writeFileSync(file, next);
      process.stdout.write(`${path}: key table regenerated\n`);
    }
  }
  if (stale) process.exit(1);
}
