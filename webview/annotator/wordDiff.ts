/**
 * Word-level diff of two texts by longest common subsequence over tokens (words and the whitespace
 * between them). Returns, for each side, its tokens marked `same` or `changed` (removed from the left /
 * added on the right). Quadratic in tokens, so very long pairs fall back to "everything differs".
 */

export interface DiffToken {
  text: string;
  /** True when the token is not part of the common subsequence. */
  changed: boolean;
}

export interface WordDiff {
  left: DiffToken[];
  right: DiffToken[];
  /** False when the texts were too long to diff (all tokens are then marked changed). */
  complete: boolean;
}

/** Largest token-count product diffed exactly (memory: one Uint32 per cell). */
const MAX_CELLS = 4_000_000;

/** Words and whitespace runs, in order; joining them gives the text back. */
export function tokenize(text: string): string[] {
  return text.match(/\s+|[^\s]+/g) ?? [];
}

/** True for a whitespace token (never marked changed, never matched). */
function isSpace(token: string): boolean {
  return /^\s+$/.test(token);
}

/**
 * LCS word diff of `a` (left) and `b` (right). The LCS runs over words only (whitespace would
 * otherwise dominate the match); whitespace tokens are kept in place and never marked.
 */
export function wordDiff(a: string, b: string): WordDiff {
  const ta = tokenize(a);
  const tb = tokenize(b);
  const wa = ta.filter((t) => !isSpace(t));
  const wb = tb.filter((t) => !isSpace(t));
  const n = wa.length;
  const m = wb.length;
  const keptA = new Uint8Array(n);
  const keptB = new Uint8Array(m);
  const complete = (n + 1) * (m + 1) <= MAX_CELLS;
  if (complete) {
    // lcs[i*(m+1)+j] = LCS length of wa[i..] and wb[j..]   (n+1, m+1)
    const w = m + 1;
    const lcs = new Uint32Array((n + 1) * w);
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i * w + j] = wa[i] === wb[j] ? lcs[(i + 1) * w + j + 1] + 1 : Math.max(lcs[(i + 1) * w + j], lcs[i * w + j + 1]);
      }
    }
    for (let i = 0, j = 0; i < n && j < m; ) {
      if (wa[i] === wb[j]) {
        keptA[i++] = 1;
        keptB[j++] = 1;
      } else if (lcs[(i + 1) * w + j] >= lcs[i * w + j + 1]) i++;
      else j++;
    }
  }
  const mark = (tokens: string[], kept: Uint8Array): DiffToken[] => {
    let k = 0;
    return tokens.map((text) => (isSpace(text) ? { text, changed: false } : { text, changed: !kept[k++] }));
  };
  return { left: mark(ta, keptA), right: mark(tb, keptB), complete };
}
