/**
 * Training data for the trainer: reads a data file that carries its own labels (TRL pairs in every form the
 * data core reads, RRHF rows with scores, compiled rankings / SFT / KTO rows: see labelledFiles.ts) or a task
 * file plus its annotation log (compiled with the data core, like `dap export`), converts it to the data kind
 * the method needs, and splits it into train / held-out eval by prompt (seeded), so no prompt is in both.
 * Which files need a log: an annotation log given as DATA means its task file with that log (the core's
 * naming rule, project.ts); with `--log` DATA is a task file; without it a self-labelled file trains on its
 * own labels, and any other file (task rows, or rows of several kinds: a mixed task file) is a task file
 * read with its default log NAME.annotations.jsonl.
 * Conversions: pairs → rankings (chosen rank 0, rejected rank 1), → sft (the chosen of each prompt's first
 * pair), → kto (chosen true, rejected false, each distinct completion once); rankings → pairs (every pair of
 * different ranks), → sft (a rank-0 response). Bad lines are errors naming file:line: field.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadProject, defaultLogPath, isAnnotationLogPath, taskFileOfLog } from '../../core/project';
import { compileKto, compilePairs, compileRankings, compileSft } from '../../core/compile';
import { formatIssue, throwOnErrors } from '../../core/issues';
import type { KtoRow, Prompt, RankingRow, SftRow, TaskItem, TrlPairRow } from '../../core/types';
import type { DataKind } from '../losses/types';
import { describeRowKind } from '../../core/compiledRows';
import { readLabelledFile } from './labelledFiles';
import { Rng, shuffledIndices, deriveSeed } from '../../core/random';

/** One training example of each kind. */
export interface ExamplesByKind {
  pairs: TrlPairRow;
  rankings: RankingRow;
  sft: SftRow;
  unpaired: KtoRow;
}

/** Everything read from the data argument, before conversion. */
export interface SourceData {
  /**
   * 'project' when a task file + log was compiled; 'labelled' for RRHF rows (maybe with TRL pairs) compiled
   * with their own scores as judgments; else the self-labelled file's own kind.
   */
  source: 'project' | 'labelled' | DataKind;
  pairs: TrlPairRow[];
  rankings: RankingRow[];
  sft: SftRow[];
  kto: KtoRow[];
  /** Task items (project sources, TRL pair and RRHF files), e.g. for verifiable-accuracy checks. */
  items?: TaskItem[];
  /** Non-fatal notes (warnings of the data core), one line each. */
  notes: string[];
}

const promptKey = (p: Prompt) => JSON.stringify(p);
const textKey = (c: unknown) => JSON.stringify(c);

/** A task file compiled with its annotation log (errors of either file stop the run). */
async function readProject(tasks: string, logPath: string, pairMode: 'all_pairs' | 'best_vs_rest'): Promise<SourceData> {
  const p = await loadProject(tasks, logPath);
  throwOnErrors(p.issues);
  const j = p.resolution.judgments;
  return {
    source: 'project', items: p.items,
    pairs: compilePairs(p.items, j, pairMode), rankings: compileRankings(p.items, j), sft: compileSft(p.items, j), kto: compileKto(p.items, j),
    notes: p.issues.map(formatIssue),
  };
}

/** Reads `data` (see the file comment for which files need an annotation log). */
export async function readSourceData(data: string, log?: string, pairMode: 'all_pairs' | 'best_vs_rest' = 'all_pairs'): Promise<SourceData> {
  if (!existsSync(data)) throw new Error(`${data}: file not found`);
  if (isAnnotationLogPath(data)) {
    const tasks = taskFileOfLog(data);
    if (log !== undefined && resolve(log) !== resolve(data)) {
      throw new Error(`${data} is an annotation log (of ${tasks}) but --log names another log, ${log}: give the task file as DATA with --log`);
    }
    if (!existsSync(tasks)) throw new Error(`${data}: an annotation log, but its task file ${tasks} does not exist`);
    return readProject(tasks, data, pairMode);
  }
  if (log !== undefined) {
    if (!existsSync(log)) throw new Error(`${log}: file not found (the annotation log of ${data})`);
    return readProject(data, log, pairMode);
  }
  const read = await readLabelledFile(data, pairMode);
  if ('data' in read) {
    const { kind, ...rows } = read.data;
    return { source: kind, ...rows };
  }
  const logPath = defaultLogPath(data);
  if (!existsSync(logPath)) {
    const m = read.mixed;
    const why = m.firstKind === null ? 'a task file'
      : `read as a task file (its first row is ${describeRowKind(m.firstKind)} but line ${m.line} is ${describeRowKind(m.kind)}), it`;
    throw new Error(`${data}: ${why} needs its annotation log, but ${logPath} does not exist: annotate some items first (or name the log that holds its judgments)`);
  }
  return readProject(data, logPath, pairMode);
}

