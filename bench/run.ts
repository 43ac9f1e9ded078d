/**
 * Benchmark runner: `npm run bench [-- NAME...]` runs every bench/*.bench.ts (or only those whose file
 * name contains one of the NAMEs), each exporting `async function run(): Promise<Record<string, unknown>>`,
 * and prints ONE JSON object { machine, results: { name: result | { error } } } to stdout.
 * Progress goes to stderr.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import os from 'node:os';

async function main(): Promise<void> {
  const filters = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const dir = __dirname;
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.bench.ts'))
    .filter((f) => filters.length === 0 || filters.some((n) => f.includes(n)))
    .sort();
  if (files.length === 0) {
    process.stderr.write(`bench: no bench/*.bench.ts matches ${filters.join(', ') || '(any)'}\n`);
    process.exitCode = 1;
  }
  const results: Record<string, unknown> = {};
  let failed = false;
  for (const f of files) {
    const name = f.replace(/\.bench\.ts$/, '');
    process.stderr.write(`bench: ${name} ...\n`);
    const t0 = performance.now();
    try {
      const mod = (await import(join(dir, f))) as { run?: () => Promise<Record<string, unknown>> };
      if (typeof mod.run !== 'function') throw new Error(`${f} does not export run()`);
      results[name] = await mod.run();
    } catch (err) {
      failed = true;
      results[name] = { error: err instanceof Error ? err.message : String(err) };
    }
    process.stderr.write(`bench: ${name} done in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  const machine = {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    date: new Date().toISOString(),
  };
  process.stdout.write(JSON.stringify({ machine, results }, null, 2) + '\n');
  if (failed) process.exitCode = 1;
}

void main();
