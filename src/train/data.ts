/**
 * Training data for the trainer: reads a compiled TRL file (pairs, RRHF rankings, SFT rows, KTO rows) or a
 * task file plus its annotation log (compiled with the data core), converts it to the data kind the method
 * needs, and splits it into train / held-out eval by prompt (seeded), so no prompt is in both splits.
 * Conversions: pairs → rankings (chosen rank 0, rejected rank 1), → sft (the chosen of each prompt's first
 * pair), → kto (chosen true, rejected false, each distinct completion once); rankings → pairs (every pair of
 * different ranks), → sft (a rank-0 response). Bad lines are errors naming file:line: field.
 */
import { existsSync } from 'node:fs';
import { readJsonlLines } from '../core/jsonl';
import { loadProject, defaultLogPath } from '../core/project';
import { compileKto, compilePairs, compileRankings, compileSft } from '../core/compile';
import { formatIssue } from '../core/issues';
import type { KtoRow, Prompt, RankingRow, SftRow, TaskItem, TrlPairRow } from '../core/types';
import type { DataKind } from './losses/types';
import { Rng, shuffledIndices, deriveSeed } from './rng';

/** One training example of each kind. */
export interface ExamplesByKind {
  pairs: TrlPairRow;
  rankings: RankingRow;
  sft: SftRow;
  unpaired: KtoRow;
}

/** Everything read from the data argument, before conversion. */
export interface SourceData {
  /** 'project' when a task file + log was compiled, else the compiled file's own kind. */
  source: 'project' | DataKind;
  pairs: TrlPairRow[];
  rankings: RankingRow[];
  sft: SftRow[];
  kto: KtoRow[];
  /** Task items (project sources only), e.g. for verifiable-accuracy checks. */
  items?: TaskItem[];
  /** Non-fatal notes (warnings of the data core), one line each. */
  notes: string[];
}

const promptKey = (p: Prompt) => JSON.stringify(p);
const textKey = (c: unknown) => JSON.stringify(c);

function kindOfRow(o: Record<string, unknown>): DataKind | null {
  if ('chosen' in o && 'rejected' in o) return 'pairs';
  if ('responses' in o && 'ranks' in o) return 'rankings';
  if ('completion' in o && 'label' in o) return 'unpaired';
  if ('completion' in o && 'prompt' in o) return 'sft';
  return null;
}

function fail(file: string, line: number, field: string, message: string): never {
  throw new Error(`${file}:${line}: ${field}: ${message}`);
}

/** Reads a compiled file whose rows are all of one kind; validates each row. */
async function readCompiled(path: string): Promise<SourceData | null> {
  let kind: DataKind | null = null;
  const out: SourceData = { source: 'pairs', pairs: [], rankings: [], sft: [], kto: [], notes: [] };
  for await (const l of readJsonlLines(path)) {
    if (l.text.trim() === '') continue;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(l.text) as Record<string, unknown>;
    } catch (e) {
      fail(path, l.line, '(line)', `not valid JSON: ${(e as Error).message}`);
    }
    if (!o || typeof o !== 'object' || Array.isArray(o)) fail(path, l.line, '(line)', 'expected a JSON object');
    const k = kindOfRow(o);
    if (kind === null) {
      if (k === null) return null; // not a compiled file: a task file
      kind = k;
      out.source = k;
    } else if (k !== kind) {
      fail(path, l.line, '(row)', `expected a ${kind} row like the first line, got ${k ?? 'an unknown row'}`);
    }
    const isPrompt = (v: unknown) => typeof v === 'string' || Array.isArray(v);
    if (!isPrompt(o.prompt)) fail(path, l.line, 'prompt', 'expected a string or a list of messages');
    if (kind === 'pairs') {
      if (!isPrompt(o.chosen)) fail(path, l.line, 'chosen', 'expected a string or a list of messages');
      if (!isPrompt(o.rejected)) fail(path, l.line, 'rejected', 'expected a string or a list of messages');
      out.pairs.push(o as unknown as TrlPairRow);
    } else if (kind === 'rankings') {
      const r = o as unknown as RankingRow;
      if (!Array.isArray(r.responses) || r.responses.length < 2 || !r.responses.every((x) => typeof x === 'string')) fail(path, l.line, 'responses', 'expected ≥ 2 strings');
      if (!Array.isArray(r.ranks) || r.ranks.length !== r.responses.length || !r.ranks.every((x) => Number.isInteger(x))) fail(path, l.line, 'ranks', 'expected one integer rank per response');
      out.rankings.push(r);
    } else if (kind === 'sft') {
      if (!isPrompt(o.completion)) fail(path, l.line, 'completion', 'expected a string');
      out.sft.push(o as unknown as SftRow);
    } else {
      if (typeof o.label !== 'boolean') fail(path, l.line, 'label', 'expected true or false');
      out.kto.push(o as unknown as KtoRow);
    }
  }
  if (kind === null) throw new Error(`${path}: no data rows`);
  return out;
}

/** Reads `data`: a compiled TRL file, or a task file compiled with its annotation log. */
export async function readSourceData(data: string, log?: string, pairMode: 'all_pairs' | 'best_vs_rest' = 'all_pairs'): Promise<SourceData> {
  if (!existsSync(data)) throw new Error(`${data}: file not found`);
  if (!log) {
    const compiled = await readCompiled(data);
    if (compiled) return compiled;
  }
  const logPath = log ?? defaultLogPath(data);
  if (!existsSync(logPath)) throw new Error(`${data}: a task file needs its annotation log, but ${logPath} does not exist (pass --log)`);
  const p = await loadProject(data, logPath);
  const errors = p.issues.filter((i) => i.severity === 'error');
  if (errors.length > 0) throw new Error(`${errors.length} error(s) in the data:\n${errors.slice(0, 10).map(formatIssue).join('\n')}`);
  const j = p.resolution.judgments;
  return {
    source: 'project', items: p.items,
    pairs: compilePairs(p.items, j, pairMode), rankings: compileRankings(p.items, j), sft: compileSft(p.items, j), kto: compileKto(p.items, j),
    notes: p.issues.map(formatIssue),
  };
}

/** Converts source data to the examples of `kind` (see the file comment for the conversions). */
export function examplesFor<K extends DataKind>(src: SourceData, kind: K): ExamplesByKind[K][] {
  const k: DataKind = kind;
  let out: unknown[];
  if (k === 'pairs') {
    out = src.source === 'rankings' ? src.rankings.flatMap(rankingToPairs) : src.pairs;
  } else if (k === 'rankings') {
    out = src.source === 'project' || src.source === 'rankings' ? src.rankings
      : src.pairs.map((p) => ({ prompt: p.prompt, responses: [p.chosen, p.rejected], ranks: [0, 1], ...(p.id ? { id: p.id } : {}) }));
  } else if (k === 'sft') {
    if (src.source === 'project' || src.source === 'sft') out = src.sft;
    else if (src.source === 'unpaired') out = src.kto.filter((r) => r.label).map((r) => ({ prompt: r.prompt, completion: r.completion }));
    else if (src.source === 'rankings') out = src.rankings.map((r) => ({ prompt: r.prompt, completion: r.responses[r.ranks.indexOf(Math.min(...r.ranks))] }));
    else out = firstPerPrompt(src.pairs).map((p) => ({ prompt: p.prompt, completion: p.chosen }));
  } else {
    if (src.source === 'project' || src.source === 'unpaired') out = src.kto;
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
