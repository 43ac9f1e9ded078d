/**
 * Writes the settings derived from the training-config declaration (src/train/config/schema.ts) into
 * package.json's contributes.configuration.properties, keeping every other setting and the key order.
 * Run after changing a config field: `node --import tsx scripts/gen-settings-schema.ts` (a unit test fails
 * while package.json is stale). `--check` exits 1 instead of writing when package.json differs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { settingsSchemas } from '../src/train/config/schema';

/** package.json's text with the generated settings in place (a new setting goes after dapStudio.train.backend, or at the end). */
export function packageJsonWithSettings(text: string): string {
  const pkg = JSON.parse(text) as { contributes: { configuration: { properties: Record<string, unknown> } } };
  const props = pkg.contributes.configuration.properties;
  const generated = settingsSchemas();
  const next: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(props)) {
    next[k] = k in generated ? generated[k] : v;
    if (k === 'dapStudio.train.backend') for (const [g, gv] of Object.entries(generated)) if (!(g in props)) next[g] = gv;
  }
  for (const [g, gv] of Object.entries(generated)) if (!(g in next)) next[g] = gv;
  pkg.contributes.configuration.properties = next;
  return JSON.stringify(pkg, null, 2) + '\n';
}

const isEntry = process.argv[1]?.replace(/\\/g, '/').endsWith('scripts/gen-settings-schema.ts');
if (isEntry) {
  const path = join(import.meta.dirname, '..', 'package.json');
  const text = readFileSync(path, 'utf8');
  const next = packageJsonWithSettings(text);
  if (process.argv.includes('--check')) {
    if (next !== text) {
      process.stderr.write('package.json: the generated training settings are stale; run node --import tsx scripts/gen-settings-schema.ts\n');
      process.exit(1);
    }
  } else if (next !== text) {
    writeFileSync(path, next);
    process.stdout.write('package.json: training settings regenerated\n');
  } else process.stdout.write('package.json: training settings up to date\n');
}
