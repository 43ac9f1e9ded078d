/**
 * Compiles current judgments into training datasets (TRL formats). Rules:
 * - Votes: each annotator's current judgment gives one outcome per response pair (pairwise.ts); several
 *   annotators → majority vote per pair; a tied vote has no majority and the pair is dropped.
 * - Pairs (`trl`): a pair row for every pair whose majority is a win, better → chosen (`all_pairs`), or
 *   only the pairs won by the consensus-best group (`best_vs_rest`; consensus = Copeland score over the
 *   majority outcomes). A tie or both_bad majority gives no pair (not trained on).
 * - Rankings (`rrhf`): the judged responses with ranks from the consensus groups: rank 0 is best and ties
 *   share a rank. Both-bad items are left out.
 * - SFT (`sft`): one row per item, the best response (lowest index in the consensus-best group).
 *   Both-bad items and unjudged items are left out.
 * - KTO (`kto`): label true for the consensus-best group, false for the worst group; middle groups are
 *   left out; an item whose judged responses are all tied gives no row; a both-bad item gives false for
 *   every judged response.
 * - An item is both-bad when more than half of its current judgments are both_bad.
 * Output order is deterministic: task-file item order, then response indices. Conversational prompts stay
 * conversational: pair completions become `[{"role": "assistant", "content": text}]`, and so do the sft/kto
 * completions that `compile` (the export) writes — TRL cannot read a message-list prompt with a string
 * completion. compileSft/compileKto keep string completions in memory (the trainer's SftRow/KtoRow).
 */
import { consensusGroups, tallyPairs, type PairVotes } from './pairwise';
import type { ChatMessage, Judgment, KtoRow, RankingRow, SftRow, TaskItem, TrlPairRow } from './types';

/** How pairs are made from a ranking. */
export type PairMode = 'all_pairs' | 'best_vs_rest';

/** The export formats. */
export type ExportFormat = 'trl' | 'rrhf' | 'sft' | 'kto';

/** The judgments of each item, in item order (items without judgments are skipped). */
function perItem(items: readonly TaskItem[], judgments: readonly Judgment[]): { item: TaskItem; judgments: Judgment[] }[] {
  const byItem = new Map<string, Judgment[]>();
  for (const j of judgments) {
    const list = byItem.get(j.item);
    if (list) list.push(j);
    else byItem.set(j.item, [j]);
  }
  return items.filter((it) => byItem.has(it.id)).map((item) => ({ item, judgments: byItem.get(item.id) as Judgment[] }));
}

/** True when more than half of the item's current judgments are both_bad. */
export function isBothBadItem(judgments: readonly Judgment[]): boolean {
  return judgments.filter((j) => j.bothBad).length * 2 > judgments.length;
}

/** A response as a completion: text, or one assistant message when the prompt is conversational. */
function completion(item: TaskItem, index: number): string | ChatMessage[] {
  const text = item.responses[index].text;
  return typeof item.prompt === 'string' ? text : [{ role: 'assistant', content: text }];
}

function winner(v: PairVotes): { chosen: number; rejected: number } | undefined {
  if (v.majority === 'first') return { chosen: v.i, rejected: v.j };
  if (v.majority === 'second') return { chosen: v.j, rejected: v.i };
  return undefined;
}

/** TRL preference pairs. */
export function compilePairs(items: readonly TaskItem[], judgments: readonly Judgment[], mode: PairMode = 'all_pairs'): TrlPairRow[] {
  const rows: TrlPairRow[] = [];
  for (const { item, judgments: js } of perItem(items, judgments)) {
    const votes = tallyPairs(js);
    const best = mode === 'best_vs_rest' ? new Set(consensusGroups(votes)[0] ?? []) : undefined;
    for (const v of votes) {
      const w = winner(v);
      if (!w || (best && !best.has(w.chosen))) continue;
      rows.push({ prompt: item.prompt, chosen: completion(item, w.chosen), rejected: completion(item, w.rejected), id: item.id });
    }
  }
  return rows;
}

