/**
 * What `--model` names for generation and comparison: `builtin` (the shipped pretrained built-in model),
 * a training run folder (runs/RUN_ID: its final model/, named by the run id), or a Hugging Face model
 * folder (named by the path as given). The name is what each generated response records as its `model`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { builtinModelDir } from '../../engine/builtin';
import { runPaths } from '../runs/folder';

/** A resolved model argument. */
export interface ModelSource {
  /** Recorded in each response's `model`: "builtin", the run id, or the folder as given. */
  name: string;
  /** The Hugging Face folder to load. */
  dir: string;
  /** The run folder, when the argument was one. */
  runDir?: string;
}

/** True when `dir` is a training run folder (it has the run's config.json and metrics.jsonl). */
export function isRunFolder(dir: string): boolean {
  const p = runPaths(dir);
  return existsSync(p.metrics) && existsSync(p.config);
}

/** The run id of a run folder (config.json's runId, else the folder name). */
export function runIdOf(runDir: string): string {
  try {
    const id = (JSON.parse(readFileSync(runPaths(runDir).config, 'utf8')) as { runId?: unknown }).runId;
    if (typeof id === 'string' && id !== '') return id;
  } catch {
    // fall back to the folder name
  }
  return basename(resolve(runDir));
}

/** Resolves a `--model` argument (see the file comment); errors name the argument. */
export function resolveModelSource(spec: string): ModelSource {
  if (spec === 'builtin') return { name: 'builtin', dir: builtinModelDir() };
  if (!existsSync(spec)) throw new Error(`${spec}: no such model folder or run folder`);
  if (isRunFolder(spec)) {
    const model = runPaths(spec).finalModel;
    if (!existsSync(join(model, 'config.json'))) throw new Error(`${spec}: a run folder without a final model/ (the run has not finished)`);
    return { name: runIdOf(spec), dir: model, runDir: spec };
  }
  if (!existsSync(join(spec, 'config.json'))) throw new Error(`${spec}: not a model folder (no config.json) nor a run folder (no metrics.jsonl)`);
  return { name: spec, dir: spec };
}
