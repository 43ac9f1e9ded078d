/**
 * Parquet input (Hugging Face Hub datasets are published as Parquet), read with hyparquet: pure JavaScript,
 * no native build, nothing downloaded. A file is never loaded whole: the footer is read first, then one row
 * group at a time through ranged reads (hyparquet's AsyncBuffer over the file), so memory stays at one row
 * group's columns. Rows come out as plain JSON values (nested list/struct columns become arrays/objects, e.g.
 * conversations as [{"role","content"}]); INT64 values become numbers when exact, else decimal strings; dates
 * and timestamps become ISO strings; binary (non-UTF-8) columns are refused by name.
 * A dataset folder as the Hub lays it out (`data/SPLIT-00000-of-00002.parquet`, …) is read split by split.
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';

/** One row of a Parquet file: its 1-based number across the file and its value. */
export interface ParquetRow {
  row: number;
  value: Record<string, unknown>;
}

/** True for a `.parquet` path. */
export function isParquetPath(path: string): boolean {
  return /\.parquet$/i.test(path);
}

/** The split a Hub Parquet file belongs to: `train-00000-of-00001.parquet` → train, `test.parquet` → test. */
export function splitOfParquetFile(path: string): string {
  const name = basename(path).replace(/\.parquet$/i, '');
  return name.replace(/-\d{5}-of-\d{5}$/, '').replace(/-\d+$/, '');
}

/**
 * The Parquet files to read for `input` (a .parquet file, or a dataset folder holding them, directly or under
 * data/) and `split`: a folder needs a split when it holds several; a file given with a split must be of it.
 */
export function parquetFilesOf(input: string, split?: string): string[] {
  if (!statSync(input).isDirectory()) {
    if (split !== undefined && splitOfParquetFile(input) !== split) {
      throw new Error(`${input}: a file of split "${splitOfParquetFile(input)}", not "${split}"`);
    }
    return [input];
  }
  const dirs = [input, join(input, 'data')].filter((d) => { try { return statSync(d).isDirectory(); } catch { return false; } });
  const files = dirs.flatMap((d) => readdirSync(d).filter(isParquetPath).map((f) => join(d, f))).sort();
  if (files.length === 0) throw new Error(`${input}: no .parquet files in this folder (or its data/ folder)`);
  const splits = [...new Set(files.map(splitOfParquetFile))].sort();
  const pick = split ?? (splits.length === 1 ? splits[0] : undefined);
  if (pick === undefined) throw new Error(`${input}: several splits (${splits.join(', ')}): choose one with --split`);
  const chosen = files.filter((f) => splitOfParquetFile(f) === pick);
  if (chosen.length === 0) throw new Error(`${input}: no split "${pick}" (found ${splits.join(', ')})`);
  return chosen;
}

/** A Parquet value as JSON (see the file comment); throws naming the column path for binary data. */
function toJson(v: unknown, column: string): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Date) return v.toISOString();
  if (v instanceof Uint8Array) throw new Error(`${column}: a binary column (bytes that are not UTF-8 text) cannot be read as text`);
  if (Array.isArray(v)) return v.map((x, i) => toJson(x, `${column}[${i}]`));
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, toJson(x, `${column}.${k}`)]));
  }
  if (typeof v === 'number' && !Number.isFinite(v)) return null;
  return v;
}

/** Thrown for a row whose value cannot be turned into JSON: names the file, row and field. */
export class ParquetRowError extends Error {
  constructor(readonly file: string, readonly row: number, readonly field: string, readonly problem: string) {
    super(`${file}:row ${row}: ${field}: ${problem}`);
  }
}

/** The number of rows and row groups of a Parquet file (its footer only). */
export async function parquetInfo(path: string): Promise<{ rows: number; rowGroups: number }> {
  const file = await asyncBufferFromFile(path);
  const meta = await parquetMetadataAsync(file);
  return { rows: Number(meta.num_rows), rowGroups: meta.row_groups.length };
}

/**
 * Streams the rows of a Parquet file, one row group in memory at a time. A row that cannot be read as JSON is
 * yielded as a ParquetRowError (the caller reports it and goes on). Errors of the file itself (not Parquet,
 * truncated, an unsupported codec) are thrown with the file's name.
 */
export async function* readParquetRows(path: string): AsyncGenerator<ParquetRow | ParquetRowError> {
  let file, meta;
  try {
    file = await asyncBufferFromFile(path);
    meta = await parquetMetadataAsync(file);
  } catch (e) {
    throw new Error(`${path}: not a readable Parquet file: ${(e as Error).message}`);
  }
  let start = 0;
  for (const group of meta.row_groups) {
    const n = Number(group.num_rows);
    let rows: Record<string, unknown>[];
    try {
      rows = (await parquetReadObjects({ file, metadata: meta, rowStart: start, rowEnd: start + n, compressors })) as Record<string, unknown>[];
    } catch (e) {
      throw new Error(`${path}: rows ${start + 1}-${start + n}: cannot be decoded: ${(e as Error).message}`);
    }
    for (let i = 0; i < rows.length; i++) {
      const row = start + i + 1;
      try {
        yield { row, value: toJson(rows[i], '') as Record<string, unknown> };
      } catch (e) {
        const [field, ...rest] = (e as Error).message.split(': ');
        yield new ParquetRowError(path, row, field.replace(/^\./, ''), rest.join(': '));
      }
    }
    start += n;
  }
}
