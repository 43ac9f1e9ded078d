/**
 * Data commands stream: `dap validate`, `dap stats`, `dap validate LOG`, `dap validate FILE --log LOG` and
 * `dap stats FILE --log LOG` (an annotation log of one pair event per item, ~130 bytes a line: it names every item) on generated task files of 100,000 and 1,000,000 items
 * (~54 MB and ~543 MB, ~543 bytes a line), each in its own process, with its peak RSS and time, next to a
 * plain per-line JSON.parse of the same file(s) (node readline) as the yardstick. Memory flat in the file
 * size means the 1M-item peak is close to the 100k one. Needs dist/cli.js (npm run build).
 * Env: DAP_BENCH_STREAM_ITEMS=100000,1000000 picks the sizes.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..');
const cli = join(root, 'dist', 'cli.js');

/** One task line of about 543 bytes. */
function line(i: number): string {
  const pad = 'x'.repeat(150);
  return JSON.stringify({ id: `item-${i}`, prompt: `Question ${i}: explain why ${pad}?`, responses: [`Answer A to ${i}: ${pad}`, `Answer B to ${i}: ${pad}`] });
}

/** One pair event about item i (an annotation log line, ~130 bytes). */
function event(i: number): string {
  return JSON.stringify({ v: 1, item: `item-${i}`, annotator: i % 3 === 0 ? 'bob' : 'alice', ts: '2026-01-05T09:00:09.543Z', ms: 1200, kind: 'pair', shown: [i % 2, 1 - (i % 2)], choice: 'a' });
}

function writeLines(path: string, n: number, make: (i: number) => string): void {
  const fd = openSync(path, 'w');
  let batch: string[] = [];
  for (let i = 0; i < n; i++) {
    batch.push(make(i));
    if (batch.length === 10000 || i === n - 1) {
      writeSync(fd, batch.join('\n') + '\n');
      batch = [];
    }
  }
  closeSync(fd);
}

/** Runs node with `args` and a preload that prints the process' peak RSS at exit; returns seconds and MB. */
function measure(preload: string, args: string[]): { seconds: number; peakRssMB: number; exit: number | null } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--require', preload, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const seconds = (performance.now() - t0) / 1000;
  const m = /DAP_MAXRSS_KB=(\d+)/.exec(r.stderr ?? '');
  return { seconds: +seconds.toFixed(2), peakRssMB: m ? Math.round(Number(m[1]) / 1024) : -1, exit: r.status };
}

export async function run(): Promise<Record<string, unknown>> {
  if (!existsSync(cli)) throw new Error('dist/cli.js missing: run npm run build first');
  const sizes = (process.env.DAP_BENCH_STREAM_ITEMS ?? '100000,1000000').split(',').map(Number);
  const dir = mkdtempSync(join(tmpdir(), 'dap-bench-stream-'));
  try {
    const preload = join(dir, 'maxrss.cjs');
    writeFileSync(preload, "process.on('exit', () => process.stderr.write(`DAP_MAXRSS_KB=${process.resourceUsage().maxRSS}\\n`));\n");
    const parser = join(dir, 'parse.cjs');
    writeFileSync(parser, [
      "const rl = require('node:readline').createInterface({ input: require('node:fs').createReadStream(process.argv[2]), crlfDelay: Infinity });",
      'let n = 0; rl.on(\'line\', (l) => { if (l.trim()) { JSON.parse(l); n++; } }); rl.on(\'close\', () => console.log(n));',
    ].join('\n'));
    const out: Record<string, unknown> = {};
    for (const n of sizes) {
      const file = join(dir, `t${n}.jsonl`);
      const logFile = join(dir, `log${n}.jsonl`); // not t${n}.annotations.jsonl: stats would find it beside the task file
      writeLines(file, n, line);
      writeLines(logFile, n, event);
      const plain = measure(preload, [parser, file]);
      const plainLog = measure(preload, [parser, logFile]);
      const validate = measure(preload, [cli, 'validate', file]);
      const stats = measure(preload, [cli, 'stats', file, '--json']);
      const validateLog = measure(preload, [cli, 'validate', file, '--log', logFile]);
      const validateLogAlone = measure(preload, [cli, 'validate', logFile]);
      const statsLog = measure(preload, [cli, 'stats', file, '--log', logFile, '--json']);
      out[`items${n}`] = {
        fileMB: Math.round(statSync(file).size / 1e6), logMB: Math.round(statSync(logFile).size / 1e6), plainJsonParse: plain, plainJsonParseLog: plainLog,
        validate, stats, validateWithLog: validateLog, validateLogAlone, statsWithLog: statsLog,
        validateTimeRatio: +(validate.seconds / plain.seconds).toFixed(2), statsTimeRatio: +(stats.seconds / plain.seconds).toFixed(2),
        validateWithLogTimeRatio: +(validateLog.seconds / (plain.seconds + plainLog.seconds)).toFixed(2),
        validateLogAloneTimeRatio: +(validateLogAlone.seconds / plainLog.seconds).toFixed(2),
        statsWithLogTimeRatio: +(statsLog.seconds / (plain.seconds + plainLog.seconds)).toFixed(2),
      };
      rmSync(file);
      rmSync(logFile);
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
