/**
 * Pairwise view of judgments, shared by compile.ts and agreement.ts. A judgment (groups best first)
 * says, for every two responses i < j it contains: 'first' (i better), 'second' (j better), 'tie'
 * (same group) or 'both_bad' (a both-bad pair judgment). Labels are over response INDICES, not shown
 * positions. Majority vote over annotators: the label with strictly the most votes; a tied vote has no
 * majority (the pair is dropped).
 */
import type { Judgment } from './types';

/** Outcome of one response pair (i < j) in one judgment. */
export type PairLabel = 'first' | 'second' | 'tie' | 'both_bad';

/** One pair outcome: responses i < j of an item. */
export interface PairOutcome {
  i: number;
  j: number;
  label: PairLabel;
}

/** Every pair outcome a judgment states, ordered by (i, j). */
export function judgmentPairs(judgment: Judgment): PairOutcome[] {
  const groupOf = new Map<number, number>();
  judgment.ranking.forEach((g, gi) => g.forEach((r) => groupOf.set(r, gi)));
  const members = [...groupOf.keys()].sort((a, b) => a - b);
  const out: PairOutcome[] = [];
  for (let x = 0; x < members.length; x++) {
    for (let y = x + 1; y < members.length; y++) {
      const i = members[x];
      const j = members[y];
      const gi = groupOf.get(i) as number;
      const gj = groupOf.get(j) as number;
      const label: PairLabel = judgment.bothBad ? 'both_bad' : gi === gj ? 'tie' : gi < gj ? 'first' : 'second';
      out.push({ i, j, label });
    }
  }
  return out;
}

/** `i,j` key of a response pair. */
export function pairKey(i: number, j: number): string {
  return `${i},${j}`;
}

/** Votes on one response pair of one item. */
export interface PairVotes {
  i: number;
  j: number;
  votes: Record<PairLabel, number>;
  /** The label with strictly the most votes, or undefined when the top count is shared. */
  majority?: PairLabel;
}

/** Majority of a vote count: strictly the most votes, else undefined. */
export function majorityLabel(votes: Record<PairLabel, number>): PairLabel | undefined {
  let best: PairLabel | undefined;
  let bestCount = 0;
  let shared = false;
  for (const label of ['first', 'second', 'tie', 'both_bad'] as const) {
    if (votes[label] > bestCount) {
      best = label;
      bestCount = votes[label];
      shared = false;
    } else if (votes[label] === bestCount && bestCount > 0) shared = true;
  }
  return shared ? undefined : best;
}

/** Tallies the pair outcomes of an item's judgments (one judgment per annotator), ordered by (i, j). */
export function tallyPairs(judgments: readonly Judgment[]): PairVotes[] {
  const tally = new Map<string, PairVotes>();
  for (const judgment of judgments) {
    for (const { i, j, label } of judgmentPairs(judgment)) {
      const key = pairKey(i, j);
      const entry = tally.get(key) ?? { i, j, votes: { first: 0, second: 0, tie: 0, both_bad: 0 } };
      entry.votes[label]++;
      tally.set(key, entry);
    }
  }
  const out = [...tally.values()].sort((a, b) => a.i - b.i || a.j - b.j);
  for (const v of out) v.majority = majorityLabel(v.votes);
  return out;
}

/**
 * Consensus groups of an item (best first) from majority pair outcomes: Copeland score = majority wins
 * minus majority losses; responses with equal scores share a group. Only responses that appear in some
 * judgment are placed.
 */
export function consensusGroups(votes: readonly PairVotes[]): number[][] {
  const score = new Map<number, number>();
  for (const v of votes) {
    score.set(v.i, score.get(v.i) ?? 0);
    score.set(v.j, score.get(v.j) ?? 0);
    if (v.majority === 'first') {
      score.set(v.i, (score.get(v.i) as number) + 1);
      score.set(v.j, (score.get(v.j) as number) - 1);
    } else if (v.majority === 'second') {
      score.set(v.j, (score.get(v.j) as number) + 1);
      score.set(v.i, (score.get(v.i) as number) - 1);
    }
  }
  const order = [...score.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  const groups: number[][] = [];
  let last = Number.NaN;
  for (const [r, s] of order) {
    if (groups.length > 0 && s === last) groups[groups.length - 1].push(r);
    else groups.push([r]);
    last = s;
  }
  return groups;
}
