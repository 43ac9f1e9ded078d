/**
 * What `dap stats TASKS --log LOG` reports, computed in memory bounded by a budget rather than by the
 * files' sizes. The task file is streamed once (its issues passed on as found; of each item only its
 * shape, core/types.ts ItemShape, is kept). A log up to `partitionBytes` is read whole and resolved with
 * the items it names. A larger log is hash-partitioned by item id into temporary files, the items' shapes
 * routed to the same partitions (core/spilledLog.ts: events as numeric records), and each partition is
 * then resolved on its own (resolution is per item and annotator, so it is the same) and fed, a batch of
 * items at a time, to the same tallies the in-memory reports use (AgreementTally, PositionBiasTally,
 * ModelComparisonTally, responseStats per item): the report is identical whatever the partition count.
 * Issues come out in the same order either way: the task file's, the log's lines', then resolution's in
 * log line order (merged across partitions).
 */
import { existsSync, statSync } from 'node:fs';
import { AgreementTally, NEVER_WON_MIN_ANNOTATORS, responseStats, type AgreementReport } from './agreement';
import { readAnnotationLog } from './annotationLog';
import { resolveJudgments } from './judgments';
import { comparisonIndices, comparisonModels, ModelComparisonTally, type ModelComparison, type ModelPair } from './modelComparison';
import { PositionBiasTally, type PositionBiasReport } from './positionBias';
import { releasePartitionMemory } from './spillFiles';
import { SpilledLog, type StatsItem } from './spilledLog';
import { scanTaskFile } from './taskScan';
import type { DataIssue, ItemShape, Judgment } from './types';

/** Log bytes resolved in memory at once; a larger log is partitioned into about logBytes / this parts. */
export const DEFAULT_PARTITION_BYTES = 4 * 2 ** 20;
const MAX_PARTITIONS = 512;

/** One annotator's current judgments, counted. */
export interface AnnotatorCounts {
  annotator: string;
  judgments: number;
  pair: number;
  rank: number;
  bothBad: number;
  ties: number;
}

/** What projectStats computes (`dap stats --json` prints it, without `partitions`, with the paths and issue counts). */
export interface ProjectStats {
  /** Valid items in the task file. */
  items: number;
  annotatedItems: number;
  /** Valid events in the log. */
  events: number;
  judgments: number;
  perAnnotator: AnnotatorCounts[];
  agreement: AgreementReport;
  /** Responses that never won (core/agreement.ts isNeverWon: lost every comparison, judged by 2+ annotators). */
  neverWon: number;
  /** Items holding such a response: the review's "Never won" count. */
  neverWonItems: number;
  /** How often the first-shown response wins decisive pair judgments, per annotator and overall (core/positionBias.ts). */
  positionBias: PositionBiasReport;
  /** Items holding one response of each of two models: the win rate of the second over the first (`items` counts the whole task file's). */
  models?: ModelComparison;
  /** Partitions the log was resolved in (1: whole, in memory). */
  partitions: number;
}

export interface ProjectStatsOptions {
  /** Receives every issue, in the order of the file comment. */
  onIssue: (issue: DataIssue) => void;
  /** Memory budget as log bytes resolved at once (default DEFAULT_PARTITION_BYTES). */
  partitionBytes?: number;
  /** Task-file ids checked in memory before they spill (core/taskScan.ts; default its DEFAULT_IDS_IN_MEMORY). */
  idsInMemory?: number;
  /** Annotators left out of position bias (automatic judges). */
  automaticJudges?: ReadonlySet<string>;
  /**
   * The log reader thread's script (the bundle of src/cli/statsLogWorker.ts): a partitioned log is then
   * read on a second thread while this one reads the task file. Without it, one after the other.
   */
  logWorker?: string;
}

const samePair = (x: ModelPair, y: ModelPair) => x.a === y.a && x.b === y.b;

/**
 * judgmentsByItem of resolveJudgments' judgments without its Map: those come one per (item, annotator),
 * ordered by item, then annotator name, so each item's are one run, already in judgmentsByItem's order.
 */
function runsByItem(judgments: readonly Judgment[]): Judgment[][] {
  const runs: Judgment[][] = [];
  for (let i = 0; i < judgments.length; ) {
    const start = i;
    while (i < judgments.length && judgments[i].item === judgments[start].item) i++;
    runs.push(judgments.slice(start, i));
  }
  return runs;
}

/** The tallies of a whole report, fed a batch of items and their current judgments at a time (add). */
class StatsTally {
  judgments = 0;
  annotatedItems = 0;
  neverWon = 0;
  neverWonItems = 0;
  readonly perAnnotator = new Map<string, AnnotatorCounts>();
  readonly agreement = new AgreementTally();
  readonly bias: PositionBiasTally;
  /** The comparison for the pair guessed from the task file; right when the named items' first pair is it. */
  readonly comparison: ModelComparisonTally | undefined;
  /** The first named item (file order) that compares two models, and their pair. */
  candidate: { order: number; pair: ModelPair } | undefined;

