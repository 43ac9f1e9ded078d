/**
 * Judging a task file with the verifier (core/verifierJudge.ts): appends the verifier's judgment of every
 * verifiable item it has not judged yet to the annotation log, one fsync'd event per line; nothing is
 * rewritten, so a rerun adds only new items. Used by `dap judge`, the demo and the VS Code commands.
 */
import { appendEventSync } from '../../core/annotationLog';
import { defaultLogPath, loadProject } from '../../core/project';
import type { DataIssue } from '../../core/types';
import { VERIFIER_ANNOTATOR, verifierEvent } from '../../core/verifierJudge';

/** What a verifier pass did. */
export interface VerifierPass {
  written: number;
  /** Items judged by the verifier before this pass. */
  already: number;
  /** Items with a response the verifier cannot check. */
  unverifiable: number;
  issues: DataIssue[];
}

/** Appends the verifier's judgments of the items it has not judged (see the file comment). */
export async function judgeWithVerifier(tasksPath: string, logPath = defaultLogPath(tasksPath)): Promise<VerifierPass> {
  const project = await loadProject(tasksPath, logPath);
  const judged = new Set(project.resolution.judgments.filter((j) => j.annotator === VERIFIER_ANNOTATOR).map((j) => j.item));
  let written = 0;
  let unverifiable = 0;
  for (const item of project.items) {
    if (judged.has(item.id)) continue;
    const event = verifierEvent(item, new Date().toISOString());
    if (!event) {
      unverifiable++;
      continue;
    }
    appendEventSync(logPath, event);
    written++;
  }
  return { written, already: judged.size, unverifiable, issues: project.issues };
}
