/**
 * Pure operations on a ranking being edited: groups of response indices, best group first; a group of
 * several responses is a tie. Used by the rank view's keys (Alt+↑/↓, `=`, `-`), drag and drop, and the
 * typed order (`312`; `=` ties a card with the one typed before it: `3=12` puts 3 and 1 first, tied, then 2),
 * previewed on the cards while it is typed and applied with Enter.
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

/** A typed order read so far: the groups it gives (response indices), and whether it names every card. */
export interface TypedOrder {
  groups: Groups;
  /** Every card is placed: Enter saves `groups`. */
  complete: boolean;
  /** Why the order cannot become valid by typing more (a number that is no card, one typed twice, "=" first). */
  error?: string;
}

/**
 * Reads a typed order of display labels (the 1-based numbers on the cards), best first: `312` puts card 3
 * first, then 1, then 2; `=` ties a card with the one typed just before it, so `3=12` ranks 3 and 1 tied
 * first, then 2, and `1=2=3` ties all three. Partial orders are fine while typing (`complete` false); an
 * `error` says what no further key can fix. Groups are of response indices (through `shown`).
 */
export function readTypedOrder(typed: string, shown: number[]): TypedOrder {
  const n = shown.length;
  const groups: Groups = [];
  const seen = new Set<number>();
  let tieNext = false;
  const fail = (error: string): TypedOrder => ({ groups, complete: false, error });
  for (const ch of typed) {
    if (ch === '=') {
      if (groups.length === 0) return fail(`"=" must follow a card number`);
      if (tieNext) return fail(`"==": one "=" ties two cards`);
      tieNext = true;
      continue;
    }
    const label = Number(ch);
    if (!Number.isInteger(label) || label < 1 || label > n) return fail(`${ch} is not a card number (1–${n})`);
    if (seen.has(label)) return fail(`${label} is typed twice`);
    seen.add(label);
    const r = shown[label - 1];
    if (tieNext) groups[groups.length - 1].push(r);
    else groups.push([r]);
    tieNext = false;
  }
  return { groups, complete: seen.size === n && !tieNext };
}

/**
 * A typed order to save: its groups, or why it cannot be saved (an error, or not every card placed yet).
 */
export function parseTypedOrder(typed: string, shown: number[]): { groups: Groups } | { error: string } {
  const read = readTypedOrder(typed, shown);
  const n = shown.length;
  if (read.error) return { error: `"${typed}": ${read.error}` };
  if (typed.endsWith('=')) return { error: `"${typed}": ends with "="` };
  if (!read.complete) return { error: `"${typed}": give all ${n} cards (e.g. ${Array.from({ length: n }, (_, i) => n - i).join('')})` };
  return { groups: read.groups };
}

/** The rank (1-based group number) each response gets from a typed order so far (placed responses only). */
export function typedRanks(order: TypedOrder): Map<number, number> {
  const out = new Map<number, number>();
  order.groups.forEach((g, i) => g.forEach((r) => out.set(r, i + 1)));
  return out;
}
