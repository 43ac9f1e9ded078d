/**
 * Terminal rendering of training events for `dap train` / `dap demo`: a one-line progress bar rewritten in
 * place on a TTY (step/total, loss, reward accuracy, tokens/s, ETA), plain lines otherwise, and a small
 * ASCII line chart of a series (the demo's loss curve). Pure formatting: callers choose the stream.
 */
import { formatDuration } from '../core/duration';
import type { TrainEvent } from '../train/runs/events';

const num = (v: number | undefined, d = 4) => (v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(d));

/** The progress line of a step event (no newline). `width` = bar cells. */
export function stepLine(e: Extract<TrainEvent, { type: 'step' }>, bar: boolean, width = 20): string {
  const m = e.metrics;
  const acc = m['rewards/accuracies'] !== undefined ? ` acc ${num(m['rewards/accuracies'], 2)}` : '';
  const tail = `loss ${num(m.loss)}${acc} ${Math.round(m.tokens_per_second ?? 0)} tok/s ETA ${formatDuration(m.eta_seconds)}`;
  if (!bar) return `${e.stage} step ${e.step}/${e.totalSteps} ${tail}`;
  const filled = Math.round((width * e.step) / Math.max(1, e.totalSteps));
  return `${e.stage.padEnd(6)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${e.step}/${e.totalSteps} ${tail}`;
}

/** One line for every event other than step (undefined for events not worth a line). */
export function eventLine(e: TrainEvent): string | undefined {
  switch (e.type) {
    case 'started': return `${e.stage}: ${e.totalSteps} steps on ${e.executor ?? 'tfjs'} ${e.backend}${e.processes && e.processes > 1 ? ` × ${e.processes} processes` : ''}${e.precision ? ` ${e.precision}` : ''}${e.startStep ? ` (resumed at step ${e.startStep})` : ''} — run ${e.runDir}`;
    case 'step': return stepLine(e, false);
    case 'eval': return `${e.stage} eval @${e.step}: ${Object.entries(e.metrics).filter(([k]) => /loss|accuracies|margins/.test(k)).map(([k, v]) => `${k} ${num(v)}`).join(', ')}`;
    case 'checkpoint': return `${e.stage} checkpoint (${e.reason}) @${e.step}: ${e.path}`;
    case 'log': return `[${e.level}] ${e.message}`;
    case 'finished': return `${e.summary.cancelled ? 'cancelled' : 'finished'} after ${e.summary.steps} steps in ${formatDuration(e.summary.seconds)}; run folder ${e.summary.runDir}`;
    case 'failed': return `FAILED: ${e.error}${e.lastCheckpoint ? ` (last good checkpoint: ${e.lastCheckpoint})` : ''}`;
  }
}

/** Writes events to a stream: a live bar on a TTY, plain lines otherwise, raw JSON with `json`. */
export function eventPrinter(out: NodeJS.WriteStream | NodeJS.WritableStream, mode: 'tty' | 'plain' | 'json'): (e: TrainEvent) => void {
  let barShown = false;
  return (e) => {
    if (mode === 'json') { out.write(JSON.stringify(e) + '\n'); return; }
    if (mode === 'tty' && e.type === 'step') {
      out.write('\r\x1b[2K' + stepLine(e, true));
      barShown = true;
      return;
    }
    const line = eventLine(e);
    if (line === undefined) return;
    if (barShown && mode === 'tty') { out.write('\n'); barShown = false; }
    out.write(line + '\n');
  };
}

/**
 * An ASCII line chart of `values` (height rows × up to `width` columns; values averaged into columns),
 * with the y range on the left. Returns lines.
 */
export function asciiChart(values: number[], width = 60, height = 10, label = ''): string[] {
  const v = values.filter(Number.isFinite);
  if (v.length === 0) return [`${label}(no data)`];
  const cols = Math.min(width, v.length);
  const colVals = Array.from({ length: cols }, (_, c) => {
    const a = Math.floor((c * v.length) / cols), b = Math.max(a + 1, Math.floor(((c + 1) * v.length) / cols));
    const seg = v.slice(a, b);
    return seg.reduce((p, q) => p + q, 0) / seg.length;
  });
  const lo = Math.min(...colVals), hi = Math.max(...colVals);
  const span = hi - lo || 1;
  const rows = Array.from({ length: height }, () => Array<string>(cols).fill(' '));
  colVals.forEach((y, c) => {
    const r = height - 1 - Math.round(((y - lo) / span) * (height - 1));
    rows[r][c] = '*';
  });
  const yl = (x: number) => x.toFixed(3).padStart(8);
  return rows.map((r, i) => `${i === 0 ? yl(hi) : i === height - 1 ? yl(lo) : ' '.repeat(8)} |${r.join('')}`)
    .concat([`${' '.repeat(8)} +${'-'.repeat(cols)}`, `${' '.repeat(10)}${label}step 1 … ${v.length}`]);
}
