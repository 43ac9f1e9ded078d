/**
 * Reading run folders back for the runs view and the loss panel (no vscode): list the runs under a runs
 * directory with their status from metrics.jsonl's last event, read a run's config and events, find its
 * newest checkpoint. A run whose last event is not final is "running" when its metrics were written
 * recently (or a live job of this window trains it), else "interrupted" (its process died unrecorded).
 * Also what "Export model" can copy out of a run (final model, LoRA adapter, or the newest checkpoint).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { loraLabel, loraOf } from '../../../webview/loss/runModel';
import { replayRun, runPaths } from '../../train/runDir';
import type { FailedEvent, FinishedEvent, TrainEvent } from '../../train/events';

export type RunFolderStatus = 'running' | 'finished' | 'cancelled' | 'failed' | 'interrupted';

/** What the runs view shows for one run folder. */
export interface RunListing {
  runId: string;
  runDir: string;
  status: RunFolderStatus;
  /** Modification time of metrics.jsonl (ms since epoch). */
  mtimeMs: number;
  /** The config.json object, when readable. */
  config?: Record<string, unknown>;
  finished?: FinishedEvent['summary'];
  failed?: Pick<FailedEvent, 'error' | 'stack' | 'lastCheckpoint'>;
  /** Last step: stage, step, totalSteps and loss. */
  lastStep?: { stage: string; step: number; totalSteps: number; loss?: number };
  /** Log lines (warnings and errors first matter for failed runs). */
  logs: string[];
  /** Newest checkpoint folder announced by a checkpoint event. */
  checkpoint?: string;
  /** The problem reading the run folder, if any (then status is 'failed'). */
  problem?: string;
}

/** Without a final event, a run counts as running if metrics.jsonl changed within this many ms. */
export const STALE_AFTER_MS = 10 * 60 * 1000;

/** The status of a run from its events. */
export function statusOf(events: readonly TrainEvent[], mtimeMs: number, live: boolean, now = Date.now()): RunFolderStatus {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i];
    if (e.type === 'finished') return e.summary.cancelled ? 'cancelled' : 'finished';
    if (e.type === 'failed') return 'failed';
  }
  return live || now - mtimeMs < STALE_AFTER_MS ? 'running' : 'interrupted';
}

