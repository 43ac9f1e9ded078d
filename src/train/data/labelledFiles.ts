/**
 * Reads a data file that carries its own labels, so it trains without an annotation log:
 * - TRL pairs in every form the data core reads (taskFormats.ts): standard `{"prompt","chosen","rejected"}`,
 *   conversational (message lists), implicit prompt `{"chosen","rejected"}` (the shared prefix is the prompt,
 *   as TRL splits it), each with or without `id`;
 * - RRHF `{"query","responses","scores"}` rows (their scores rank the responses);
 * - compiled rows of one kind: rankings `{"prompt","responses","ranks"}`, SFT `{"prompt","completion"}`,
 *   KTO `{"prompt","completion","label"}`.
 * TRL pairs and RRHF rows are parsed by the data core into task items; each item's own preference (chosen over
 * rejected, or the score groups) is treated as one judgment of that item and compiled with the core compile
 * functions, so pairs, rankings, SFT and KTO rows follow the rules `dap export` documents (ties give no pair
 * and share a rank). A file mixing these with other rows (task rows that need annotations) is reported as
 * `mixed`: the caller reads it as a task file with its log. Bad lines are errors `file:line: field: problem`.
 */
import { checkCompiledRow, labelledRowKind, type LabelledRowKind } from '../../core/compiledRows';
import { compileKto, compilePairs, compileRankings, compileSft, type PairMode } from '../../core/compile';
import { formatIssue, issueError, issueWarning, throwOnErrors } from '../../core/issues';
import { sourceJudgment } from '../../core/judgments';
import { INVALID_UTF8_WARNING, objectOfLine, recordLines } from '../../core/jsonl';
import { parseTaskLine } from '../../core/tasks';
import type { DataIssue, Judgment, KtoRow, RankingRow, SftRow, TaskItem, TrlPairRow } from '../../core/types';

/** The rows of a self-labelled file, by what the file holds. */
export interface LabelledData {
  /** 'pairs': only TRL pair rows; 'labelled': RRHF rows (maybe with pairs); else the compiled kind. */
  kind: 'pairs' | 'labelled' | 'rankings' | 'sft' | 'unpaired';
  pairs: TrlPairRow[];
  rankings: RankingRow[];
  sft: SftRow[];
  kto: KtoRow[];
  /** The task items of TRL pair / RRHF rows (their responses feed the built-in model's SFT warm-up). */
  items: TaskItem[];
  /** Warnings, `file:line: field: warning: problem`. */
  notes: string[];
}

/** What reading gave: the data, or where the file stops being one self-labelled kind. */
export type LabelledRead =
  | { data: LabelledData }
  | { mixed: { firstKind: LabelledRowKind | null; line: number; kind: LabelledRowKind | null } };

/** Rows whose kinds may share one file: TRL pairs with RRHF rows; compiled kinds only with themselves. */
const group = (k: LabelledRowKind | null) => (k === 'pairs' || k === 'scored' ? 'items' : k);

/** The item's own preference as one judgment (items reach here only from TRL pair / RRHF rows, which carry one). */
function ownJudgment(item: TaskItem): Judgment {
  const j = sourceJudgment(item);
  if (!j) throw new Error(`${item.id}: a ${item.format} row without its own preference`);
  return j;
}

/** The TRL pair row of a TRL pair item (the data core's compile: conversational completions as one assistant message). */
export function ownPairRow(item: TaskItem): TrlPairRow {
  return compilePairs([item], [ownJudgment(item)])[0];
}

/**
 * Compiles each item on its own with its own judgment (items are not merged by id: a compiled TRL export
 * repeats an item's id on each of its pair rows). Rows of items without an `id` in the file get none.
 */
function compileEach<T extends { id?: string }>(items: readonly { item: TaskItem; idFromContent: boolean }[],
  fn: (items: TaskItem[], judgments: Judgment[]) => T[]): T[] {
  return items.flatMap(({ item, idFromContent }) => fn([item], [ownJudgment(item)]).map((row) => {
    if (!idFromContent) return row;
    const { id: _contentId, ...rest } = row;
    return rest as T;
  }));
}

/**
 * Reads `path` as a self-labelled file (see the file comment). Throws with every error (first 10 shown)
 * when its rows are of one kind but some are invalid; returns `mixed` at the first row of another kind.
 */
export async function readLabelledFile(path: string, pairMode: PairMode): Promise<LabelledRead> {
  let firstKind: LabelledRowKind | null | undefined;
  let hasScored = false;
  const issues: DataIssue[] = [];
  const items: { item: TaskItem; idFromContent: boolean }[] = [];
  const compiled: Record<string, unknown>[] = [];
  for await (const l of recordLines(path, path, issues)) {
    const row = objectOfLine(l, path, issues);
    if (!row) continue;
    const kind = labelledRowKind(row);
    if (firstKind === undefined) firstKind = kind;
    if (kind === null || group(kind) !== group(firstKind)) return { mixed: { firstKind, line: l.line, kind } };
    if (kind === 'pairs' || kind === 'scored') {
      hasScored ||= kind === 'scored';
      const parsed = parseTaskLine(l.text, path, l.line, l.offset, l.utf8);
      issues.push(...parsed.issues);
      if (parsed.item && !parsed.issues.some((i) => i.severity === 'error')) items.push({ item: parsed.item, idFromContent: parsed.idFromContent === true });
    } else {
      if (!l.utf8) issues.push(issueWarning(path, l.line, 'line', INVALID_UTF8_WARNING));
      if (checkCompiledRow(row, kind, (field, message) => issues.push(issueError(path, l.line, field, message)))) compiled.push(row);
    }
  }
  throwOnErrors(issues);
  if (firstKind === undefined) throw new Error(`${path}: no data rows (the file is empty)`);
  const notes = issues.map(formatIssue);
  const empty = { pairs: [], rankings: [], sft: [], kto: [], items: [], notes };
  if (firstKind === 'pairs' || firstKind === 'scored') {
    const its = items.map((x) => x.item);
    if (!hasScored) return { data: { ...empty, kind: 'pairs', items: its, pairs: compileEach(items, (i, j) => compilePairs(i, j)) } };
    return { data: { ...empty, kind: 'labelled', items: its,
      pairs: compileEach(items, (i, j) => compilePairs(i, j, pairMode)), rankings: compileEach(items, compileRankings),
      sft: compileEach(items, compileSft), kto: compileEach(items, compileKto) } };
  }
  if (firstKind === 'rankings') return { data: { ...empty, kind: 'rankings', rankings: compiled as unknown as RankingRow[] } };
  if (firstKind === 'sft') return { data: { ...empty, kind: 'sft', sft: compiled as unknown as SftRow[] } };
  if (firstKind === 'unpaired') return { data: { ...empty, kind: 'unpaired', kto: compiled as unknown as KtoRow[] } };
  return { mixed: { firstKind, line: 1, kind: null } };
}