  constructor(guess: ModelPair | undefined, judges: ReadonlySet<string>) {
    this.bias = new PositionBiasTally(judges);
    this.comparison = guess && new ModelComparisonTally(guess, judges);
  }

  /** A batch of named items (each in one batch only) and their current judgments, in resolveJudgments' order. */
  add(items: readonly StatsItem[], judgments: readonly Judgment[]): void {
    this.judgments += judgments.length;
    for (const j of judgments) this.count(j);
    const byItem = runsByItem(judgments);
    this.annotatedItems += byItem.length;
    const shapes = new Map<string, ItemShape>();
    for (const js of byItem) {
      this.agreement.addItem(js);
      if (js.length < NEVER_WON_MIN_ANNOTATORS) continue; // fewer judgments than the rule's annotators: none never won
      if (shapes.size === 0) for (const it of items) shapes.set(it.id, it);
      const lost = responseStats([shapes.get(js[0].item) as ItemShape], js).filter((r) => r.neverWon).length;
      this.neverWon += lost;
      if (lost > 0) this.neverWonItems++;
    }
    for (const j of judgments) this.bias.add(j);
    this.comparison?.addItems(items, judgments);
    for (const it of items) { // items are in file order: the first comparing two models is the batch's candidate
      const pair = comparisonModels([it]);
      if (!pair) continue;
      if (!this.candidate || it.order < this.candidate.order) this.candidate = { order: it.order, pair };
      break;
    }
  }

  private count(j: Judgment): void {
    const a = this.perAnnotator.get(j.annotator) ?? { annotator: j.annotator, judgments: 0, pair: 0, rank: 0, bothBad: 0, ties: 0 };
    a.judgments++;
    a[j.kind]++;
    if (j.bothBad) a.bothBad++;
    else if (j.kind === 'pair' && j.ranking.length === 1) a.ties++;
    this.perAnnotator.set(j.annotator, a);
  }
}

/** What one pass over the task file found. */
interface TaskPass {
  items: number;
  /** The pair of the file's first item comparing two models, and how many items hold both. */
  guess?: ModelPair;
  guessItems: number;
  /** False when an item before the guess carried models (it may hold the pair: count again to be sure). */
  guessCountExact: boolean;
}

/** An item's value in the task scan: whether it was counted in TaskPass.guessItems. */
const IN_GUESS = 1;

/**
 * Scans the task file (core/taskScan.ts, ids bounded by `idsInMemory`): issues to onIssue, each valid
 * item and its place among the valid items to keep (a task item: keep only what it needs). `keep` may
 * receive an item that is later found to repeat an earlier id (a large file): the counts are corrected,
 * and the readers keep the first item of an id (firstOfEachId; SpilledLog's readItems).
 */
async function taskPass(tasksPath: string, onIssue: (issue: DataIssue) => void, keep: (item: ItemShape, order: number) => void, idsInMemory?: number): Promise<TaskPass> {
  const pass: TaskPass = { items: 0, guessItems: 0, guessCountExact: true };
  let order = 0;
  const scan = await scanTaskFile(tasksPath, {
    onIssue,
    idsInMemory,
    onItem: (item) => {
      if (!pass.guess && item.responses.some((x) => x.model !== undefined)) { // comparisonModels needs a model in every response
        pass.guess = comparisonModels([item]);
        if (!pass.guess) pass.guessCountExact = false;
      }
      keep(item, order++);
      if (!pass.guess || !comparisonIndices(item, pass.guess)) return 0;
      pass.guessItems++;
      return IN_GUESS;
    },
    onLateDuplicate: (_line, value) => {
      if (value & IN_GUESS) pass.guessItems--;
    },
  });
  pass.items = scan.items;
  return pass;
}

/** Items of the whole task file holding one response of each model of `pair`. */
async function countComparisonItems(tasksPath: string, pair: ModelPair, idsInMemory?: number): Promise<number> {
  let n = 0;
  await scanTaskFile(tasksPath, {
    onIssue: () => {},
    idsInMemory,
    onItem: (item) => (comparisonIndices(item, pair) ? (n++, IN_GUESS) : 0),
    onLateDuplicate: (_line, value) => {
      if (value & IN_GUESS) n--;
    },
  });
  return n;
}

/** `items` (file order) without the later items of an id: what remains once a late duplicate is known. */
function firstOfEachId<T extends { id: string }>(items: T[]): T[] {
  const seen = new Set<string>();
  return items.filter((it) => !seen.has(it.id) && (seen.add(it.id), true));
}