/** Converts source data to the examples of `kind` (see the file comment for the conversions). */
export function examplesFor<K extends DataKind>(src: SourceData, kind: K): ExamplesByKind[K][] {
  const k: DataKind = kind;
  const compiled = src.source === 'project' || src.source === 'labelled'; // every kind compiled by the core
  let out: unknown[];
  if (k === 'pairs') {
    out = src.source === 'rankings' ? src.rankings.flatMap(rankingToPairs) : src.pairs;
  } else if (k === 'rankings') {
    out = compiled || src.source === 'rankings' ? src.rankings
      : src.pairs.map((p) => ({ prompt: p.prompt, responses: [p.chosen, p.rejected], ranks: [0, 1], ...(p.id ? { id: p.id } : {}) }));
  } else if (k === 'sft') {
    if (compiled || src.source === 'sft') out = src.sft;
    else if (src.source === 'unpaired') out = src.kto.filter((r) => r.label).map((r) => ({ prompt: r.prompt, completion: r.completion }));
    else if (src.source === 'rankings') out = src.rankings.map((r) => ({ prompt: r.prompt, completion: r.responses[r.ranks.indexOf(Math.min(...r.ranks))] }));
    else out = firstPerPrompt(src.pairs).map((p) => ({ prompt: p.prompt, completion: p.chosen }));
  } else {
    if (compiled || src.source === 'unpaired') out = src.kto;
    else {
      const pairs = examplesFor(src, 'pairs');
      const seen = new Set<string>();
      out = [];
      for (const p of pairs) {
        for (const [completion, label] of [[p.chosen, true], [p.rejected, false]] as const) {
          const key = promptKey(p.prompt) + '\u0000' + textKey(completion) + String(label);
          if (!seen.has(key)) { seen.add(key); out.push({ prompt: p.prompt, completion, label }); }
        }
      }
    }
  }
  if (out.length === 0) throw new Error(`the data has no ${kind} examples (source: ${src.source})`);
  return out as ExamplesByKind[K][];
}

function rankingToPairs(r: RankingRow): TrlPairRow[] {
  const rows: TrlPairRow[] = [];
  for (let i = 0; i < r.responses.length; i++) for (let j = 0; j < r.responses.length; j++) {
    if (r.ranks[i] < r.ranks[j]) rows.push({ prompt: r.prompt, chosen: r.responses[i], rejected: r.responses[j] });
  }
  return rows;
}

function firstPerPrompt(pairs: TrlPairRow[]): TrlPairRow[] {
  const seen = new Set<string>();
  return pairs.filter((p) => (seen.has(promptKey(p.prompt)) ? false : (seen.add(promptKey(p.prompt)), true)));
}

/**
 * The held-out prompts: the distinct prompts (in first-seen order) are shuffled with the seed and the first
 * round(fraction·prompts) (at least 1 when fraction > 0 and there are ≥ 2 prompts) are held out.
 */
export function chooseEvalPrompts(prompts: Prompt[], fraction: number, seed: number): Set<string> {
  const keys = [...new Set(prompts.map(promptKey))];
  let nEval = fraction > 0 && keys.length >= 2 ? Math.max(1, Math.round(fraction * keys.length)) : 0;
  nEval = Math.min(nEval, keys.length - 1);
  const order = shuffledIndices(keys.length, new Rng(deriveSeed(seed, 0x5eed)));
  return new Set(order.slice(0, Math.max(0, nEval)).map((i) => keys[i]));
}

/** Splits rows into train / eval by prompt (a prompt is never in both). */
export function splitByPrompt<T extends { prompt: Prompt }>(rows: T[], evalPrompts: Set<string>): { train: T[]; eval: T[] } {
  return { train: rows.filter((r) => !evalPrompts.has(promptKey(r.prompt))), eval: rows.filter((r) => evalPrompts.has(promptKey(r.prompt))) };
}

/** Every prompt of the source data (for chooseEvalPrompts). */
export function allPrompts(src: SourceData): Prompt[] {
  return [...src.pairs, ...src.rankings, ...src.sft, ...src.kto].map((r) => r.prompt);
}

/**
 * SFT rows over every distinct (prompt, response) of the data: the warm-up of the built-in model learns the
 * format from all responses (preferred or not), so the preference stage has something to re-weight.
 */
export function allResponseRows(src: SourceData): SftRow[] {
  const seen = new Set<string>();
  const out: SftRow[] = [];
  const add = (prompt: Prompt, completion: unknown) => {
    if (typeof completion !== 'string') return;
    const key = promptKey(prompt) + '\u0000' + completion;
    if (!seen.has(key)) { seen.add(key); out.push({ prompt, completion }); }
  };
  if (src.items) for (const it of src.items) for (const r of it.responses) add(it.prompt, r.text);
  for (const p of src.pairs) { add(p.prompt, p.chosen); add(p.prompt, p.rejected); }
  for (const r of src.rankings) for (const x of r.responses) add(r.prompt, x);
  for (const r of [...src.sft, ...src.kto]) add(r.prompt, r.completion);
  return out;
}

/** The key splitByPrompt uses for a prompt. */
export function promptKeyOf(p: Prompt): string {
  return promptKey(p);
}
