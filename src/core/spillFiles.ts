/**
 * Temporary line files for the streaming commands that would otherwise hold a whole file's worth of state
 * in memory: records are hash-partitioned by a key (an item id) into `count` partitions, each with a few
 * named streams (e.g. "items", "events"), written through a small buffer and read back one partition at a
 * time. The files live in one folder under os.tmpdir(), removed by close(), and also when the process
 * exits or is interrupted (SIGINT / SIGTERM) before close() ran; releasePartitionMemory between partitions
 * keeps the peak at one partition's. Streams hold lines (write, readAll, lines) or float64 numbers
 * (writeNumbers, readNumbers). `dap stats` uses it for logs larger than its memory budget
 * (core/projectStats.ts), the task scans for files with more ids than theirs (core/taskScan.ts).
 */
import { closeSync, existsSync, fstatSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getHeapSpaceStatistics, getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { hash32 } from './idTable';
import { readJsonlLines } from './jsonl';

/** Bytes buffered per file before a write. */
const FLUSH_BYTES = 64 * 1024;

/** Folders of SpillFiles not yet closed: removed at exit or on a signal. */
const openFolders = new Set<string>();
let handlersInstalled = false;

function removeOpenFolders(): void {
  for (const dir of openFolders) rmSync(dir, { recursive: true, force: true });
  openFolders.clear();
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', removeOpenFolders);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, function onSignal() {
      removeOpenFolders();
      if (process.listenerCount(signal) > 1) return; // someone else handles the signal: leave it to them
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal); // the default action: exit as the signal says
    });
  }
}

let fullGc: (() => void) | undefined;
/** Heap and external memory in use after the last collection releasePartitionMemory ran. */
let usedAfterGc = 0;
/** Garbage allowed to pile up between two collections. */
const GARBAGE_BYTES = 16 * 2 ** 20;

/**
 * The heap in use outside the young generation plus the memory of typed arrays and Buffers (freed only when
 * their objects are collected). The young generation is left out: its garbage goes at the next scavenge,
 * which costs nothing for the dead, so counting it (up to its 16 MB semi-space) forced a full collection
 * after nearly every partition (measured: 121 of 128 at 1M events, 2.4 s).
 */
function usedMemory(): number {
  let used = 0;
  for (const space of getHeapSpaceStatistics()) if (!YOUNG_SPACES.has(space.space_name)) used += space.space_used_size;
  return used + getHeapStatistics().external_memory;
}
const YOUNG_SPACES = new Set(['new_space', 'new_large_object_space']);

/**
 * A full garbage collection once the heap and typed arrays have grown by GARBAGE_BYTES since the last
 * one, for a caller done with one partition before reading the next: V8 otherwise lets old, dead
 * partitions pile up to several times the live heap before it collects (measured: 630 MB of heap holding
 * 57 MB live; a partition's typed arrays, outside the heap, do not even count towards that), so the peak
 * would grow with the number of partitions, not stay at one.
 */
export function releasePartitionMemory(): void {
  if (usedMemory() < usedAfterGc + GARBAGE_BYTES) return;
  if (!fullGc) {
    setFlagsFromString('--expose-gc');
    fullGc = runInNewContext('gc') as () => void;
  }
  fullGc();
  usedAfterGc = usedMemory();
}

/** The partition (0 … count − 1) of a key. */
export function partitionOf(key: string, count: number): number {
  return partitionOfHash(hash32(key), count);
}

/** The partition of a key whose hash32 is `h` (what partitionOf computes, for a caller that kept the hash). */
export function partitionOfHash(h: number, count: number): number {
  return count === 1 ? 0 : (h >>> 1) % count; // hash32 is odd: its low bit says nothing
}

/**
 * Merges sources that are each in ascending order of `key` into one ascending order, passing each element
 * to `emit` with its source's index; on equal keys the lower source index goes first (so a caller orders
 * what shares a line by the order of its sources).
 */
