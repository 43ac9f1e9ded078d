/**
 * Assembles the full review report (every list, counts, confirmed entries hidden) from the task items,
 * the current judgments and the raw log events. Pure: reading files is the caller's job (see load.ts).
 */
import { compareModels } from '../modelComparison';
import type { AnnotationEvent, Judgment, TaskItem } from '../types';
import { DEFAULT_TAU_THRESHOLD } from '../disagreement';
import { AUTOMATIC_JUDGES } from '../verifierJudge';
import { confirmedItems, disagreementList, flaggedList, neverWonList } from './lists';
import { annotatorMajority } from './stats';
import { teamReport } from './team';
import type { ResponseScores, ReviewReport } from './types';

/** What the report is computed from. */
export interface ReviewInput {
  taskFile: string;
  logFile: string;
  items: TaskItem[];
  /** Current judgments (superseded and undone ones already resolved away). */
  judgments: Judgment[];
  /** Every log event in file order (for `confirm` events). */
  events: AnnotationEvent[];
  /** 'rows': `judgments` are the rows' own labels (see rows.ts); default 'log'. */
  labelSource?: 'log' | 'rows';
}

/** Options of the report. */
export interface ReviewOptions {
  /** Kendall τ-b threshold for ranking disagreements (default 0.5). */
  tauThreshold?: number;
  /** Per-response model scores; absent = no model-flagged list. */
  scores?: ResponseScores[];
  /** Describes how `scores` were computed (shown above the flagged list). */
  scoresMethod?: string;
  /** Keep only the first N entries of each list (default: all). */
  top?: number;
  /** Keep confirmed entries instead of hiding them (default false). */
  includeConfirmed?: boolean;
}

export function buildReviewReport(input: ReviewInput, options: ReviewOptions = {}): ReviewReport {
  const { items, judgments } = input;
  const tauThreshold = options.tauThreshold ?? DEFAULT_TAU_THRESHOLD;
  const top = options.top ?? Infinity;
  const confirmed = confirmedItems(input.events);
  let hidden = 0;
  const visible = <T extends { item: string }>(list: T[], name: keyof typeof confirmed): T[] => {
    if (options.includeConfirmed) return list;
    const kept = list.filter((e) => !confirmed[name].has(e.item));
    hidden += list.length - kept.length;
    return kept;
  };
  const cut = <T>(list: T[]): T[] => (Number.isFinite(top) ? list.slice(0, top) : list);
  // Rows' own labels: one label per row, so "never won" would list every rejected response and there is
  // nothing to disagree with; only the model-flagged list applies.
  const fromRows = input.labelSource === 'rows';
  const neverWon = fromRows ? [] : visible(neverWonList(items, judgments), 'never_won');
  const disagreements = fromRows ? [] : visible(disagreementList(items, judgments, tauThreshold), 'disagreement');
  const allLost = neverWon.filter((e) => e.allLost);
  const report: ReviewReport = {
    taskFile: input.taskFile,
    logFile: input.logFile,
    labelSource: fromRows ? 'rows' : 'log',
    items: items.length,
    annotatedItems: new Set(judgments.map((j) => j.item)).size,
    annotators: [...new Set(judgments.map((j) => j.annotator))].sort(),
    neverWon: cut(neverWon),
    allLost: cut(allLost),
    disagreements: cut(disagreements),
    annotatorAgreement: fromRows ? [] : annotatorMajority(judgments),
    tauThreshold,
    confirmedHidden: 0,
    totals: { neverWon: neverWon.length, allLost: allLost.length, disagreements: disagreements.length },
  };
  const models = compareModels(items, judgments, undefined, AUTOMATIC_JUDGES);
  if (models) report.models = models;
  if (options.scores) {
    const flagged = visible(flaggedList(items, judgments, options.scores), 'model_flagged');
    report.totals.flagged = flagged.length;
    report.flagged = cut(flagged);
    report.flaggedMethod = options.scoresMethod ?? '';
    report.scores = options.scores;
  }
  if (!fromRows) report.team = teamReport(items, judgments, input.events);
  report.confirmedHidden = hidden;
  return report;
}
