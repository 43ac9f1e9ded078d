/**
 * A compact set of item ids for the streaming readers: an open-addressing table of 52-bit id hashes with
 * two numbers per id (its line, signed, and the byte offset of that line), about 20 bytes an id instead of
 * a JavaScript string and Map entry (~100 bytes), so checking a million-line file for duplicate ids stays
 * small next to the file. A hash match is confirmed by the caller (re-reading the first line), so two
 * different ids that share a hash are never reported as one.
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

export class IdTable {
  private keys = new Float64Array(1024);
  private lines = new Int32Array(1024);
  private offsets = new Float64Array(1024);
  private count = 0;

  /**
   * Every stored entry whose hash equals `id`'s, as { line, offset } (usually none or one); `same(offset)`
   * confirms an entry really holds `id`. Returns the confirmed entry, or inserts (line, offset) and returns undefined.
   */
  findOrAdd(id: string, line: number, offset: number, same: (offset: number) => boolean): { line: number; offset: number } | undefined {
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
    if (++this.count * 4 > this.keys.length * 3) this.grow();
    return undefined;
  }

  private grow(): void {
    const { keys, lines, offsets } = this;
    this.keys = new Float64Array(keys.length * 2);
    this.lines = new Int32Array(keys.length * 2);
    this.offsets = new Float64Array(keys.length * 2);
    const mask = this.keys.length - 1;
    for (let j = 0; j < keys.length; j++) {
      if (keys[j] === 0) continue;
      let i = keys[j] % this.keys.length & mask;
      while (this.keys[i] !== 0) i = (i + 1) & mask;
      this.keys[i] = keys[j];
      this.lines[i] = lines[j];
      this.offsets[i] = offsets[j];
    }
  }
}
