/**
 * A compact set of item ids for the streaming readers. Per id, appended in fixed-size chunks (never copied
 * when the table grows): a 52-bit hash, a second 32-bit hash, its line (signed), the byte offset of that
 * line and one value the caller stores (a response count), 28 bytes; and an open-addressing index of
 * 4-byte slots holding entry numbers (load at most 3/4, so 5.3 to 10.7 bytes an id). About 34 to 39 bytes
 * an id instead of a JavaScript string and Map entry (~100 bytes), and growing copies only the 4-byte
 * slots, so checking a million-line file stays small next to the file. In findOrAdd (duplicate ids) a hash
 * match is confirmed by the caller (re-reading the first line), so two different ids that share a hash are
 * never reported as one. find (looking up an id from elsewhere, e.g. an annotation log, without
 * re-reading the task file per lookup) matches both hashes, 84 bits: a different id matches by chance with
 * probability about (ids in the table)/2^84, ~5e-20 for a million items.
 */

/** 52-bit FNV-1a-style hash of a string (two 32-bit lanes with different seeds). */
export function hash52(s: string): number {
  let a = 0x811c9dc5, b = 0x01000193 ^ s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return ((b >>> 12) * 2 ** 32) + (a >>> 0) + 1; // 20 + 32 bits, never 0 (0 marks an empty slot)
}

/** A second, independent 32-bit hash of a string (murmur-style mixing), never 0. */
export function hash32(s: string): number {
  let h = 0x9747b28c ^ s.length;
  for (let i = 0; i < s.length; i++) {
    h = Math.imul(h ^ s.charCodeAt(i), 0xcc9e2d51);
    h = (h << 13) | (h >>> 19);
  }
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 1;
}

/** Entries per chunk of the per-id arrays. */
const CHUNK_BITS = 16;
const CHUNK = 1 << CHUNK_BITS;
const IN_CHUNK = CHUNK - 1;

export class IdTable {
  /** Open-addressing index: 0 = empty, else entry number + 1. */
  private slots = new Uint32Array(1024);
  /** Per entry, in chunks of CHUNK: the 52-bit hash, the second hash, line, offset, value. */
  private readonly keys: Float64Array[] = [];
  private readonly fps: Int32Array[] = [];
  private readonly lines: Int32Array[] = [];
  private readonly offsets: Float64Array[] = [];
  private readonly values: Int32Array[] = [];
  private count = 0;

  private keyOf(entry: number): number {
    return this.keys[entry >>> CHUNK_BITS][entry & IN_CHUNK];
  }

  /**
   * Every stored entry whose hash equals `id`'s, as { line, offset } (usually none or one); `same(offset)`
   * confirms an entry really holds `id`. Returns the confirmed entry, or inserts (line, offset) and returns undefined.
   */
  findOrAdd(id: string, line: number, offset: number, same: (offset: number) => boolean, value = 0): { line: number; offset: number } | undefined {
    return this.findOrAddHashed(hash52(id), hash32(id), line, offset, same, value);
  }

  /** findOrAdd for an id known by its two hashes (hash52, hash32) only. */
  findOrAddHashed(h: number, fp: number, line: number, offset: number, same: (offset: number) => boolean, value = 0): { line: number; offset: number } | undefined {
    const mask = this.slots.length - 1;
    let i = h % this.slots.length & mask;
    for (let s = this.slots[i]; s !== 0; s = this.slots[i]) {
      const e = s - 1, c = e >>> CHUNK_BITS, k = e & IN_CHUNK;
      if (this.keys[c][k] === h && same(this.offsets[c][k])) return { line: this.lines[c][k], offset: this.offsets[c][k] };
      i = (i + 1) & mask;
    }
    this.append(i, h, fp, line, offset, value);
    return undefined;
  }

  /**
   * Adds an entry from its two hashes (as entry(…) gives them), without looking for an equal one: for a
   * table rebuilt from entries already known distinct (core/taskScan.ts reads them back from its partitions).
   */
  addHashed(h: number, fp: number, line: number, offset: number, value: number): void {
    const mask = this.slots.length - 1;
    let i = h % this.slots.length & mask;
    while (this.slots[i] !== 0) i = (i + 1) & mask;
    this.append(i, h, fp, line, offset, value);
  }

  /** Entry `entry`'s hashes, line, offset and value (entries are numbered 0 … size − 1 in insertion order). */
  entry(entry: number): { h: number; fp: number; line: number; offset: number; value: number } {
    const c = entry >>> CHUNK_BITS, k = entry & IN_CHUNK;
    return { h: this.keys[c][k], fp: this.fps[c][k], line: this.lines[c][k], offset: this.offsets[c][k], value: this.values[c][k] };
  }

  /** The entry number of `id` (both hashes equal; see the file comment), or -1 when the table has no such id. */
  find(id: string): number {
    return this.findHashed(hash52(id), hash32(id));
  }

  /** find for an id known by its two hashes (hash52, hash32). */
  findHashed(h: number, f: number): number {
    const mask = this.slots.length - 1;
    for (let i = h % this.slots.length & mask, s = this.slots[i]; s !== 0; i = (i + 1) & mask, s = this.slots[i]) {
      const e = s - 1, c = e >>> CHUNK_BITS, k = e & IN_CHUNK;
      if (this.keys[c][k] === h && this.fps[c][k] === f) return e;
    }
    return -1;
  }

  /** Replaces the value stored with entry `entry`. */
  setValue(entry: number, value: number): void {
    this.values[entry >>> CHUNK_BITS][entry & IN_CHUNK] = value;
  }

  /** The value stored with the id of entry `entry` (from find). */
  valueAt(entry: number): number {
    return this.values[entry >>> CHUNK_BITS][entry & IN_CHUNK];
  }

  /** Empties the table, keeping its arrays for the next ids (a caller filling one table per partition makes no garbage). */
  clear(): void {
    this.slots.fill(0);
    this.count = 0;
  }

  /** Number of ids (entry numbers from find are below it, and stay valid). */
  get size(): number {
    return this.count;
  }

  /** Stores a new entry and points slot `i` at it. */
  private append(i: number, h: number, fp: number, line: number, offset: number, value: number): void {
    const e = this.count++;
    const c = e >>> CHUNK_BITS, k = e & IN_CHUNK;
    if (c === this.keys.length) { // a new chunk (after clear() the old ones are reused)
      this.keys.push(new Float64Array(CHUNK));
      this.fps.push(new Int32Array(CHUNK));
      this.lines.push(new Int32Array(CHUNK));
      this.offsets.push(new Float64Array(CHUNK));
      this.values.push(new Int32Array(CHUNK));
    }
    this.keys[c][k] = h;
    this.fps[c][k] = fp;
    this.lines[c][k] = line;
    this.offsets[c][k] = offset;
    this.values[c][k] = value;
    this.slots[i] = e + 1;
    if (this.count * 4 > this.slots.length * 3) this.grow();
  }

  private grow(): void {
    this.slots = new Uint32Array(this.slots.length * 2);
    const mask = this.slots.length - 1;
    for (let e = 0; e < this.count; e++) {
      let i = this.keyOf(e) % this.slots.length & mask;
      while (this.slots[i] !== 0) i = (i + 1) & mask;
      this.slots[i] = e + 1;
    }
  }
}
