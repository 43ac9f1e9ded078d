/**
 * Files shipped with DAP Studio (media/: the sample data, the built-in model's weights), found from the
 * running code: beside the bundle (dist/../media), beside the sources (src/<folder>/../../media), or under
 * the current directory (a checkout).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** The path of a shipped file or folder under media/, or an error naming where it was looked for. */
export function shippedPath(...parts: string[]): string {
  const here = typeof __dirname !== 'undefined' ? __dirname : process.cwd();
  const roots = [join(here, '..'), join(here, '..', '..'), process.cwd()];
  const candidates = roots.map((r) => join(r, 'media', ...parts));
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new Error(`media/${parts.join('/')} not found (looked in ${candidates.join(', ')})`);
  return found;
}
