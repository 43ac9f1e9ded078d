// Prints the sha256 (first 16 hex digits) of native/src/*.{c,h} in name order: the native binary
// embeds it at build time, and a test compares it with the sources to catch a stale binary.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'native', 'src');
const h = createHash('sha256');
for (const f of readdirSync(dir).filter((n) => /\.(c|h)$/.test(n)).sort()) {
  h.update(f + '\0');
  h.update(readFileSync(join(dir, f)));
}
process.stdout.write(h.digest('hex').slice(0, 16));
