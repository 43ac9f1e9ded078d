/**
 * Bounds of a number (closed or open at either end, with the reason for them) and how they read in an error
 * ("a number in [0, 0.5)"). The training config's fields and the loss registry's per-method limits both use
 * them. Imports nothing.
 */

/** Bounds of a number; `why` is appended to the error of a value outside them. */
export interface Limits {
  min?: number;
  max?: number;
  minExclusive?: boolean;
  maxExclusive?: boolean;
  why?: string;
}

/** "a positive integer", "a number in [0, 0.5)", "a number > 0", … */
export function describeLimits(kind: 'number' | 'integer', l: Limits = {}): string {
  const noun = kind === 'integer' ? 'integer' : 'number';
  const { min, max } = l;
  if (min !== undefined && max !== undefined) return `a ${noun} in ${l.minExclusive ? '(' : '['}${min}, ${max}${l.maxExclusive ? ')' : ']'}`;
  if (min !== undefined) {
    if (min === 0 && l.minExclusive) return `a positive ${noun}`;
    if (kind === 'integer' && min === 1 && !l.minExclusive) return 'a positive integer';
    return `a${noun === 'integer' ? 'n' : ''} ${noun} ${l.minExclusive ? '>' : '≥'} ${min}`;
  }
  if (max !== undefined) return `a${noun === 'integer' ? 'n' : ''} ${noun} ${l.maxExclusive ? '<' : '≤'} ${max}`;
  return kind === 'integer' ? 'an integer' : 'a number';
}

/** Whether `v` lies within `l`. */
export function withinLimits(v: number, l: Limits = {}): boolean {
  if (l.min !== undefined && (l.minExclusive ? !(v > l.min) : !(v >= l.min))) return false;
  if (l.max !== undefined && (l.maxExclusive ? !(v < l.max) : !(v <= l.max))) return false;
  return true;
}
