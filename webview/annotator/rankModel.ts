/**
 * Pure operations on a ranking being edited: groups of response indices, best group first; a group of
 * several responses is a tie. Used by the rank view's keys (Alt+↑/↓, `=`, `-`), drag and drop, and the
 * typed order (`312`, `3=12`) applied with Enter.
 */

export type Groups = number[][];

/** Index of the group holding response `r`. */
export function groupOf(groups: Groups, r: number): number {
  return groups.findIndex((g) => g.includes(r));
}

/** Responses in display order of the ranking (best first, groups flattened). */
export function flatten(groups: Groups): number[] {
  return groups.flat();
}

function clone(groups: Groups): Groups {
  return groups.map((g) => [...g]);
}

/** Moves `r` one place up: out of its tie group (placed just above it), or above the previous group. */
export function moveUp(groups: Groups, r: number): Groups {
  const out = clone(groups);
  const g = groupOf(out, r);
  if (g < 0) return out;
  if (out[g].length > 1) {
    out[g] = out[g].filter((x) => x !== r);
    out.splice(g, 0, [r]);
    return out;
  }
  if (g === 0) return out;
  const [single] = out.splice(g, 1);
  out.splice(g - 1, 0, single);
  return out;
}

/** Moves `r` one place down: out of its tie group (placed just below it), or below the next group. */
export function moveDown(groups: Groups, r: number): Groups {
  const out = clone(groups);
  const g = groupOf(out, r);
  if (g < 0) return out;
  if (out[g].length > 1) {
    out[g] = out[g].filter((x) => x !== r);
    out.splice(g + 1, 0, [r]);
    return out;
  }
  if (g === out.length - 1) return out;
  const [single] = out.splice(g, 1);
  out.splice(g + 1, 0, single);
  return out;
}

/** Key `=`: ties `r` with the group above it (no change for the top group). */
export function mergeUp(groups: Groups, r: number): Groups {
  const out = clone(groups);
  const g = groupOf(out, r);
  if (g <= 0) return out;
  out[g] = out[g].filter((x) => x !== r);
  out[g - 1].push(r);
  return out.filter((grp) => grp.length > 0);
}

/** Key `-`: takes `r` out of its tie group, as its own group just below it. */
export function splitOut(groups: Groups, r: number): Groups {
  const out = clone(groups);
  const g = groupOf(out, r);
  if (g < 0 || out[g].length < 2) return out;
  out[g] = out[g].filter((x) => x !== r);
  out.splice(g + 1, 0, [r]);
  return out;
}

/**
 * Drag and drop: puts `r` on its own just before (`after` false) or after the group of `target`;
 * with `tie`, joins the target's group instead.
 */
export function dropOn(groups: Groups, r: number, target: number, where: 'before' | 'after' | 'tie'): Groups {
  if (r === target) return clone(groups);
  const out = clone(groups)
    .map((g) => g.filter((x) => x !== r))
    .filter((g) => g.length > 0);
  const t = groupOf(out, target);
  if (t < 0) return clone(groups);
  if (where === 'tie') out[t].push(r);
  else out.splice(where === 'before' ? t : t + 1, 0, [r]);
  return out;
}

/**
 * Parses a typed order of display labels (1-based positions on screen): `312` or `3=12`
 * (`=` ties a label with the one before). Returns groups of response indices via `shown`, or an error
 * message when the order is not a permutation of all labels.
 */
export function parseTypedOrder(typed: string, shown: number[]): { groups: Groups } | { error: string } {
  const n = shown.length;
  const groups: Groups = [];
  const seen = new Set<number>();
  let tieNext = false;
  for (const ch of typed) {
    if (ch === '=') {
      if (groups.length === 0) return { error: `"${typed}": "=" must follow a number` };
      tieNext = true;
      continue;
    }
    const label = Number(ch);
    if (!Number.isInteger(label) || label < 1 || label > n) return { error: `"${typed}": ${ch} is not a response number (1–${n})` };
    if (seen.has(label)) return { error: `"${typed}": ${label} appears twice` };
    seen.add(label);
    const r = shown[label - 1];
    if (tieNext) groups[groups.length - 1].push(r);
    else groups.push([r]);
    tieNext = false;
  }
  if (tieNext) return { error: `"${typed}": ends with "="` };
  if (seen.size !== n) return { error: `"${typed}": give all ${n} responses (e.g. ${Array.from({ length: n }, (_, i) => n - i).join('')})` };
  return { groups };
}
