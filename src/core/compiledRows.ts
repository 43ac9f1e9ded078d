/**
 * Rows that carry their own labels and are not task items: the compiled kinds `dap export` writes and `dap
 * train` reads — rankings `{"prompt","responses","ranks"}`, SFT `{"prompt","completion"}` and unpaired KTO
 * `{"prompt","completion","label"}` — plus how every row kind of a self-labelled file is recognised. One home
 * for these rules: the trainer's reader (train/data/labelledFiles.ts) and `dap validate` / `dap stats` use them, so every
 * command accepts the same formats. `scanCompiledFile` streams a file of SFT or KTO rows (never loaded whole)
 * and reports each bad row as `file:line: field: problem`.
 */
import { canonicalJson } from './taskFormats';
import { issueError, issueWarning, typeName } from './issues';
import { INVALID_UTF8_WARNING, objectOfLine, readJsonlLines, recordLines } from './jsonl';
import type { DataIssue } from './types';

/** The kind of one row of a self-labelled file ('scored' = RRHF query/responses/scores). */
export type LabelledRowKind = 'pairs' | 'scored' | 'rankings' | 'sft' | 'unpaired';

/** The kind of a row by its keys (null: a task row, which needs annotations). */
export function labelledRowKind(o: Record<string, unknown>): LabelledRowKind | null {
  if ('query' in o && 'scores' in o) return 'scored';
  if ('chosen' in o || 'rejected' in o) return 'pairs';
  if ('responses' in o && 'ranks' in o) return 'rankings';
  if ('completion' in o && 'label' in o) return 'unpaired';
  if ('completion' in o && 'prompt' in o) return 'sft';
  return null;
}

/** How a row kind is named in messages. */
export function describeRowKind(k: LabelledRowKind | null): string {
  switch (k) {
    case 'pairs': return 'a TRL pair row';
    case 'scored': return 'an RRHF {"query","responses","scores"} row';
    case 'rankings': return 'a rankings {"prompt","responses","ranks"} row';
    case 'sft': return 'an SFT {"prompt","completion"} row';
    case 'unpaired': return 'a KTO {"prompt","completion","label"} row';
    case null: return 'a task row that needs annotations';
  }
}

const isPrompt = (v: unknown) => typeof v === 'string' || Array.isArray(v);

/** Validates a compiled rankings / SFT / KTO row; reports its issues through `err`; returns whether it is usable. */
export function checkCompiledRow(o: Record<string, unknown>, kind: 'rankings' | 'sft' | 'unpaired', err: (field: string, message: string) => void): boolean {
  let errors = 0;
  const e = (field: string, message: string) => { errors++; err(field, message); };
  if (!isPrompt(o.prompt)) e('prompt', `expected a string or a list of messages, got ${typeName(o.prompt)}`);
  if (kind === 'rankings') {
    const r = o.responses, k = o.ranks;
    if (!Array.isArray(r) || r.length < 2 || !r.every((x) => typeof x === 'string')) e('responses', 'expected a list of at least 2 strings');
    else if (!Array.isArray(k) || k.length !== r.length || !k.every((x) => Number.isInteger(x))) e('ranks', `expected ${r.length} integers (one rank per response)`);
  } else {
    if (!isPrompt(o.completion)) e('completion', `expected a string or a list of messages, got ${typeName(o.completion)}`);
    if (kind === 'unpaired' && typeof o.label !== 'boolean') e('label', `expected true or false, got ${typeName(o.label)}`);
  }
  return errors === 0;
}

/** What `scanCompiledFile` found: counts of the usable rows and every issue. */
export interface CompiledScan {
  kind: 'sft' | 'unpaired';
  rows: number;
  /** Distinct prompts (canonical JSON) among the usable rows. */
  prompts: number;
  /** KTO rows labelled true / false (0 for SFT). */
  desirable: number;
  undesirable: number;
  issues: DataIssue[];
}

/**
 * The kind of a file's first data row when it is SFT or KTO (the compiled kinds that are not task rows), else
 * null (then the file is a task file: TRL pairs, RRHF and rankings rows are task items too).
 */
export async function compiledFileKind(path: string): Promise<'sft' | 'unpaired' | null> {
  for await (const l of readJsonlLines(path)) {
    if (l.oversize) return null; // the task reader reports it
    if (l.text.trim() === '') continue;
    try {
      const o = JSON.parse(l.text) as unknown;
      if (o === null || typeof o !== 'object' || Array.isArray(o)) return null;
      const k = labelledRowKind(o as Record<string, unknown>);
      return k === 'sft' || k === 'unpaired' ? k : null;
    } catch {
      return null;
    }
  }
  return null;
}

/** Streams a file of SFT or KTO rows: every row must be of `kind`; counts rows, prompts and labels. */
export async function scanCompiledFile(path: string, kind: 'sft' | 'unpaired', displayName = path): Promise<CompiledScan> {
  const out: CompiledScan = { kind, rows: 0, prompts: 0, desirable: 0, undesirable: 0, issues: [] };
  const prompts = new Set<string>();
  for await (const l of recordLines(path, displayName, out.issues)) {
    const err = (field: string, message: string) => out.issues.push(issueError(displayName, l.line, field, message));
    const row = objectOfLine(l, displayName, out.issues);
    if (!row) continue;
    const k = labelledRowKind(row);
    if (k !== kind) {
      err('line', `${describeRowKind(k)} in a file of ${describeRowKind(kind).replace(/^an? /, '')}s (the first row's kind; a file holds one kind of compiled rows)`);
      continue;
    }
    if (!l.utf8) out.issues.push(issueWarning(displayName, l.line, 'line', INVALID_UTF8_WARNING));
    if (!checkCompiledRow(row, kind, err)) continue;
    out.rows++;
    prompts.add(canonicalJson(row.prompt));
    if (kind === 'unpaired') row.label ? out.desirable++ : out.undesirable++;
  }
  out.prompts = prompts.size;
  return out;
}
