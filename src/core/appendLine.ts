/**
 * Appending one whole line to a shared JSONL log (the annotation log, a run's metrics.jsonl): the file is
 * opened with O_APPEND, the line goes out in ONE write, and (by default) the file is fsync'd before the
 * call returns/resolves; creating the file also fsyncs its folder. Several processes may append at once:
 * O_APPEND makes each write land whole at the end.
 * A writer killed mid-write (or a full disk) leaves a fragment without '\n'. An append that sees such a
 * torn tail writes '\n' + line, so the fragment stays on its own line. The tail check and the write are
 * two steps, so a concurrent writer's fragment can still land between them and the new line then follows
 * it on the same physical line: readers recover that line with recoverTrailingObject (jsonl.ts), so an
 * acknowledged line is never lost either way.
 * A failed append throws an error naming the file (a full disk says so) and nothing is acknowledged.
 */
import { closeSync, existsSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { dirname } from 'node:path';
import { fsyncDirectory, writeError } from './atomicWrite';

/** Options of {@link appendLineSync} / {@link appendLine}. */
export interface AppendOptions {
  /** fsync before returning (default true; a UI may only confirm an fsync'd line). */
  fsync?: boolean;
}

/**
 * A concurrent appender's write may be observed half-done (the size grows page by page while its bytes are
 * copied), so a last byte that is not '\n' is only called torn when it is still so, at the same size,
 * after a short pause. A mistaken call costs one blank line (which readers skip), never a line.
 */
const TORN_RECHECK_MS = 25;
const TORN_RECHECKS = 4;

/** The file's size and whether its last byte is '\n' (true for an empty file). */
function tailSync(fd: number): { size: number; newline: boolean } {
  const size = fstatSync(fd).size;
  if (size === 0) return { size, newline: true };
  const last = Buffer.alloc(1);
  readSync(fd, last, 0, 1, size - 1);
  return { size, newline: last[0] === 0x0a };
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** True when the open file's last line is unterminated and stays so (see TORN_RECHECK_MS). */
function hasTornTail(fd: number): boolean {
  let seen = tailSync(fd);
  for (let i = 0; i < TORN_RECHECKS && !seen.newline; i++) {
    sleepSync(TORN_RECHECK_MS);
    const again = tailSync(fd);
    if (!again.newline && again.size === seen.size) return true;
    seen = again;
  }
  return !seen.newline;
}

async function tailAsync(handle: FileHandle): Promise<{ size: number; newline: boolean }> {
  const size = (await handle.stat()).size;
  if (size === 0) return { size, newline: true };
  const last = Buffer.alloc(1);
  await handle.read(last, 0, 1, size - 1);
  return { size, newline: last[0] === 0x0a };
}

/** Async twin of {@link hasTornTail}. */
async function hasTornTailAsync(handle: FileHandle): Promise<boolean> {
  let seen = await tailAsync(handle);
  for (let i = 0; i < TORN_RECHECKS && !seen.newline; i++) {
    await sleep(TORN_RECHECK_MS);
    const again = await tailAsync(handle);
    if (!again.newline && again.size === seen.size) return true;
    seen = again;
  }
  return !seen.newline;
}

function checkLine(line: string): void {
  if (!line.endsWith('\n') || line.indexOf('\n') !== line.length - 1) throw new Error('appendLine: expected exactly one line ending in "\\n"');
}

/** Appends `line` (one line, ending in '\n') to `path` in one write; fsync'd unless `fsync: false`. */
export function appendLineSync(path: string, line: string, options: AppendOptions = {}): void {
  checkLine(line);
  const created = !existsSync(path);
  try {
    const fd = openSync(path, 'a+'); // O_APPEND | O_CREAT | O_RDWR
    try {
      const buffer = Buffer.from(hasTornTail(fd) ? `\n${line}` : line, 'utf8');
      const written = writeSync(fd, buffer, 0, buffer.length);
      if (written !== buffer.length) throw Object.assign(new Error(`short write (${written} of ${buffer.length} bytes)`), { code: 'ENOSPC' });
      if (options.fsync !== false) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    throw writeError(path, e, 'not saved');
  }
  if (created) fsyncDirectory(dirname(path));
}

/** Async twin of {@link appendLineSync}: resolves only after the write (and the fsync). */
export async function appendLine(path: string, line: string, options: AppendOptions = {}): Promise<void> {
  checkLine(line);
  const created = !existsSync(path);
  try {
    const handle = await open(path, 'a+');
    try {
      const torn = await hasTornTailAsync(handle);
      const buffer = Buffer.from(torn ? `\n${line}` : line, 'utf8');
      const { bytesWritten } = await handle.write(buffer, 0, buffer.length);
      if (bytesWritten !== buffer.length) throw Object.assign(new Error(`short write (${bytesWritten} of ${buffer.length} bytes)`), { code: 'ENOSPC' });
      if (options.fsync !== false) await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (e) {
    throw writeError(path, e, 'not saved');
  }
  if (created) fsyncDirectory(dirname(path));
}