/** The report's model comparison: the guessed pair's tally when it is the right pair, else `recompute`. */
async function modelsOf(tally: StatsTally, pass: TaskPass, tasksPath: string,
  recompute: (t: ModelComparisonTally) => Promise<void>, judges: ReadonlySet<string>, idsInMemory?: number): Promise<ModelComparison | undefined> {
  const pair = tally.candidate?.pair;
  if (!pair) return undefined;
  let comparison = tally.comparison && samePair(tally.comparison.pair, pair) ? tally.comparison : undefined;
  if (!comparison) await recompute((comparison = new ModelComparisonTally(pair, judges)));
  const m = comparison.finish();
  if (!m) return undefined;
  const exact = pass.guess && samePair(pass.guess, pair) && pass.guessCountExact;
  return { ...m, items: exact ? pass.guessItems : await countComparisonItems(tasksPath, pair, idsInMemory) };
}

function report(tally: StatsTally, pass: TaskPass, events: number, partitions: number, models: ModelComparison | undefined): ProjectStats {
  return {
    items: pass.items,
    annotatedItems: tally.annotatedItems,
    events,
    judgments: tally.judgments,
    perAnnotator: [...tally.perAnnotator.values()].sort((x, y) => (x.annotator < y.annotator ? -1 : 1)),
    agreement: tally.agreement.finish(),
    neverWon: tally.neverWon,
    neverWonItems: tally.neverWonItems,
    positionBias: tally.bias.finish(),
    ...(models ? { models } : {}),
    partitions,
  };
}

/** The report of a task file and its log (a missing log is an empty one); see the file comment. */
export async function projectStats(tasksPath: string, logPath: string, options: ProjectStatsOptions): Promise<ProjectStats> {
  const budget = options.partitionBytes ?? DEFAULT_PARTITION_BYTES;
  const logBytes = existsSync(logPath) ? statSync(logPath).size : 0;
  const partitions = logBytes <= budget ? 1 : Math.min(MAX_PARTITIONS, Math.ceil(logBytes / budget));
  const judges = options.automaticJudges ?? new Set<string>();
  return partitions === 1 ? statsInMemory(tasksPath, logPath, options.onIssue, judges, options.idsInMemory)
    : statsPartitioned(tasksPath, logPath, partitions, options, judges);
}

async function statsInMemory(tasksPath: string, logPath: string, onIssue: (issue: DataIssue) => void, judges: ReadonlySet<string>,
  idsInMemory?: number): Promise<ProjectStats> {
  const log = await readAnnotationLog(logPath);
  const named = new Set(log.events.map((e) => e.event.item));
  let items: StatsItem[] = [];
  const pass = await taskPass(tasksPath, onIssue, (item, order) => {
    if (named.has(item.id)) items.push({ id: item.id, order, responses: item.responses.map((x) => (x.model === undefined ? {} : { model: x.model })) });
  }, idsInMemory);
  items = firstOfEachId(items);
  for (const issue of log.issues) onIssue(issue);
  const tally = new StatsTally(pass.guess, judges);
  const { judgments, issues } = resolveJudgments(log.events, items, logPath);
  tally.add(items, judgments);
  for (const issue of issues) onIssue(issue);
  const models = await modelsOf(tally, pass, tasksPath, async (t) => t.addItems(items, judgments), judges, idsInMemory);
  return report(tally, pass, log.events.length, 1, models);
}

async function statsPartitioned(tasksPath: string, logPath: string, partitions: number, options: ProjectStatsOptions,
  judges: ReadonlySet<string>): Promise<ProjectStats> {
  const { onIssue, idsInMemory, logWorker } = options;
  const spilled = new SpilledLog(partitions, logPath, logPath);
  // With a log reader thread, the log is read while this thread reads the task file; its issues wait.
  const reader = logWorker ? spilled.startLogWorker(logWorker) : undefined;
  try {
    const pass = await taskPass(tasksPath, onIssue, (item, order) => spilled.writeItem(item, order), idsInMemory);
    if (reader) {
      await reader.done;
      await spilled.emitLogIssues(onIssue);
    } else await spilled.spillLog(onIssue);
    spilled.finishWriting();
    const tally = new StatsTally(pass.guess, judges);
    for (let p = 0; p < partitions; p++) {
      for (const issue of spilled.resolve(p, (items, judgments) => tally.add(items, judgments))) spilled.writeIssue(p, issue);
      releasePartitionMemory();
    }
    await spilled.mergeIssues(onIssue);
    const models = await modelsOf(tally, pass, tasksPath, async (t) => {
      for (let p = 0; p < partitions; p++) {
        spilled.resolve(p, (items, judgments) => t.addItems(items, judgments));
        releasePartitionMemory();
      }
    }, judges, idsInMemory);
    return report(tally, pass, spilled.events, partitions, models);
  } finally {
    await reader?.stop();
    spilled.close();
  }
}
