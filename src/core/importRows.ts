/**
 * Checks rows that come from another container than JSONL (Parquet rows, label-tool exports) against the same
 * formats the JSONL readers accept (taskFormats.ts for task items, compiledRows.ts for SFT / KTO rows), so an
 * imported file is exactly what `dap validate` would pass. The first row decides whether the file holds task
 * items or compiled rows of one kind; explicit ids must be unique. Issues name `file:row N: field: problem`.
 */
import { checkCompiledRow, describeRowKind, labelledRowKind } from './compiledRows';
import { issueError, typeName } from './issues';
import { parseTaskObject } from './taskFormats';
import type { DataIssue } from './types';

/** Accepts or rejects rows one at a time (row numbers are the caller's: 1-based in the source file). */
export class ImportRowChecker {
  private kind: 'tasks' | 'sft' | 'unpaired' | undefined;
  private readonly ids = new Map<string, number>();
  constructor(private readonly file: string) {}

  /** The issues of one row (none: the row is good to write as a JSONL line). */
  check(value: unknown, row: number): DataIssue[] {
    const err = (field: string, message: string): DataIssue[] => [{ ...issueError(this.file, row, field, message), unit: 'row' }];
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return err('row', `expected an object, got ${typeName(value)}`);
    const o = value as Record<string, unknown>;
    const k = labelledRowKind(o);
    const kind = k === 'sft' || k === 'unpaired' ? k : 'tasks';
    this.kind ??= kind;
    if (kind !== this.kind) {
      const expected = this.kind === 'tasks' ? 'task rows' : `${describeRowKind(this.kind).replace(/^an? /, '')}s`;
      return err('row', `${kind === 'tasks' ? 'a task row' : describeRowKind(kind)} among ${expected} (the first row's kind; a file holds one kind)`);
    }
    if (kind !== 'tasks') {
      const issues: DataIssue[] = [];
      checkCompiledRow(o, kind, (field, message) => issues.push({ ...issueError(this.file, row, field, message), unit: 'row' }));
      return issues;
    }
    const parsed = parseTaskObject(o, { file: this.file, line: row, offset: 0 });
    const issues = parsed.issues.map((i) => ({ ...i, unit: 'row' as const }));
    if (parsed.item && !parsed.idFromContent && issues.length === 0) {
      const first = this.ids.get(parsed.item.id);
      if (first !== undefined) return err('id', `duplicate id "${parsed.item.id}", first on row ${first}; row skipped`);
      this.ids.set(parsed.item.id, row);
    }
    return issues;
  }
}
