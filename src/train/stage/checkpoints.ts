/**
 * Checkpoint folders of a run: runs/RUN_ID/checkpoints/STAGE-step-NNNNNN/ holding model/ (an HF folder,
 * float32 so a resume is exact) — or, for a LoRA stage, adapter/ (PEFT layout, float32; the base model is
 * the folder the run config names, not copied) — optimizer.safetensors (+ .json: AdamW moments and step
 * of the trainable variables: the adapters only under LoRA) and trainer_state.json (stage, step, epoch, position in the epoch's seeded order, tokens seen). Together they
 * let a resumed run continue with identical results.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFolderAtomic } from '../../core/atomicWrite';
import { saveModel } from '../../engine/checkpoint';
import { saveLoraAdapter } from '../../engine/lora';
import type { TransformerLM } from '../../engine/transformer';
import type { AdamW } from './optimizer';

/** Where the training loop stands (all that is needed, with the seed, to reproduce the data order). */
export interface TrainerState {
  stage: string;
  /** Optimizer steps done. */
  step: number;
  /** Current epoch (0-based) and the number of examples of its order already consumed. */
  epoch: number;
  cursor: number;
  totalSteps: number;
  /** Completion + prompt tokens processed so far (num_tokens). */
  numTokens: number;
  seed: number;
}

/** Folder name of a checkpoint. */
export function checkpointDir(runDir: string, stage: string, step: number): string {
  return join(runDir, 'checkpoints', `${stage}-step-${String(step).padStart(6, '0')}`);
}

/** The adapter folder of a LoRA checkpoint (absent in full fine-tuning checkpoints). */
export function checkpointAdapterDir(dir: string): string | undefined {
  const a = join(dir, 'adapter');
  return existsSync(join(a, 'adapter_config.json')) ? a : undefined;
}

/**
 * Writes model (or, with LoRA on, only its adapters, naming `loraBase` as their base model), optimizer and
 * trainer state; returns the folder. The folder appears whole or not at all (filled under a temporary
 * name, fsync'd, renamed: core/atomicWrite.ts), so a crash or a full disk mid-write leaves the previous
 * checkpoints as they were and no half checkpoint.
 */
export async function writeCheckpoint(runDir: string, model: TransformerLM, optimizer: AdamW, state: TrainerState, loraBase?: string): Promise<string> {
  const dir = checkpointDir(runDir, state.stage, state.step);
  await writeFolderAtomic(dir, async (tmp) => {
    if (model.lora.size > 0) await saveLoraAdapter(model, join(tmp, 'adapter'), loraBase ?? model.sourceDir ?? '');
    else await saveModel(model, join(tmp, 'model'), { dtype: 'F32' });
    await optimizer.save(join(tmp, 'optimizer.safetensors'));
    writeFileSync(join(tmp, 'trainer_state.json'), JSON.stringify(state, null, 2) + '\n');
  });
  return dir;
}

/** Reads trainer_state.json of a checkpoint folder, with a clear error when it is not one. */
export function readTrainerState(dir: string): TrainerState {
  const p = join(dir, 'trainer_state.json');
  if (!existsSync(p)) throw new Error(`${dir}: not a checkpoint folder (no trainer_state.json)`);
  return JSON.parse(readFileSync(p, 'utf8')) as TrainerState;
}
