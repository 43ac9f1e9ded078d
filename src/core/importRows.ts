/**
 * Checks rows that come from another container than JSONL (Parquet rows, label-tool exports) against the same
 * formats the JSONL readers accept (taskFormats.ts for task items, compiledRows.ts for SFT / KTO rows), so an
 * imported file is exactly what `dap validate` would pass. The first row decides whether the file holds task
 * items or compiled rows of one kind; explicit ids must be unique. Issues name `file:row N: field: problem`.
 * Also the Parquet → JSONL conversion itself and the temp-file + fsync + rename writer it uses.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { AtomicFileWriter, writeFileAtomicSync } from './atomicWrite';
import { join, resolve } from 'node:path';
import { checkCompiledRow, describeRowKind, labelledRowKind } from './compiledRows';
import { ParquetRowError, readParquetRows } from './parquet';
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

/** Writes lines to `path` whole or not at all (core/atomicWrite.ts: temp file, fsync, rename), buffered in 1 MiB writes. */
export class AtomicLineWriter {
  private readonly file: AtomicFileWriter;
  private buffer: string[] = [];
  private size = 0;
  constructor(path: string) {
    this.file = new AtomicFileWriter(path);
  }
  line(text: string): void {
    this.buffer.push(text, '\n');
    this.size += text.length + 1;
    if (this.size > 1 << 20) this.flush();
  }
  private flush(): void {
    if (this.buffer.length) this.file.write(this.buffer.join(''));
    this.buffer = [];
    this.size = 0;
  }
  commit(): void {
    this.flush();
    this.file.commit();
  }
  abort(): void {
    this.file.abort();
  }
}

/**
 * Writes the good rows of Parquet `files` to the JSONL file `out` (atomically), checked as the task readers check
 * lines; returns how many were written and the issues of the bad ones (`file:row N`). `dap import` and the
 * annotator's Open With on a .parquet file both come here.
 */
export async function importParquet(files: readonly string[], out: string): Promise<{ written: number; issues: DataIssue[] }> {
  const writer = new AtomicLineWriter(out);
  const issues: DataIssue[] = [];
  let written = 0;
  try {
    for (const file of files) {
      const checker = new ImportRowChecker(file);
      for await (const r of readParquetRows(file)) {
        if (r instanceof ParquetRowError) {
          issues.push({ file: r.file, line: r.row, unit: 'row', field: r.field, message: r.problem, severity: 'error' });
          continue;
        }
        const found = checker.check(r.value, r.row);
        issues.push(...found);
        if (found.some((i) => i.severity === 'error')) continue;
        writer.line(JSON.stringify(r.value));
        written++;
      }
    }
    writer.commit();
  } catch (e) {
    writer.abort();
    throw e;
  }
  return { written, issues };
}


/**
 * The JSONL task file a Parquet file is read through when opened in the annotator: imported once into
 * `cacheDir` (named by the file's path, size and modification time, so an edited file is imported again) by
 * importParquet, with the bad rows' issues kept beside it. Item ids are the same as `dap import` gives.
 */
export async function parquetTaskFile(parquet: string, cacheDir: string): Promise<{ path: string; issues: DataIssue[] }> {
  const st = statSync(parquet);
  const key = createHash('sha256').update(resolve(parquet)).digest('hex').slice(0, 16);
  const path = join(cacheDir, `${key}-${st.size}-${Math.floor(st.mtimeMs)}.tasks.jsonl`);
  const issuesFile = `${path}.issues.json`;
  if (existsSync(path) && existsSync(issuesFile)) return { path, issues: JSON.parse(readFileSync(issuesFile, 'utf8')) as DataIssue[] };
  mkdirSync(cacheDir, { recursive: true });
  const { issues } = await importParquet([parquet], path);
  writeFileAtomicSync(issuesFile, JSON.stringify(issues));
  return { path, issues };
}
