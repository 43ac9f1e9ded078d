/**
 * Inter-annotator agreement and per-response win statistics (pure functions over current judgments).
 * - Pairs: every response pair (i < j) judged by two annotators in `pair` judgments is one unit, labelled
 *   first-wins / second-wins / tie / both_bad over response INDICES (pairwise.ts), so the display order
 *   does not matter. Per annotator pair: percent agreement and Cohen's κ = (po − pe) / (1 − pe) with
 *   pe = Σ_k pA(k)·pB(k); κ is null when pe = 1 (both used one label only). Overall = mean over annotator
 *   pairs (κ over those where it is defined).
 * - Rankings: per annotator pair, Kendall τ-b (tie-corrected) between the two `rank` judgments of each
 *   common item over the responses both ranked, averaged over items; overall = mean over annotator pairs.
 * - With the majority: each annotator's pair outcomes (from all judgments) against the strict majority
 *   of the OTHER annotators on the same pair (no majority → not counted).
 * - Response records: comparisons, wins, losses, ties, both-bad counts per response over all judgments,
 *   and how many annotators compared it. A response "never won" when it lost every comparison it was in
 *   (no win, no tie) in the judgments of at least NEVER_WON_MIN_ANNOTATORS (2) annotators: the loser of a
 *   single pair judgment has lost "every" comparison by definition, which says nothing; a response every
 *   one of several annotators put below the others is one DPO will push down without bound (the IPO
 *   argument), worth a look. `dap stats`, `dap review` and the review panel count by this one rule.
 */
import { judgmentPairs, majorityLabel, pairKey, type PairLabel } from './pairwise';
import type { Judgment, TaskItem } from './types';

/** Cohen's κ of two label sequences of equal length. */
export function cohenKappa(a: readonly string[], b: readonly string[]): { n: number; po: number; pe: number; kappa: number | null } {
  if (a.length !== b.length) throw new Error(`cohenKappa: ${a.length} labels vs ${b.length}`);
  const n = a.length;
  if (n === 0) return { n, po: Number.NaN, pe: Number.NaN, kappa: null };
  const countA = new Map<string, number>();
  const countB = new Map<string, number>();
  let same = 0;
  for (let k = 0; k < n; k++) {
    if (a[k] === b[k]) same++;
    countA.set(a[k], (countA.get(a[k]) ?? 0) + 1);
    countB.set(b[k], (countB.get(b[k]) ?? 0) + 1);
  }
  const po = same / n;
  let pe = 0;
  for (const [label, ca] of countA) pe += (ca / n) * ((countB.get(label) ?? 0) / n);
  return { n, po, pe, kappa: pe >= 1 ? null : (po - pe) / (1 - pe) };
}

/** Kendall τ-b between two score vectors (lower value = better, equal = tie); null if undefined. */
export function kendallTauB(x: readonly number[], y: readonly number[]): number | null {
  if (x.length !== y.length) throw new Error(`kendallTauB: ${x.length} values vs ${y.length}`);
  let concordant = 0;
  let discordant = 0;
  let tiesX = 0;
  let tiesY = 0;
  let pairs = 0;
  for (let i = 0; i < x.length; i++) {
    for (let j = i + 1; j < x.length; j++) {
      pairs++;
      const dx = Math.sign(x[i] - x[j]);
      const dy = Math.sign(y[i] - y[j]);
      if (dx === 0) tiesX++;
      if (dy === 0) tiesY++;
      if (dx !== 0 && dy !== 0) {
        if (dx === dy) concordant++;
        else discordant++;
      }
    }
  }
  const denominator = Math.sqrt((pairs - tiesX) * (pairs - tiesY));
  return denominator === 0 ? null : (concordant - discordant) / denominator;
}

/** Agreement of two annotators on pair judgments. */
export interface PairAgreement {
  annotators: [string, string];
  /** Number of common units (item, response pair). */
  n: number;
  percent: number | null;
  kappa: number | null;
}

/** Agreement of two annotators on rankings. */
export interface RankAgreement {
  annotators: [string, string];
  /** Number of common items with a defined τ-b. */
  n: number;
  tau: number | null;
}

/** One annotator against the majority of the others. */
export interface MajorityAgreement {
  annotator: string;
  n: number;
  agree: number;
  rate: number | null;
}

