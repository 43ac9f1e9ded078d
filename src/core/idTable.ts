/**
 * A compact set of item ids for the streaming readers: an open-addressing table of 52-bit id hashes with
 * four numbers per id (its line, signed, the byte offset of that line, a second 32-bit hash, and one value
 * the caller stores: a response count), about 28 bytes a slot instead of a JavaScript string and Map entry
 * (~100 bytes), so checking a million-line file stays small next to the file. In findOrAdd (duplicate
 * ids) a hash match is confirmed by the caller (re-reading the first line), so two different ids that
 * share a hash are never reported as one. find (looking up an id from elsewhere, e.g. an annotation log,
 * without re-reading the task file per lookup) matches both hashes, 84 bits: a different id matches by
 * chance with probability about (ids in the table)/2^84, ~5e-20 for a million items.
 */

/** 52-bit FNV-1a-style hash of a string (two 32-bit lanes with different seeds). */
function hash52(s: string): number {
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

export class IdTable {
  private keys = new Float64Array(1024);
  private lines = new Int32Array(1024);
  private offsets = new Float64Array(1024);
  private fps = new Int32Array(1024);
  private values = new Int32Array(1024);
  private count = 0;

  /**
   * Every stored entry whose hash equals `id`'s, as { line, offset } (usually none or one); `same(offset)`
   * confirms an entry really holds `id`. Returns the confirmed entry, or inserts (line, offset) and returns undefined.
   */
  findOrAdd(id: string, line: number, offset: number, same: (offset: number) => boolean, value = 0): { line: number; offset: number } | undefined {
    const h = hash52(id);
    const mask = this.keys.length - 1;
    let i = h % this.keys.length & mask;
    while (this.keys[i] !== 0) {
      if (this.keys[i] === h && same(this.offsets[i])) return { line: this.lines[i], offset: this.offsets[i] };
      i = (i + 1) & mask;
    }
    this.keys[i] = h;
    this.lines[i] = line;
    this.offsets[i] = offset;
    this.fps[i] = hash32(id);
    this.values[i] = value;
    if (++this.count * 4 > this.keys.length * 3) this.grow();
    return undefined;
  }

  /**
   * The slot of `id` (both hashes equal; see the file comment), or -1 when the table has no such id.
   * Slots are stable until the next insertion.
   */
  find(id: string): number {
    const h = hash52(id), f = hash32(id);
    const mask = this.keys.length - 1;
    for (let i = h % this.keys.length & mask; this.keys[i] !== 0; i = (i + 1) & mask) {
      if (this.keys[i] === h && this.fps[i] === f) return i;
    }
    return -1;
  }

  /** The value stored with the id in `slot` (from find). */
  valueAt(slot: number): number {
    return this.values[slot];
  }

  /** Number of slots (slot indices from find are below it). */
  get capacity(): number {
    return this.keys.length;
  }

  private grow(): void {
    const { keys, lines, offsets, fps, values } = this;
    this.keys = new Float64Array(keys.length * 2);
    this.lines = new Int32Array(keys.length * 2);
    this.offsets = new Float64Array(keys.length * 2);
    this.fps = new Int32Array(keys.length * 2);
    this.values = new Int32Array(keys.length * 2);
    const mask = this.keys.length - 1;
    for (let j = 0; j < keys.length; j++) {
      if (keys[j] === 0) continue;
      let i = keys[j] % this.keys.length & mask;
      while (this.keys[i] !== 0) i = (i + 1) & mask;
      this.keys[i] = keys[j];
      this.lines[i] = lines[j];
      this.offsets[i] = offsets[j];
      this.fps[i] = fps[j];
      this.values[i] = values[j];
    }
  }
}
