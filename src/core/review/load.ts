/**
 * File side of the review feature: reads a task file and its annotation log through the data core,
 * builds the review report (a self-labelled file without judgments reviews its rows' own labels, rows.ts), appends `confirm` events through the log appender, and writes the flagged
 * list as JSONL. Shared by the CLI and the VS Code panel.
 */
import { appendEvent } from '../annotationLog';
import { defaultLogPath as projectLogPath, loadProject } from '../project';
import type { DataIssue } from '../types';
import { readRowLabels } from './rows';
import { buildReviewReport, type ReviewInput, type ReviewOptions } from './report';
import type { FlaggedPair, ReviewListName, ReviewReport } from './types';

/** The default log of a task file (the data core's rule: `arith.tasks.jsonl` → `arith.annotations.jsonl`). */
export const defaultLogPath = projectLogPath;

/** Reads the task file and log: items, current judgments, raw events, and every issue found. */
export async function loadReviewInput(taskFile: string, logFile: string): Promise<{ input: ReviewInput; issues: DataIssue[] }> {
  const project = await loadProject(taskFile, logFile);
  if (project.resolution.judgments.length === 0) {
    // No judgments in the log: a self-labelled file (compiled TRL pairs, RRHF scores) reviews its rows' labels.
    const rows = await readRowLabels(taskFile);
    if (rows) {
      const logIssues = project.issues.filter((i) => i.file !== taskFile);
      const events = project.events.map((e) => e.event);
      return { input: { taskFile, logFile, items: rows.items, judgments: rows.judgments, events, labelSource: 'rows' }, issues: [...rows.issues, ...logIssues] };
    }
  }
  return {
    input: {
      taskFile,
      logFile,
      items: project.items,
      judgments: project.resolution.judgments,
      events: project.events.map((e) => e.event),
    },
    issues: project.issues,
  };
}

/** Reads the files and builds the report. */
export async function loadReview(
  taskFile: string,
  logFile: string,
  options: ReviewOptions = {},
): Promise<{ report: ReviewReport; issues: DataIssue[]; input: ReviewInput }> {
  const { input, issues } = await loadReviewInput(taskFile, logFile);
  return { report: buildReviewReport(input, options), issues, input };
}

/** Appends (fsync'd) a `confirm` event: the reviewed label stands, the item leaves the named list. */
export async function appendConfirm(logFile: string, confirm: { item: string; annotator: string; reason: ReviewListName }): Promise<void> {
  await appendEvent(logFile, { v: 1, kind: 'confirm', item: confirm.item, annotator: confirm.annotator, reason: confirm.reason, ts: new Date().toISOString() });
}

/** The flagged list as JSONL: one pair per line with prompt, chosen/rejected texts and the margin. */
export function flaggedToJsonl(flagged: FlaggedPair[]): string {
  return flagged
    .map((p) =>
      JSON.stringify({
        item: p.item,
        line: p.line,
        prompt: p.prompt,
        chosen: p.chosenText,
        rejected: p.rejectedText,
        chosen_index: p.chosen,
        rejected_index: p.rejected,
        margin: p.margin,
        scorer: p.scorer,
        ...(p.fold !== undefined ? { fold: p.fold } : {}),
        annotators: p.annotators,
      }),
    )
    .map((line) => line + '\n')
    .join('');
}
