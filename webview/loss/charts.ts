/**
 * Which charts the loss panel draws and the aligned tables uPlot needs: one x column (the union of the
 * shown runs' step numbers in the chosen stage) and one column per series (a metric of a run: raw,
 * EMA-smoothed, or held-out eval points drawn over the train curve). Pure: no DOM.
 */
import { ema, pickStage, type RunData } from './runModel';

/** One chart of the panel. */
export interface ChartSpec {
  /** Stable id (used in data-testid="chart-ID"). */
  id: string;
  title: string;
  /** Train metric names drawn on this chart; eval points use the `eval_` + name column. */
  metrics: string[];
  /** A one-line note under the title. */
  hint?: string;
  /** False for curves that are not noisy (learning rate): never smoothed. */
  smooth?: boolean;
}

export const CHARTS: readonly ChartSpec[] = [
  { id: 'loss', title: 'loss', metrics: ['loss'] },
  { id: 'accuracy', title: 'rewards/accuracies', metrics: ['rewards/accuracies'] },
  { id: 'margins', title: 'rewards/margins', metrics: ['rewards/margins'] },
  {
    id: 'rewards',
    title: 'rewards/chosen and rewards/rejected',
    metrics: ['rewards/chosen', 'rewards/rejected'],
    hint: 'DPO only needs the margin (chosen − rejected) to grow: both rewards can fall, the chosen one included.',
  },
  { id: 'logps', title: 'logps/chosen and logps/rejected', metrics: ['logps/chosen', 'logps/rejected'], hint: 'Policy log-probs summed over completion tokens.' },
  { id: 'logits', title: 'logits/chosen and logits/rejected', metrics: ['logits/chosen', 'logits/rejected'], hint: 'Mean logit over the vocabulary and the completion tokens.' },
  { id: 'entropy', title: 'entropy', metrics: ['entropy'], hint: 'Mean next-token entropy over completion tokens (nats).' },
  { id: 'token-accuracy', title: 'mean_token_accuracy', metrics: ['mean_token_accuracy'], hint: 'Share of chosen completion tokens that are the argmax prediction.' },
  { id: 'ipo-margin', title: 'ipo/length_averaged_margin', metrics: ['ipo/length_averaged_margin'], hint: 'IPO pulls this length-averaged log-ratio margin toward 1/(2β).' },
  { id: 'kl', title: 'kl', metrics: ['kl'], hint: "KTO's reference point z (detached KL estimate)." },
  { id: 'parts', title: 'method loss terms', metrics: ['nll_loss', 'rank_loss', 'sft_loss'] },
  { id: 'lr', title: 'learning_rate', metrics: ['learning_rate'], smooth: false },
  { id: 'gradnorm', title: 'grad_norm', metrics: ['grad_norm'] },
  { id: 'throughput', title: 'tokens/s', metrics: ['tokens_per_second'] },
];

/** How a series is drawn. */
export type SeriesKind = 'raw' | 'smoothed' | 'eval';

export interface SeriesData {
  /** Legend label: metric (plus run id when several runs are shown, plus "(smoothed)"/eval name). */
  label: string;
  runId: string;
  /** Column name in the run's data ('loss', 'eval_loss', …). */
  metric: string;
  kind: SeriesKind;
  color: string;
  /** One value per x; null where this series has no point at that step. */
  values: (number | null)[];
}

export interface ChartData {
  spec: ChartSpec;
  xs: number[];
  series: SeriesData[];
  /** Train points of the first run with data (what the tests count). */
  trainPoints: number;
  evalPoints: number;
}

/** Readable on both light and dark backgrounds. */
const PALETTE = ['#3794ff', '#f14c4c', '#2ea043', '#d18616', '#b180d7', '#1fb5a8', '#e06c9f', '#8a8a8a'];

/** The tables of one chart for the given runs; `series` is empty when no run reports its metrics. */
export function chartData(spec: ChartSpec, runs: readonly RunData[], stage: string, smoothing: number): ChartData {
  const stages = runs.map((r) => pickStage(r, stage));
  // Union of step numbers of every run's train and eval points in the shown stage.
  const stepSet = new Set<number>();
  for (const s of stages) {
    if (!s) continue;
    const hasAny = spec.metrics.some((m) => s.train.has(m) || s.eval.has(`eval_${m}`));
    if (!hasAny) continue;
    for (const x of s.steps) stepSet.add(x);
    for (const x of s.evalSteps) stepSet.add(x);
  }
  const xs = [...stepSet].sort((a, b) => a - b);
  const indexOf = new Map(xs.map((x, i) => [x, i]));
  const series: SeriesData[] = [];
  let trainPoints = -1;
  let evalPoints = 0;
  const several = runs.length > 1;
  runs.forEach((run, r) => {
    const s = stages[r];
    if (!s) return;
    spec.metrics.forEach((metric, m) => {
      const color = PALETTE[(r * spec.metrics.length + m) % PALETTE.length];
      const name = several ? `${metric} · ${run.runId}` : metric;
      const column = s.train.get(metric);
      if (column && column.some(Number.isFinite)) {
        if (trainPoints < 0) trainPoints = column.filter(Number.isFinite).length;
        const place = (vals: readonly number[]) => {
          const out: (number | null)[] = new Array(xs.length).fill(null);
          s.steps.forEach((step, i) => {
            if (Number.isFinite(vals[i])) out[indexOf.get(step)!] = vals[i];
          });
          return out;
        };
        series.push({ label: name, runId: run.runId, metric, kind: 'raw', color, values: place(column) });
        if (smoothing > 0 && spec.smooth !== false) {
          series.push({ label: `${name} (smoothed)`, runId: run.runId, metric, kind: 'smoothed', color, values: place(ema(column, smoothing)) });
        }
      }
      const evalColumn = s.eval.get(`eval_${metric}`);
      if (evalColumn && evalColumn.some(Number.isFinite)) {
        const out: (number | null)[] = new Array(xs.length).fill(null);
        s.evalSteps.forEach((step, i) => {
          if (Number.isFinite(evalColumn[i])) out[indexOf.get(step)!] = evalColumn[i];
        });
        evalPoints += evalColumn.filter(Number.isFinite).length;
        series.push({ label: several ? `eval_${metric} · ${run.runId}` : `eval_${metric}`, runId: run.runId, metric: `eval_${metric}`, kind: 'eval', color, values: out });
      }
    });
  });
  return { spec, xs, series, trainPoints: Math.max(0, trainPoints), evalPoints };
}

/** A key that changes when the chart's series set changes (then the uPlot instance is rebuilt). */
export function seriesKey(d: ChartData): string {
  return d.series.map((s) => `${s.kind}:${s.label}`).join('|');
}
