/**
 * The memory plan of a stage's training step (engine/memory.ts) from the stage's model and a batch shape:
 * checked before every batch runs (the padded length of each batch is known only then), so a step that
 * cannot fit fails with the numbers before any of its work, never with a wasm abort. startStage logs the
 * plan at maxLength (the bound) when the stage starts.
 */
import * as tf from '@tensorflow/tfjs-core';
import { fusedKernelsActive } from '../../engine/kernels/index';
import { loraParameterCount } from '../../engine/lora';
import { checkTrainingFits, trainingMemoryPlan, type MemoryPlan } from '../../engine/memory';
import type { DataKind } from '../losses/types';
import type { StageOptions } from './index';

/** The plan of one step of stage `o` over `rows` sequences of `seqLen` tokens. */
export function stagePlan<K extends DataKind>(o: StageOptions<K>, rows: number, seqLen: number): MemoryPlan {
  const lora = o.model.lora.size > 0;
  return trainingMemoryPlan(o.model.config, {
    rows, seqLen, parameters: o.model.parameterCount(), trainable: lora ? loraParameterCount(o.model) : o.model.parameterCount(),
    extraWeights: o.reference?.kind === 'live' ? o.reference.model.parameterCount() : 0, fusedKernels: fusedKernelsActive(),
  });
}

/** Throws (naming every part) when a batch of `rows` × `seqLen` cannot fit on the active backend. */
export function checkBatchMemory<K extends DataKind>(o: StageOptions<K>, rows: number, seqLen: number): void {
  checkTrainingFits(stagePlan(o, rows, seqLen), tf.getBackend(), `stage ${o.stage}: a batch of ${rows} sequences × ${seqLen} tokens (batchSize ${o.batchSize})`);
}
