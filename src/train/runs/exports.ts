/**
 * What "Export model" and "Reveal checkpoint" can take out of a run folder: the final model (LoRA: with
 * the adapters merged in), the run's PEFT adapter, or the newest checkpoint (a LoRA checkpoint: its
 * adapter/), default first, and the message after an export (an adapter names the base model it needs).
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { RunListing } from './listing';

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
