/**
 * Where a run stands in its stages (pure, browser-safe: the loss panel and the status bar both read it):
 * from the plan a `started` event carries (e.g. sft 300 steps, then dpo 80) and the last step seen of each
 * stage, each stage is done, running (with its own step, total and ETA from its first step) or waiting.
 */
import type { StagePlan } from './events';

/** The last step seen of a stage. */
export interface StageSeen {
  step: number;
  totalSteps: number;
  /** The worker's estimate of the stage's remaining seconds (its mean step time so far × steps left). */
  etaSeconds?: number;
}

/** One stage as a viewer shows it. */
export interface StageStatus {
  stage: string;
  state: 'done' | 'running' | 'waiting' | 'stopped';
  step: number;
  /** Known once planned or started (SPIN iterations: once started). */
  totalSteps?: number;
  etaSeconds?: number;
}

/**
 * The plan's stages with their state: stages before `current` are done, `current` is running (stopped once
 * the run `ended` short of its last step), later ones wait. Stages seen but not planned (runs from before
 * plans) follow the plan's order of appearance in `seen`.
 */
export function stagesStatus(plan: readonly StagePlan[], seen: ReadonlyMap<string, StageSeen>, current: string | undefined, ended: boolean): StageStatus[] {
  const names = [...plan.map((p) => p.stage), ...[...seen.keys()].filter((k) => !plan.some((p) => p.stage === k))];
  const at = current === undefined ? -1 : names.indexOf(current);
  return names.map((stage, i) => {
    const s = seen.get(stage);
    const totalSteps = s?.totalSteps ?? plan.find((p) => p.stage === stage)?.totalSteps;
    const step = s?.step ?? 0;
    const complete = totalSteps !== undefined && step >= totalSteps && step > 0;
    let state: StageStatus['state'];
    if (i < at || complete) state = 'done';
    else if (i === at) state = ended ? 'stopped' : 'running';
    else state = 'waiting';
    return { stage, state, step, ...(totalSteps !== undefined ? { totalSteps } : {}), ...(state === 'running' && s?.etaSeconds !== undefined ? { etaSeconds: s.etaSeconds } : {}) };
  });
}

/** "then dpo (80 steps)" for the stages after the running one, or '' when it is the last. */
export function laterStagesText(stages: readonly StageStatus[]): string {
  const later = stages.filter((s) => s.state === 'waiting');
  if (later.length === 0) return '';
  return `then ${later.map((s) => (s.totalSteps !== undefined ? `${s.stage} (${s.totalSteps} steps)` : s.stage)).join(', ')}`;
}
