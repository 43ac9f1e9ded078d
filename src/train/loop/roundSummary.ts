/**
 * What the Runs view shows of a run's place in the loop: its round (and the run it started from), the runs
 * trained from it, and the win rate of its model over its starting model from RUN/eval/vs-start.tasks.jsonl
 * and that file's annotation log (annotators and the verifier alike), when it has judgments.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { compareModels, type WinRateRow } from '../../core/modelComparison';
import { loadProject } from '../../core/project';
import { AUTOMATIC_JUDGES } from '../../core/verifierJudge';
import { isRunFolder } from '../runs/folder';
import { runIdOf } from './modelSpec';
import { evaluationPath, readRound } from './rounds';

/** A run's loop summary. */
export interface RoundSummary {
  round: number;
  /** Run id of the run this one started from (later rounds). */
  parent?: string;
  /** Run ids of the runs trained from this one (a folder holding only the round.json of a declined start is none). */
  children: string[];
  /** Win rate of this run's model over its starting model (overall, per item), once judged. */
  vsStart?: WinRateRow & { items: number; judgedItems: number };
}

/** The summary of `runDir`; `runsDir` is searched for later rounds. */
export async function roundSummary(runDir: string, runsDir: string): Promise<RoundSummary> {
  const link = readRound(runDir);
  const here = resolve(runDir);
  const children = existsSync(runsDir)
    ? readdirSync(runsDir).filter((d) => readRound(join(runsDir, d))?.parent === here && isRunFolder(join(runsDir, d))).map((d) => runIdOf(join(runsDir, d))).sort()
    : [];
  const summary: RoundSummary = { round: link?.round ?? 0, ...(link ? { parent: runIdOf(link.parent) } : {}), children };
  const file = evaluationPath(runDir);
  if (existsSync(file)) {
    const p = await loadProject(file);
    const m = compareModels(p.items, p.resolution.judgments, undefined, AUTOMATIC_JUDGES);
    if (m && m.judgedItems > 0) summary.vsStart = { ...m.overall, items: m.items, judgedItems: m.judgedItems };
  }
  return summary;
}

/** "round 1 ← X · vs start 68% [54–80%]" (or "vs start: 5 both bad" when every judged item was both bad) — the Runs view's description part. */
export function roundLabel(s: RoundSummary): string {
  const parts: string[] = [];
  if (s.round > 0) parts.push(`round ${s.round}${s.parent ? ` ← ${s.parent}` : ''}`);
  const w = s.vsStart;
  if (w && w.n === 0) parts.push(`vs start: ${w.bothBad} both bad`); // no decisive or tied judgment: no rate
  else if (w) parts.push(`vs start ${(100 * w.rate).toFixed(0)}% [${(100 * w.low).toFixed(0)}–${(100 * w.high).toFixed(0)}%]`);
  return parts.join(' · ');
}