export async function mergeSorted<T>(sources: readonly AsyncIterator<T>[], key: (t: T) => number, emit: (t: T, source: number) => void): Promise<void> {
  const heads: (T | undefined)[] = [];
  const next = async (s: number) => {
    const r = await sources[s].next();
    heads[s] = r.done ? undefined : r.value;
  };
  for (let s = 0; s < sources.length; s++) await next(s);
  for (;;) {
    let best = -1;
    for (let s = 0; s < heads.length; s++) if (heads[s] !== undefined && (best < 0 || key(heads[s]!) < key(heads[best]!))) best = s;
    if (best < 0) return;
    emit(heads[best]!, best);
    await next(best);
  }
}

/**
 * One buffered output file. Lines are encoded into the buffer as they are written, so no line's string
 * outlives the call (strings held until a flush would survive young collections and pile up as old garbage).
 */
interface SpillFile {
  fd: number;
  buffer: Buffer;
  used: number;
}

/** One buffered output file of float64 numbers. */
interface NumberFile {
  fd: number;
  buffer: Float64Array;
  used: number;
}

export class SpillFiles<S extends string> {
  private readonly dir: string;
  /** The open files, by stream and partition (sparse arrays): found per write without building a key string. */
  private readonly openLines = new Map<S, SpillFile[]>();
  private readonly openNumbers = new Map<S, NumberFile[]>();
  /** The buffer readNumbers reads into. */
  private scratch = new Float64Array(0);
  /** Files that received a line (kept after finishWriting). */
  private readonly written = new Set<string>();
  private closed = false;
  /** False for a view of another SpillFiles' folder (the `folder` argument): that one removes it. */
  private readonly ownsFolder: boolean;

  /**
   * Creates the folder for `count` partitions; S names the streams (files) of each partition. With
   * `folder`, writes into that existing folder instead (another thread's SpillFiles made it and removes it).
   */
  constructor(readonly count: number, prefix = 'dap-spill-', folder?: string) {
    this.ownsFolder = folder === undefined;
    if (folder !== undefined) {
      this.dir = folder;
      return;
    }
    installHandlers();
    this.dir = mkdtempSync(join(tmpdir(), prefix));
    openFolders.add(this.dir);
  }

  /** Takes in the files of `stream` that a view of this folder (another thread's) wrote: readable from now on. */
  adopt(stream: S): void {
    for (let p = 0; p < this.count; p++) if (existsSync(this.path(p, stream))) this.written.add(`${stream}-${p}`);
  }

  private path(partition: number, stream: S): string {
    return join(this.dir, `${stream}-${partition}.jsonl`);
  }

  /** Appends one line (without its '\n') to `stream` of `partition`. */
  write(partition: number, stream: S, line: string): void {
    let f = this.openLines.get(stream)?.[partition];
    if (!f) { // a file written before finishWriting is appended to, never truncated
      const key = `${stream}-${partition}`;
      f = { fd: openSync(this.path(partition, stream), this.written.has(key) ? 'a' : 'w'), buffer: Buffer.allocUnsafe(FLUSH_BYTES), used: 0 };
      this.written.add(key);
      if (!this.openLines.has(stream)) this.openLines.set(stream, []);
      this.openLines.get(stream)![partition] = f;
    }
    const most = 3 * line.length + 1; // UTF-8 bytes of a UTF-16 string, at most
    if (f.used + most > f.buffer.length) this.flushFile(f);
    if (most > f.buffer.length) writeSync(f.fd, `${line}\n`);
    else {
      f.used += f.buffer.write(line, f.used);
      f.buffer[f.used++] = 0x0a;
    }
  }

  /** Appends numbers (stored as float64, read back by readNumbers) to `stream` of `partition`. */
  writeNumbers(partition: number, stream: S, ...values: number[]): void {
    this.writeNumberArray(partition, stream, values, values.length);
  }