/** RRHF ranking rows (rank 0 = best, ties share a rank). */
export function compileRankings(items: readonly TaskItem[], judgments: readonly Judgment[]): RankingRow[] {
  const rows: RankingRow[] = [];
  for (const { item, judgments: js } of perItem(items, judgments)) {
    if (isBothBadItem(js)) continue;
    const groups = consensusGroups(tallyPairs(js));
    const rankOf = new Map<number, number>();
    groups.forEach((g, rank) => g.forEach((r) => rankOf.set(r, rank)));
    const judged = [...rankOf.keys()].sort((a, b) => a - b);
    if (judged.length < 2) continue;
    rows.push({ prompt: item.prompt, responses: judged.map((r) => item.responses[r].text), ranks: judged.map((r) => rankOf.get(r) as number), id: item.id });
  }
  return rows;
}

/** SFT rows: the best response of each judged, not-both-bad item. */
export function compileSft(items: readonly TaskItem[], judgments: readonly Judgment[]): SftRow[] {
  const rows: SftRow[] = [];
  for (const { item, judgments: js } of perItem(items, judgments)) {
    if (isBothBadItem(js)) continue;
    const best = consensusGroups(tallyPairs(js))[0]?.[0];
    if (best === undefined) continue;
    rows.push({ prompt: item.prompt, completion: item.responses[best].text, id: item.id });
  }
  return rows;
}

/** KTO unpaired rows: best group true, worst group false; both-bad items all false. */
export function compileKto(items: readonly TaskItem[], judgments: readonly Judgment[]): KtoRow[] {
  const rows: KtoRow[] = [];
  for (const { item, judgments: js } of perItem(items, judgments)) {
    const groups = consensusGroups(tallyPairs(js));
    const labels = new Map<number, boolean>();
    if (isBothBadItem(js)) groups.flat().forEach((r) => labels.set(r, false));
    else if (groups.length >= 2) {
      groups[0].forEach((r) => labels.set(r, true));
      groups[groups.length - 1].forEach((r) => labels.set(r, false));
    }
    for (const r of [...labels.keys()].sort((a, b) => a - b)) {
      rows.push({ prompt: item.prompt, completion: item.responses[r].text, label: labels.get(r) as boolean, id: item.id });
    }
  }
  return rows;
}

/** An sft or kto row as exported: the completion is one assistant message when the prompt is conversational. */
export type ExportedCompletionRow<T extends SftRow | KtoRow> = Omit<T, 'completion'> & { completion: string | ChatMessage[] };

/** TRL's conversational prompt-completion shape for a row whose prompt is a message list (key order kept). */
function conversationalCompletion<T extends SftRow | KtoRow>(row: T): ExportedCompletionRow<T> {
  return typeof row.prompt === 'string' ? row : { ...row, completion: [{ role: 'assistant', content: row.completion }] };
}

/** Compiles one export format (the rows `dap export` writes). */
export function compile(
  format: ExportFormat,
  items: readonly TaskItem[],
  judgments: readonly Judgment[],
  pairMode: PairMode = 'all_pairs',
): (TrlPairRow | RankingRow | ExportedCompletionRow<SftRow> | ExportedCompletionRow<KtoRow>)[] {
  switch (format) {
    case 'trl':
      return compilePairs(items, judgments, pairMode);
    case 'rrhf':
      return compileRankings(items, judgments);
    case 'sft':
      return compileSft(items, judgments).map(conversationalCompletion);
    case 'kto':
      return compileKto(items, judgments).map(conversationalCompletion);
  }
}

/** Rows as JSONL text (one JSON object per line, '\n' after each). */
export function toJsonl(rows: readonly unknown[]): string {
  return rows.map((r) => `${JSON.stringify(r)}\n`).join('');
}
