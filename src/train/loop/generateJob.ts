/**
 * The generation jobs the editor runs in its worker process (src/train/worker/main.ts), one message type
 * for all of them: a task file from prompts (*DAP: Generate Responses…*), a run against its starting model
 * (*Evaluate against the starting model*), two runs' outputs compared, and a run's next-round candidates.
 */
import { assertUnreachable } from '../../core/assertUnreachable';
import { formatIssue } from '../../core/issues';
import { generateTasks, type GenerateProgress, type GenerateRequest, type GenerateResult } from './generateTasks';
import { compareRunOutputs, evaluateAgainstStart, generateCandidates } from './rounds';
import type { TorchGeneration } from './samplers';

/** One generation job. */
export type GenerateJob =
  | { kind: 'tasks'; request: Omit<GenerateRequest, 'onProgress' | 'shouldStop' | 'onlyPrompts' | 'models'> & { models: string[] } }
  | { kind: 'evaluate'; runDir: string }
  | { kind: 'compareRuns'; runA: string; runB: string }
  | { kind: 'candidates'; runDir: string; k: number };

/** What a finished job reports (JSON-able: it crosses the worker's IPC). */
export interface GenerateJobResult {
  out: string;
  models: string[];
  written: number;
  skipped: number;
  prompts: number;
  stopped: boolean;
  /** Bad prompt lines, as file:line: field: problem. */
  issues: string[];
}

/** Runs a job; `backend` is the tfjs preference; `torch` generates on the torch executor instead. */
export async function runGenerateJob(job: GenerateJob, backend: string, onProgress: (p: GenerateProgress) => void, shouldStop: () => boolean, torch?: TorchGeneration): Promise<GenerateJobResult> {
  const o = { backend, torch, onProgress, shouldStop };
  let r: GenerateResult;
  switch (job.kind) {
    case 'tasks':
      r = await generateTasks({ ...job.request, ...o });
      break;
    case 'evaluate':
      r = await evaluateAgainstStart(job.runDir, o);
      break;
    case 'compareRuns':
      r = await compareRunOutputs(job.runA, job.runB, o);
      break;
    case 'candidates':
      r = await generateCandidates(job.runDir, job.k, o);
      break;
    default:
      return assertUnreachable(job);
  }
  return {
    out: r.out, models: r.models.map((m) => m.name), written: r.written, skipped: r.skipped, prompts: r.prompts, stopped: r.stopped,
    issues: r.issues.map(formatIssue),
  };
}