/** Everything `dap stats` and the review feature show about agreement. */
export interface AgreementReport {
  pairs: { perAnnotatorPair: PairAgreement[]; overall: { n: number; percent: number | null; kappa: number | null } };
  rankings: { perAnnotatorPair: RankAgreement[]; overall: { n: number; tau: number | null } };
  withMajority: MajorityAgreement[];
}

function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((s, v) => s + v, 0) / values.length;
}

/** annotator → item → judgment, for judgments of one kind (or all when kind is undefined). */
function index(judgments: readonly Judgment[], kind?: 'pair' | 'rank'): Map<string, Map<string, Judgment>> {
  const out = new Map<string, Map<string, Judgment>>();
  for (const j of judgments) {
    if (kind && j.kind !== kind) continue;
    if (!out.has(j.annotator)) out.set(j.annotator, new Map());
    (out.get(j.annotator) as Map<string, Judgment>).set(j.item, j);
  }
  return out;
}

/** Sorted annotator pairs (a < b). */
function annotatorPairs(names: Iterable<string>): [string, string][] {
  const sorted = [...names].sort();
  const out: [string, string][] = [];
  for (let x = 0; x < sorted.length; x++) for (let y = x + 1; y < sorted.length; y++) out.push([sorted[x], sorted[y]]);
  return out;
}

/** Pair-judgment agreement per annotator pair and overall. */
export function pairAgreement(judgments: readonly Judgment[]): AgreementReport['pairs'] {
  const byAnnotator = index(judgments, 'pair');
  const perAnnotatorPair = annotatorPairs(byAnnotator.keys()).map(([a, b]): PairAgreement => {
    const labelsA: PairLabel[] = [];
    const labelsB: PairLabel[] = [];
    const ja = byAnnotator.get(a) as Map<string, Judgment>;
    const jb = byAnnotator.get(b) as Map<string, Judgment>;
    for (const [item, judgmentA] of ja) {
      const judgmentB = jb.get(item);
      if (!judgmentB) continue;
      const outcomesB = new Map(judgmentPairs(judgmentB).map((o) => [pairKey(o.i, o.j), o.label]));
      for (const o of judgmentPairs(judgmentA)) {
        const other = outcomesB.get(pairKey(o.i, o.j));
        if (other === undefined) continue;
        labelsA.push(o.label);
        labelsB.push(other);
      }
    }
    const k = cohenKappa(labelsA, labelsB);
    return { annotators: [a, b], n: k.n, percent: k.n > 0 ? k.po : null, kappa: k.kappa };
  });
  const withUnits = perAnnotatorPair.filter((p) => p.n > 0);
  return {
    perAnnotatorPair,
    overall: {
      n: withUnits.reduce((s, p) => s + p.n, 0),
      percent: mean(withUnits.map((p) => p.percent as number)),
      kappa: mean(withUnits.filter((p) => p.kappa !== null).map((p) => p.kappa as number)),
    },
  };
}

/** Group index of each response in a ranking. */
function rankPositions(judgment: Judgment): Map<number, number> {
  const out = new Map<number, number>();
  judgment.ranking.forEach((g, gi) => g.forEach((r) => out.set(r, gi)));
  return out;
}

/** Ranking agreement (mean Kendall τ-b over common items) per annotator pair and overall. */
export function rankAgreement(judgments: readonly Judgment[]): AgreementReport['rankings'] {
  const byAnnotator = index(judgments, 'rank');
  const perAnnotatorPair = annotatorPairs(byAnnotator.keys()).map(([a, b]): RankAgreement => {
    const taus: number[] = [];
    const jb = byAnnotator.get(b) as Map<string, Judgment>;
    for (const [item, judgmentA] of byAnnotator.get(a) as Map<string, Judgment>) {
      const judgmentB = jb.get(item);
      if (!judgmentB) continue;
      const posA = rankPositions(judgmentA);
      const posB = rankPositions(judgmentB);
      const common = [...posA.keys()].filter((r) => posB.has(r)).sort((x, y) => x - y);
      const tau = kendallTauB(common.map((r) => posA.get(r) as number), common.map((r) => posB.get(r) as number));
      if (tau !== null) taus.push(tau);
    }
    return { annotators: [a, b], n: taus.length, tau: mean(taus) };
  });
  const withItems = perAnnotatorPair.filter((p) => p.tau !== null);
  return { perAnnotatorPair, overall: { n: withItems.reduce((s, p) => s + p.n, 0), tau: mean(withItems.map((p) => p.tau as number)) } };
}

