/**
 * Types of the review feature: the three lists of likely annotation errors (never won, disagreements,
 * model-flagged pairs) that the CLI prints and the review panel shows. Plain JSON-able data, no `vscode`.
 */
import type { DisagreementKind } from '../disagreement';
import type { ModelComparison } from '../modelComparison';
import type { Prompt } from '../types';
import type { TeamReport } from './team';

/** The three review lists; also the `reason` written into `confirm` events. */
export type ReviewListName = 'never_won' | 'disagreement' | 'model_flagged';

/** Per-response comparison counts, over every annotator's current judgment of the item. */
export interface ResponseRecord {
  /** Index into the item's responses. */
  index: number;
  text: string;
  /** Pairwise comparisons this response took part in (wins + losses + ties; both-bad excluded). */
  comparisons: number;
  wins: number;
  losses: number;
  ties: number;
  /** Pairs in which this response was judged "both bad" (a both-bad pair judgment counts 1). */
  bothBad: number;
  /** Annotators whose judgments compared it with another response. */
  annotators: number;
  /** Lost every comparison, judged by 2+ annotators (core/agreement.ts isNeverWon). */
  neverWon: boolean;
}

/** One item of the "never won" list. */
export interface NeverWonEntry {
  item: string;
  /** 1-based line of the item in the task file. */
  line: number;
  prompt: Prompt;
  /** Responses that lost every comparison they appeared in, in the judgments of 2+ annotators (isNeverWon). */
  neverWon: ResponseRecord[];
  /** Every response lost some comparison or was judged "both bad": nothing in this item was preferred. */
  allLost: boolean;
  /** All responses of the item with their counts. */
  responses: ResponseRecord[];
  /** Sum of the losses of the never-won responses (the sort key). */
  lostComparisons: number;
}

/** One annotator's current judgment of an item, in response indices. */
export interface AnnotatorJudgment {
  annotator: string;
  /** Groups of response indices, best first (a tie is one group). */
  ranking: number[][];
  bothBad: boolean;
  /** The display order this annotator saw (`shown[p]` = response index at position p), when recorded. */
  shown?: number[];
}


/** One item of the disagreement list. */
export interface DisagreementEntry {
  item: string;
  line: number;
  prompt: Prompt;
  kind: DisagreementKind;
  /** Lowest Kendall τ-b over annotator pairs (pairs: +1 same, −1 opposite, 0 tie vs choice). */
  minTau: number;
  judgments: AnnotatorJudgment[];
  responses: { index: number; text: string }[];
}

/** How often one annotator agrees with the majority of the others, to spot one who is off. */
export interface AnnotatorMajority {
  annotator: string;
  /** Items this annotator judged. */
  judged: number;
  /** Response pairs (item, i, j) this annotator judged where the *other* annotators have a strict majority label. */
  compared: number;
  /** Of those, pairs where this annotator's label equals the majority's. */
  agreed: number;
  /** agreed / compared (NaN when compared = 0). */
  rate: number;
}

/** Where a flagged pair's score came from. */
export type FlagScorer =
  /** k-fold DPO: the pair was scored by a model trained on the other folds. */
  | 'kfold'
  /** A trained run's policy and reference; the pair was in the run's held-out split. */
  | 'run_heldout'
  /** A trained run's policy and reference; the pair was in the run's training data (circular). */
  | 'run_train'
  /** One model, no reference: mean logp(chosen) − mean logp(rejected). */
  | 'reference_free';

/** One pair of the model-flagged list. */
export interface FlaggedPair {
  item: string;
  line: number;
  prompt: Prompt;
  /** Response index the label prefers, and the one it rejects. */
  chosen: number;
  rejected: number;
  chosenText: string;
  rejectedText: string;
  /** β·Δ (or the reference-free difference): negative = the model contradicts the label. */
  margin: number;
  scorer: FlagScorer;
  /** The fold that held this pair out (k-fold only). */
  fold?: number;
  /** Annotators whose judgments produced this pair. */
  annotators: string[];
}

/** Per-response scores of one item from a model: the implicit reward β·(policy − ref) logp or a mean logp. */
export interface ResponseScores {
  item: string;
  /** One score per response index. */
  scores: number[];
  scorer: FlagScorer;
  /** The fold that held this item out (k-fold only). */
  fold?: number;
}

/** Every list at once: what `dap review --json` prints and the panel renders. */
export interface ReviewReport {
  /** The items compare two models: B's win rate over A (the panel's Models section). */
  models?: ModelComparison;
  taskFile: string;
  logFile: string;
  /** 'rows': the log had no judgments and the rows carry their own labels (TRL pairs, RRHF scores): one
   * judgment per row by annotator "source"; never-won, disagreement and agreement lists are empty. */
  labelSource?: 'log' | 'rows';
  items: number;
  annotatedItems: number;
  annotators: string[];
  neverWon: NeverWonEntry[];
  /** Items where every response lost or was judged both bad (a subset view of neverWon's items). */
  allLost: NeverWonEntry[];
  disagreements: DisagreementEntry[];
  annotatorAgreement: AnnotatorMajority[];
  /** Kendall τ-b threshold used for rankings. */
  tauThreshold: number;
  /** Absent when no model scoring was asked for. */
  flagged?: FlaggedPair[];
  /** How the flagged list was scored, in words (k, β, model). */
  flaggedMethod?: string;
  /** The per-response scores behind `flagged` (so a viewer can recompute it after re-annotation). */
  scores?: ResponseScores[];
  /** Entries hidden because a `confirm` event after the latest judgment covers them. */
  confirmedHidden: number;
  /** The team view: per-annotator progress, agreement and time, coverage (absent when the rows carry the labels). */
  team?: TeamReport;
  /** Sizes of the lists before `top` cut them (confirmed entries already hidden). */
  totals: { neverWon: number; allLost: number; disagreements: number; flagged?: number };
}
