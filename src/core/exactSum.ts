/**
 * A float sum that does not depend on the order of its terms: Shewchuk's exact partials (the algorithm of
 * Python's math.fsum), rounded once at the end to the float nearest the exact sum. The statistics that
 * average many per-item values (mean Kendall τ-b per annotator pair, the per-item scores of a model
 * comparison) add them through one of these, so a report built one partition of the log at a time
 * (core/projectStats.ts) comes out bit-identical to one built from the whole log in memory.
 */
export class ExactSum {
  /** Non-overlapping partials, smallest magnitude first; their exact sum is the sum so far. */
  private readonly partials: number[] = [];

  /** Adds a finite value. */
  add(value: number): this {
    let x = value;
    let i = 0;
    for (const p of this.partials) {
      let y = p;
      if (Math.abs(x) < Math.abs(y)) [x, y] = [y, x];
      const hi = x + y;
      const lo = y - (hi - x);
      if (lo !== 0) this.partials[i++] = lo;
      x = hi;
    }
    this.partials.length = i;
    this.partials.push(x);
    return this;
  }

  /** The exact sum rounded to the nearest float (ties to even). */
  value(): number {
    const p = this.partials;
    let n = p.length;
    if (n === 0) return 0;
    let hi = p[--n];
    let lo = 0;
    while (n > 0) {
      const x = hi;
      const y = p[--n];
      hi = x + y;
      lo = y - (hi - x);
      if (lo !== 0) break;
    }
    // Half-way case: the partials below decide the rounding direction.
    if (n > 0 && ((lo < 0 && p[n - 1] < 0) || (lo > 0 && p[n - 1] > 0))) {
      const y = lo * 2;
      const x = hi + y;
      if (y === x - hi) hi = x;
    }
    return hi;
  }
}