/** Each annotator's pair outcomes against the strict majority of the other annotators. */
export function agreementWithMajority(judgments: readonly Judgment[]): MajorityAgreement[] {
  // unit key (item, i, j) → annotator → label
  const units = new Map<string, Map<string, PairLabel>>();
  for (const j of judgments) {
    for (const o of judgmentPairs(j)) {
      const key = JSON.stringify([j.item, o.i, o.j]);
      if (!units.has(key)) units.set(key, new Map());
      (units.get(key) as Map<string, PairLabel>).set(j.annotator, o.label);
    }
  }
  const stats = new Map<string, { n: number; agree: number }>();
  for (const j of judgments) if (!stats.has(j.annotator)) stats.set(j.annotator, { n: 0, agree: 0 });
  for (const labels of units.values()) {
    for (const [annotator, label] of labels) {
      const votes: Record<PairLabel, number> = { first: 0, second: 0, tie: 0, both_bad: 0 };
      for (const [other, l] of labels) if (other !== annotator) votes[l]++;
      const majority = majorityLabel(votes);
      if (majority === undefined) continue;
      const s = stats.get(annotator) as { n: number; agree: number };
      s.n++;
      if (majority === label) s.agree++;
    }
  }
  return [...stats.entries()]
    .sort((x, y) => (x[0] < y[0] ? -1 : 1))
    .map(([annotator, s]) => ({ annotator, n: s.n, agree: s.agree, rate: s.n > 0 ? s.agree / s.n : null }));
}

/** Annotators whose judgments must all have put a response below every other it was compared with. */
export const NEVER_WON_MIN_ANNOTATORS = 2;

/** Win/loss statistics of one response over all current judgments. */
export interface ResponseStats {
  item: string;
  response: number;
  comparisons: number;
  wins: number;
  losses: number;
  ties: number;
  bothBad: number;
  /** Annotators whose judgments compared this response with another (both-bad judgments excluded). */
  annotators: number;
  /** Lost every comparison (no win, no tie) in the judgments of NEVER_WON_MIN_ANNOTATORS or more annotators. */
  neverWon: boolean;
}

/** The never-won rule (see the file comment) over a response's counts. */
export function isNeverWon(r: { wins: number; ties: number; losses: number; annotators: number }): boolean {
  return r.losses > 0 && r.wins === 0 && r.ties === 0 && r.annotators >= NEVER_WON_MIN_ANNOTATORS;
}

/** Per-response statistics for every response of every item (item order, then response index). */
export function responseStats(items: readonly TaskItem[], judgments: readonly Judgment[]): ResponseStats[] {
  const table = new Map<string, ResponseStats[]>();
  for (const item of items) {
    table.set(item.id, item.responses.map((_, response) => ({ item: item.id, response, comparisons: 0, wins: 0, losses: 0, ties: 0, bothBad: 0, annotators: 0, neverWon: false })));
  }
  for (const j of judgments) {
    const rows = table.get(j.item);
    if (!rows) continue;
    const compared = new Set<ResponseStats>();
    for (const { i, j: k, label } of judgmentPairs(j)) {
      const a = rows[i];
      const b = rows[k];
      if (!a || !b) continue;
      if (label !== 'both_bad') compared.add(a).add(b);
      a.comparisons++;
      b.comparisons++;
      if (label === 'first') {
        a.wins++;
        b.losses++;
      } else if (label === 'second') {
        b.wins++;
        a.losses++;
      } else if (label === 'tie') {
        a.ties++;
        b.ties++;
      } else {
        a.bothBad++;
        b.bothBad++;
      }
    }
    for (const r of compared) r.annotators++; // one current judgment per annotator and item
  }
  const out = [...table.values()].flat();
  for (const r of out) r.neverWon = isNeverWon(r);
  return out;
}

/** Pair agreement, ranking agreement and agreement with the majority together. */
export function agreementReport(judgments: readonly Judgment[]): AgreementReport {
  return { pairs: pairAgreement(judgments), rankings: rankAgreement(judgments), withMajority: agreementWithMajority(judgments) };
}