/** Reads one run folder; never throws (problems are reported in `problem`). */
export function readRun(runDir: string, runId: string, live = false): RunListing {
  const paths = runPaths(runDir);
  let mtimeMs = 0;
  try {
    mtimeMs = statSync(paths.metrics).mtimeMs;
  } catch {
    mtimeMs = existsSync(runDir) ? statSync(runDir).mtimeMs : 0;
  }
  const listing: RunListing = { runId, runDir, status: 'running', mtimeMs, logs: [] };
  try {
    if (existsSync(paths.config)) listing.config = JSON.parse(readFileSync(paths.config, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    listing.problem = `${paths.config}: ${(e as Error).message}`;
  }
  let events: TrainEvent[] = [];
  try {
    events = existsSync(paths.metrics) ? replayRun(runDir) : [];
  } catch (e) {
    listing.problem = (e as Error).message;
  }
  for (const e of events) {
    if (e.type === 'step') listing.lastStep = { stage: e.stage, step: e.step, totalSteps: e.totalSteps, loss: e.metrics.loss };
    else if (e.type === 'checkpoint') listing.checkpoint = e.path;
    else if (e.type === 'log') listing.logs.push(`[${e.level}] ${e.message}`);
    else if (e.type === 'finished') listing.finished = e.summary;
    else if (e.type === 'failed') listing.failed = { error: e.error, stack: e.stack, lastCheckpoint: e.lastCheckpoint };
  }
  listing.status = listing.problem && !events.length ? 'failed' : statusOf(events, mtimeMs, live);
  return listing;
}

/** Every run folder (a folder holding config.json or metrics.jsonl) under `runsDir`, newest first. */
export function listRuns(runsDir: string, liveRunIds: ReadonlySet<string> = new Set()): RunListing[] {
  if (!existsSync(runsDir)) return [];
  const runs: RunListing[] = [];
  for (const entry of readdirSync(runsDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const dir = join(runsDir, entry.name);
    const paths = runPaths(dir);
    if (!existsSync(paths.metrics) && !existsSync(paths.config)) continue;
    runs.push(readRun(dir, entry.name, liveRunIds.has(entry.name)));
  }
  return runs.sort((a, b) => b.mtimeMs - a.mtimeMs || b.runId.localeCompare(a.runId));
}

/** One folder "Export model" can copy out of a run. */
export interface ExportSource {
  /** model: the final model (LoRA: adapters merged in); adapter: a PEFT adapter (the run's or a checkpoint's); checkpoint: a full checkpoint folder. */
  kind: 'model' | 'adapter' | 'checkpoint';
  /** The folder to copy. */
  folder: string;
  /** Name of the copy in the folder the user picks (RUN-model, RUN-adapter, RUN-CKPT, RUN-CKPT-adapter). */
  exportName: string;
  /** Quick-pick label. */
  label: string;
  /** Quick-pick detail: what the folder is and how to load it. */
  detail: string;
  /** Adapters: the base model they apply to (adapter_config.json's base_model_name_or_path), when named. */
  base?: string;
  /** Adapters: true when it comes from a checkpoint (the run did not finish). */
  fromCheckpoint?: boolean;
}

/** base_model_name_or_path of a PEFT adapter folder (undefined when unreadable or unset). */
export function adapterBaseOf(adapterDir: string): string | undefined {
  try {
    const v = (JSON.parse(readFileSync(join(adapterDir, 'adapter_config.json'), 'utf8')) as { base_model_name_or_path?: unknown }).base_model_name_or_path;
    return typeof v === 'string' && v !== '' ? v : undefined;
  } catch {
    return undefined;
  }
}

function isAdapterDir(dir: string): boolean {
  return existsSync(join(dir, 'adapter_config.json'));
}

function adapterSource(folder: string, exportName: string, fromCheckpoint: boolean): ExportSource {
  const base = adapterBaseOf(folder);
  const where = fromCheckpoint ? `checkpoint ${basename(dirname(folder))}: ` : '';
  return {
    kind: 'adapter',
    folder,
    exportName,
    label: fromCheckpoint ? 'LoRA adapter of the last checkpoint (PEFT)' : 'LoRA adapter only (PEFT)',
    detail: `${where}adapter_config.json + adapter_model.safetensors; needs its base model ${base ?? '(not named in adapter_config.json)'}`,
    ...(base ? { base } : {}),
    ...(fromCheckpoint ? { fromCheckpoint } : {}),
  };
}

/**
 * What "Export model" can copy, default first: a finished run's model/ (LoRA: adapters merged in) and,
 * for LoRA, its adapter/; otherwise the newest checkpoint — its adapter/ when it is a LoRA stage's
 * checkpoint (adapter only, no model/), else the checkpoint folder. Only folders that exist are offered.
 */
export function exportSourcesOf(run: RunListing): ExportSource[] {
  const sources: ExportSource[] = [];
  const model = run.finished?.model;
  const adapter = run.finished?.adapter;
  const hasAdapter = typeof adapter === 'string' && isAdapterDir(adapter);
  if (typeof model === 'string' && existsSync(model)) {
    sources.push({
      kind: 'model',
      folder: model,
      exportName: `${run.runId}-${basename(model)}`,
      label: hasAdapter ? 'Merged model (LoRA adapters merged in)' : 'Model',
      detail: 'a complete Hugging Face model folder (config.json, safetensors, tokenizer)',
    });
  }
  if (hasAdapter) sources.push(adapterSource(adapter, `${run.runId}-${basename(adapter)}`, false));
  if (sources.length) return sources;
  const candidates = [run.finished?.checkpoint, run.failed?.lastCheckpoint, run.checkpoint];
  const ckpt = candidates.find((c): c is string => typeof c === 'string' && existsSync(c));
  if (!ckpt) return [];
  const ckptAdapter = join(ckpt, 'adapter');
  if (!existsSync(join(ckpt, 'model')) && isAdapterDir(ckptAdapter)) return [adapterSource(ckptAdapter, `${run.runId}-${basename(ckpt)}-adapter`, true)];
  return [{ kind: 'checkpoint', folder: ckpt, exportName: `${run.runId}-${basename(ckpt)}`, label: 'Last checkpoint', detail: 'model/ with optimizer and trainer state' }];
}

/** The folder to export or reveal by default: the final model, else the newest checkpoint (a LoRA checkpoint: its adapter/). */
export function modelFolderOf(run: RunListing): string | undefined {
  return exportSourcesOf(run)[0]?.folder;
}

/** The message after exporting `source` of run `runId` to `target` (adapters: which base model they need). */
export function exportedMessage(runId: string, source: ExportSource, target: string): string {
  if (source.kind !== 'adapter') return `Exported ${basename(source.folder)} of ${runId} to ${target}`;
  const what = source.fromCheckpoint ? `the LoRA adapter of checkpoint ${basename(dirname(source.folder))}` : 'the LoRA adapter';
  const base = source.base ? `its base model ${source.base}` : 'its base model (adapter_config.json names none)';
  return `Exported ${what} of ${runId} to ${target}. It is a PEFT adapter, not a full model: load it on top of ${base}.`;
}

/** The runs view's short LoRA note ("LoRA r=8") and long one ("LoRA r=8, α=16, targets c_attn") of a run's config. */
export function loraNotesOf(config: Record<string, unknown> | undefined): { short: string; long: string } | undefined {
  const lora = loraOf(config);
  return lora ? { short: loraLabel(lora, false), long: loraLabel(lora) } : undefined;
}

/** Replays a run's events for the loss panel (empty when metrics.jsonl does not exist yet). */
export function readRunEvents(runDir: string): TrainEvent[] {
  return existsSync(runPaths(runDir).metrics) ? replayRun(runDir) : [];
}
