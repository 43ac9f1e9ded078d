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
 * The agreement statistics are tallies fed one item's judgments at a time and finished at the end
 * (AgreementTally): the in-memory functions and `dap stats` over a partitioned log use the same ones.
 */
import { ExactSum } from './exactSum';
import { judgmentPairs, majorityLabel, pairKey, type PairLabel } from './pairwise';
import type { ItemShape, Judgment } from './types';

/** Cohen's κ from label counts: `same` of `n` units agree; pe sums over countA's labels in its order. */
export function kappaFromCounts(n: number, same: number, countA: ReadonlyMap<string, number>, countB: ReadonlyMap<string, number>): { n: number; po: number; pe: number; kappa: number | null } {
  if (n === 0) return { n, po: Number.NaN, pe: Number.NaN, kappa: null };
  const po = same / n;
  let pe = 0;
  for (const [label, ca] of countA) pe += (ca / n) * ((countB.get(label) ?? 0) / n);
  return { n, po, pe, kappa: pe >= 1 ? null : (po - pe) / (1 - pe) };
}

/** Cohen's κ of two label sequences of equal length. */
export function cohenKappa(a: readonly string[], b: readonly string[]): { n: number; po: number; pe: number; kappa: number | null } {
  if (a.length !== b.length) throw new Error(`cohenKappa: ${a.length} labels vs ${b.length}`);
  const countA = new Map<string, number>();
  const countB = new Map<string, number>();
  let same = 0;
  for (let k = 0; k < a.length; k++) {
    if (a[k] === b[k]) same++;
    countA.set(a[k], (countA.get(a[k]) ?? 0) + 1);
    countB.set(b[k], (countB.get(b[k]) ?? 0) + 1);
  }
  return kappaFromCounts(a.length, same, countA, countB);
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

/** Sorted annotator pairs (a < b). */
function annotatorPairs(names: Iterable<string>): [string, string][] {
  const sorted = [...names].sort();
  const out: [string, string][] = [];
  for (let x = 0; x < sorted.length; x++) for (let y = x + 1; y < sorted.length; y++) out.push([sorted[x], sorted[y]]);
  return out;
}

/** Judgments grouped by item id, items in the order of their first judgment, each group in input order. */
export function groupByItem(judgments: readonly Judgment[]): Map<string, Judgment[]> {
  const byItem = new Map<string, Judgment[]>();
  for (const j of judgments) {
    const group = byItem.get(j.item);
    if (group) group.push(j);
    else byItem.set(j.item, [j]);
  }
  return byItem;
}

/** Current judgments grouped by item, the last one per (item, annotator) kept, annotators in name order. */
export function judgmentsByItem(judgments: readonly Judgment[]): Judgment[][] {
  const out: Judgment[][] = [];
  for (const group of groupByItem(judgments).values()) {
    if (group.length === 1) out.push(group);
    else out.push([...new Map(group.map((j) => [j.annotator, j])).values()].sort((x, y) => (x.annotator < y.annotator ? -1 : x.annotator > y.annotator ? 1 : 0)));
  }
  return out;
}

const PAIR_LABELS: readonly PairLabel[] = ['first', 'second', 'tie', 'both_bad'];
const zeroCounts = () => new Map<string, number>(PAIR_LABELS.map((l) => [l, 0]));

/**
 * One item's judgments of one kind, sorted by annotator (each annotator pair then comes as (a, b) with a < b),
 * their annotators added to `annotators` (the tallies list every annotator pair, agreeing or not).
 */
function ofKind(judgments: readonly Judgment[], kind: 'pair' | 'rank', annotators: Set<string>): Judgment[] {
  const out = judgments.length === 1 // the common case of a large log: nothing to sort
    ? (judgments[0].kind === kind ? [judgments[0]] : [])
    : judgments.filter((j) => j.kind === kind).sort((x, y) => (x.annotator < y.annotator ? -1 : 1));
  for (const j of out) annotators.add(j.annotator);
  return out;
}

/**
 * Pair-judgment agreement, one item at a time (addItem: every current judgment of one item, each item
 * once): per annotator pair the common units and label counts, which is all Cohen's κ needs; finish()
 * gives the report. pe sums the labels in one fixed order, so the result does not depend on item order.
 */
export class PairAgreementTally {
  private readonly annotators = new Set<string>();
  private readonly counts = new Map<string, { n: number; same: number; a: Map<string, number>; b: Map<string, number> }>();

  addItem(judgments: readonly Judgment[]): void {
    const pairs = ofKind(judgments, 'pair', this.annotators);
    for (let x = 0; x < pairs.length - 1; x++) { // the last has no later one to compare with
      const outcomesA = judgmentPairs(pairs[x]);
      for (let y = x + 1; y < pairs.length; y++) {
        const outcomesB = new Map(judgmentPairs(pairs[y]).map((o) => [pairKey(o.i, o.j), o.label]));
        const key = `${pairs[x].annotator}\0${pairs[y].annotator}`;
        let c = this.counts.get(key);
        if (!c) this.counts.set(key, (c = { n: 0, same: 0, a: zeroCounts(), b: zeroCounts() }));
        for (const o of outcomesA) {
          const other = outcomesB.get(pairKey(o.i, o.j));
          if (other === undefined) continue;
          c.n++;
          if (other === o.label) c.same++;
          c.a.set(o.label, (c.a.get(o.label) as number) + 1);
          c.b.set(other, (c.b.get(other) as number) + 1);
        }
      }
    }
  }

  finish(): AgreementReport['pairs'] {
    const perAnnotatorPair = annotatorPairs(this.annotators).map(([a, b]): PairAgreement => {
      const c = this.counts.get(`${a}\0${b}`);
      const k = c ? kappaFromCounts(c.n, c.same, c.a, c.b) : kappaFromCounts(0, 0, new Map(), new Map());
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
}

/** Pair-judgment agreement per annotator pair and overall. */
export function pairAgreement(judgments: readonly Judgment[]): AgreementReport['pairs'] {
  const tally = new PairAgreementTally();
  for (const js of judgmentsByItem(judgments)) tally.addItem(js);
  return tally.finish();
}

/** Group index of each response in a ranking. */
function rankPositions(judgment: Judgment): Map<number, number> {
  const out = new Map<number, number>();
  judgment.ranking.forEach((g, gi) => g.forEach((r) => out.set(r, gi)));
  return out;
}

/**
 * Ranking agreement, one item at a time (as PairAgreementTally): per annotator pair the exact sum and
 * count of the items' τ-b (core/exactSum.ts, so the mean does not depend on item order).
 */
export class RankAgreementTally {
  private readonly annotators = new Set<string>();
  private readonly taus = new Map<string, { n: number; sum: ExactSum }>();

  addItem(judgments: readonly Judgment[]): void {
    const ranks = ofKind(judgments, 'rank', this.annotators);
    for (let x = 0; x < ranks.length - 1; x++) { // the last has no later one to compare with
      const posA = rankPositions(ranks[x]);
      for (let y = x + 1; y < ranks.length; y++) {
        const posB = rankPositions(ranks[y]);
        const common = [...posA.keys()].filter((r) => posB.has(r)).sort((p, q) => p - q);
        const tau = kendallTauB(common.map((r) => posA.get(r) as number), common.map((r) => posB.get(r) as number));
        if (tau === null) continue;
        const key = `${ranks[x].annotator}\0${ranks[y].annotator}`;
        let t = this.taus.get(key);
        if (!t) this.taus.set(key, (t = { n: 0, sum: new ExactSum() }));
        t.n++;
        t.sum.add(tau);
      }
    }
  }

  finish(): AgreementReport['rankings'] {
    const perAnnotatorPair = annotatorPairs(this.annotators).map(([a, b]): RankAgreement => {
      const t = this.taus.get(`${a}\0${b}`);
      return { annotators: [a, b], n: t?.n ?? 0, tau: t ? t.sum.value() / t.n : null };
    });
    const withItems = perAnnotatorPair.filter((p) => p.tau !== null);
    return { perAnnotatorPair, overall: { n: withItems.reduce((s, p) => s + p.n, 0), tau: mean(withItems.map((p) => p.tau as number)) } };
  }
}

/** Ranking agreement (mean Kendall τ-b over common items) per annotator pair and overall. */
export function rankAgreement(judgments: readonly Judgment[]): AgreementReport['rankings'] {
  const tally = new RankAgreementTally();
  for (const js of judgmentsByItem(judgments)) tally.addItem(js);
  return tally.finish();
}

/** Agreement with the majority of the others, one item at a time (as PairAgreementTally): counts per annotator. */
export class MajorityTally {
  private readonly stats = new Map<string, { n: number; agree: number }>();

  addItem(judgments: readonly Judgment[]): void {
    for (const j of judgments) if (!this.stats.has(j.annotator)) this.stats.set(j.annotator, { n: 0, agree: 0 });
    if (judgments.length === 1) return; // no others: no majority
    const units = new Map<string, Map<string, PairLabel>>(); // response pair → annotator → label
    for (const j of judgments) {
      for (const o of judgmentPairs(j)) {
        const key = pairKey(o.i, o.j);
        if (!units.has(key)) units.set(key, new Map());
        (units.get(key) as Map<string, PairLabel>).set(j.annotator, o.label);
      }
    }
    for (const labels of units.values()) {
      for (const [annotator, label] of labels) {
        const votes: Record<PairLabel, number> = { first: 0, second: 0, tie: 0, both_bad: 0 };
        for (const [other, l] of labels) if (other !== annotator) votes[l]++;
        const majority = majorityLabel(votes);
        if (majority === undefined) continue;
        const s = this.stats.get(annotator) as { n: number; agree: number };
        s.n++;
        if (majority === label) s.agree++;
      }
    }
  }

  finish(): MajorityAgreement[] {
    return [...this.stats.entries()]
      .sort((x, y) => (x[0] < y[0] ? -1 : 1))
      .map(([annotator, s]) => ({ annotator, n: s.n, agree: s.agree, rate: s.n > 0 ? s.agree / s.n : null }));
  }
}

/** Each annotator's pair outcomes against the strict majority of the other annotators. */
export function agreementWithMajority(judgments: readonly Judgment[]): MajorityAgreement[] {
  const tally = new MajorityTally();
  for (const js of judgmentsByItem(judgments)) tally.addItem(js);
  return tally.finish();
}

/** Annotators whose judgments must all have put a response below every other it was compared with. */
export const NEVER_WON_MIN_ANNOTATORS = 2;

/** The win/loss counts of one response over all current judgments (the review lists show them as they are). */
export interface ResponseCounts {
  wins: number;
  losses: number;
  ties: number;
  /** Pairs in which this response was judged "both bad" (a both-bad pair judgment counts 1). */
  bothBad: number;
  /** Annotators whose judgments compared this response with another (both-bad judgments excluded). */
  annotators: number;
  /** Lost every comparison (no win, no tie) in the judgments of NEVER_WON_MIN_ANNOTATORS or more annotators. */
  neverWon: boolean;
}

/** Win/loss statistics of one response of one item over all current judgments. */
export interface ResponseStats extends ResponseCounts {
  item: string;
  response: number;
  /** Pairs this response was in, both-bad ones included. */
  comparisons: number;
}

/** The never-won rule (see the file comment) over a response's counts. */
export function isNeverWon(r: { wins: number; ties: number; losses: number; annotators: number }): boolean {
  return r.losses > 0 && r.wins === 0 && r.ties === 0 && r.annotators >= NEVER_WON_MIN_ANNOTATORS;
}

/** Per-response statistics for every response of every item (item order, then response index). */
export function responseStats(items: readonly ItemShape[], judgments: readonly Judgment[]): ResponseStats[] {
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

/** The three agreement tallies fed together, one item at a time (see PairAgreementTally). */
export class AgreementTally {
  private readonly pairs = new PairAgreementTally();
  private readonly rankings = new RankAgreementTally();
  private readonly majority = new MajorityTally();

  /** Every current judgment of one item; each item once. */
  addItem(judgments: readonly Judgment[]): void {
    this.pairs.addItem(judgments);
    this.rankings.addItem(judgments);
    this.majority.addItem(judgments);
  }

  finish(): AgreementReport {
    return { pairs: this.pairs.finish(), rankings: this.rankings.finish(), withMajority: this.majority.finish() };
  }
}

/** Pair agreement, ranking agreement and agreement with the majority together. */
export function agreementReport(judgments: readonly Judgment[]): AgreementReport {
  const tally = new AgreementTally();
  for (const js of judgmentsByItem(judgments)) tally.addItem(js);
  return tally.finish();
}