  /** writeNumbers of the first `count` numbers of `values` (a caller's reused array: no array per call). */
  writeNumberArray(partition: number, stream: S, values: ArrayLike<number>, count: number): void {
    let f = this.openNumbers.get(stream)?.[partition];
    if (!f) {
      const key = `${stream}-${partition}`;
      f = { fd: openSync(this.path(partition, stream), this.written.has(key) ? 'a' : 'w'), buffer: new Float64Array(FLUSH_BYTES / 8), used: 0 };
      this.written.add(key);
      if (!this.openNumbers.has(stream)) this.openNumbers.set(stream, []);
      this.openNumbers.get(stream)![partition] = f;
    }
    for (let i = 0; i < count; i++) {
      if (f.used === f.buffer.length) this.flushNumbers(f);
      f.buffer[f.used++] = values[i];
    }
  }

  private flushNumbers(f: NumberFile): void {
    if (f.used > 0) writeSync(f.fd, new Uint8Array(f.buffer.buffer, 0, f.used * 8));
    f.used = 0;
  }

  /**
   * The numbers written to `stream` of `partition` with writeNumbers, in order, read whole into a buffer
   * this object reuses: valid until its next readNumbers call (so reading partition after partition makes
   * no garbage).
   */
  readNumbers(partition: number, stream: S): Float64Array {
    if (!this.written.has(`${stream}-${partition}`)) return new Float64Array(0);
    const fd = openSync(this.path(partition, stream), 'r');
    try {
      const bytes = fstatSync(fd).size;
      if (this.scratch.byteLength < bytes) this.scratch = new Float64Array(Math.ceil(bytes / 8 * 1.25));
      const view = new Uint8Array(this.scratch.buffer, 0, bytes);
      for (let done = 0; done < bytes; ) {
        const n = readSync(fd, view, done, bytes - done, done);
        if (n === 0) throw new Error(`${this.path(partition, stream)}: shorter than its size`);
        done += n;
      }
      return this.scratch.subarray(0, bytes / 8);
    } finally {
      closeSync(fd);
    }
  }

  private flushFile(f: SpillFile): void {
    if (f.used > 0) writeSync(f.fd, f.buffer, 0, f.used);
    f.used = 0;
  }

  /** Writes out every buffer and closes the files: call before reading what was written. */
  finishWriting(): void {
    for (const files of this.openLines.values()) files.forEach((f) => (this.flushFile(f), closeSync(f.fd))); // forEach skips the holes
    for (const files of this.openNumbers.values()) files.forEach((f) => (this.flushNumbers(f), closeSync(f.fd)));
    this.openLines.clear();
    this.openNumbers.clear();
  }

  /**
   * The lines written to `stream` of `partition`, in order, read whole (for a file whose size the caller
   * bounds, as a partition of a budget is; lines() streams any size).
   */
  readAll(partition: number, stream: S): string[] {
    const lines = this.readText(partition, stream).split('\n');
    lines.pop(); // after the last '\n'
    return lines;
  }

  /** What was written to `stream` of `partition`, read whole: every line with its '\n' ('' if none). */
  readText(partition: number, stream: S): string {
    return this.written.has(`${stream}-${partition}`) ? readFileSync(this.path(partition, stream), 'utf8') : '';
  }

  /** The lines written to `stream` of `partition`, in order (none if nothing was written). */
  async *lines(partition: number, stream: S): AsyncGenerator<string> {
    const path = this.path(partition, stream);
    if (!this.written.has(`${stream}-${partition}`)) return;
    for await (const l of readJsonlLines(path, { chunkSize: 64 * 1024 })) if (l.text !== '') yield l.text; // small reads: a merge holds one stream per partition open
  }

  /** Closes the files and removes the folder (not a view of another's: the `folder` argument), also when writing failed half way; safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const files of [...this.openLines.values(), ...this.openNumbers.values()]) files.forEach((f) => closeSync(f.fd));
    this.openLines.clear();
    this.openNumbers.clear();
    if (!this.ownsFolder) return;
    rmSync(this.dir, { recursive: true, force: true });
    openFolders.delete(this.dir);
  }

  /** The folder holding the files (tests check it is gone). */
  get folder(): string {
    return this.dir;
  }
}
