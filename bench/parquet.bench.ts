/**
 * `dap import` of Parquet streams row groups: UltraFeedback-binarized-shaped files (a string prompt, chosen and
 * rejected as list<struct<role, content>>, two scores; ~1.1 KB of text a row, 10,000 rows a row group, snappy)
 * of 50,000 and 500,000 rows written here with hyparquet-writer's incremental ParquetWriter, each imported in
 * its own process with its peak RSS and time. Memory flat in the file size means the larger file's peak is
 * close to the smaller one's (one row group's columns in memory, never the whole file).
 * Needs dist/cli.js (npm run build). Env: DAP_BENCH_PARQUET_ROWS=50000,500000 picks the sizes.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileWriter, ParquetWriter } from 'hyparquet-writer';
import { conversationColumn, textColumn } from '../test/parquet-fixtures';

const root = join(__dirname, '..');
const cli = join(root, 'dist', 'cli.js');
const GROUP = 10_000;

function writeFile(path: string, rows: number): void {
  const schema = [{ name: 'root', num_children: 4 }, textColumn('prompt'), ...conversationColumn('chosen'), ...conversationColumn('rejected'),
    { name: 'score_chosen', type: 'DOUBLE' as const, repetition_type: 'OPTIONAL' as const }];
  const writer = new ParquetWriter({ writer: fileWriter(path), schema });
  const pad = 'lorem ipsum dolor sit amet '.repeat(12);
  for (let start = 0; start < rows; start += GROUP) {
    const n = Math.min(GROUP, rows - start);
    const q = Array.from({ length: n }, (_, i) => `Question ${start + i}: ${pad}?`);
    writer.write({
      columnData: [
        { name: 'prompt', data: q },
        { name: 'chosen', data: q.map((x, i) => [{ role: 'user', content: x }, { role: 'assistant', content: `Good answer ${start + i}. ${pad}` }]) },
        { name: 'rejected', data: q.map((x, i) => [{ role: 'user', content: x }, { role: 'assistant', content: `Bad answer ${start + i}. ${pad}` }]) },
        { name: 'score_chosen', data: q.map((_, i) => (i % 10) / 2) },
      ],
      rowGroupSize: GROUP,
    });
  }
  writer.finish();
}

export async function run(): Promise<Record<string, unknown>> {
  if (!existsSync(cli)) throw new Error('dist/cli.js missing: run npm run build first');
  const sizes = (process.env.DAP_BENCH_PARQUET_ROWS ?? '50000,500000').split(',').map(Number);
  const dir = mkdtempSync(join(tmpdir(), 'dap-bench-parquet-'));
  try {
    const preload = join(dir, 'maxrss.cjs');
    writeFileSync(preload, "process.on('exit', () => process.stderr.write(`DAP_MAXRSS_KB=${process.resourceUsage().maxRSS}\\n`));\n");
    const out: Record<string, unknown> = {};
    for (const n of sizes) {
      const file = join(dir, `ultra${n}.parquet`);
      writeFile(file, n);
      const dest = join(dir, `ultra${n}.tasks.jsonl`);
      const t0 = performance.now();
      const r = spawnSync(process.execPath, ['--require', preload, cli, 'import', file, '--out', dest], { encoding: 'utf8' });
      const seconds = +((performance.now() - t0) / 1000).toFixed(2);
      const m = /DAP_MAXRSS_KB=(\d+)/.exec(r.stderr ?? '');
      out[`rows${n}`] = { parquetMB: +(statSync(file).size / 1e6).toFixed(1), jsonlMB: +(statSync(dest).size / 1e6).toFixed(1), rowGroups: Math.ceil(n / GROUP),
        seconds, peakRssMB: m ? Math.round(Number(m[1]) / 1024) : -1, exit: r.status, rowsPerSecond: Math.round(n / seconds) };
      rmSync(file);
      rmSync(dest);
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
