/**
 * How much memory a training step needs, before it runs: weights + gradients + optimizer state +
 * activations, in bytes (float32). The activation count follows what the engine's forward keeps alive
 * per block (norm outputs, q/k/v and their head-major copies, the attention scores and probabilities,
 * the MLP's hidden activations, bias adds and residual sums; coefficients measured on the fused kernels)
 * plus the LM head's logits and their gradient; test/unit/memory.test.ts checks it against the measured peak of real steps over a model-size
 * sweep. checkTrainingFits turns a plan that exceeds the wasm heap (4 GiB, wasm32, less the allocator's
 * overhead) or the machine's memory into an error with the numbers, instead of a wasm abort minutes later.
 * Measured: GPT-2 small, full AdamW, T128 B2 peaks at a 3.43 GiB heap against a plan of 3.06 GiB.
 */
import os from 'node:os';
import type { ModelConfig } from './config';
import { FLASH_MIN_T } from './fused-ops';

/** Bytes of one training step, by part. */
export interface MemoryPlan {
  weights: number;
  gradients: number;
  optimizer: number;
  activations: number;
  total: number;
}

/** Largest wasm32 heap tfjs-backend-wasm can grow to. */
export const WASM_HEAP_LIMIT = 4 * 2 ** 30;

/** What is trained in the step. */
export interface StepShape {
  /** Sequences in one forward pass (a pair batch of n pairs has 2n rows). */
  rows: number;
  /** Padded sequence length. */
  seqLen: number;
  /** Parameters of the model (all weights, kept in memory). */
  parameters: number;
  /** Parameters that get gradients and optimizer state (all of them, or the LoRA adapters). */
  trainable: number;
  /** Float32 values of optimizer state per trainable parameter (AdamW: 2). */
  optimizerStates?: number;
  /** Extra weights held during the step (a live reference model). */
  extraWeights?: number;
  /** The fused native kernels run the step (default true); the composite tfjs ops keep ~2.5× the activations. */
  fusedKernels?: boolean;
}

/**
 * Floats the forward pass keeps for the backward pass (see the file comment). The (T, T) attention
 * matrices count only where they exist: without the fused kernels, or below FLASH_MIN_T.
 */
export function activationFloats(c: ModelConfig, rows: number, seqLen: number, fused = true): number {
  const N = rows * seqLen, D = c.hiddenSize, I = c.intermediateSize, H = c.numHeads;
  const square = !fused || seqLen < FLASH_MIN_T ? 3 * rows * H * seqLen * seqLen : 0;
  const perBlock = 36 * N * D + 9 * N * I + square + 3 * D * D;
  // + a tied embedding's two partial gradients (lookup and LM head, (V, D) each) alive until they are summed
  const tied = c.tieWordEmbeddings ? 2 * c.vocabSize * D : 0;
  return c.numLayers * perBlock + 3 * N * c.vocabSize + 4 * N * D + tied;
}

/** Share of the wasm heap lost to allocator fragmentation (measured: GPT-2 small, full AdamW, T128 B2). */
export const WASM_HEAP_OVERHEAD = 1.12;

/** The memory plan of one step (bytes). */
export function trainingMemoryPlan(c: ModelConfig, s: StepShape): MemoryPlan {
  const weights = 4 * (s.parameters + (s.extraWeights ?? 0));
  const gradients = 4 * s.trainable;
  const optimizer = 4 * s.trainable * (s.optimizerStates ?? 2);
  const fused = s.fusedKernels !== false;
  const activations = 4 * activationFloats(c, s.rows, s.seqLen, fused) * (fused ? 1 : 2.5);
  return { weights, gradients, optimizer, activations, total: weights + gradients + optimizer + activations };
}

const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;

/** One line: "3.10 GiB = weights 0.46 + gradients 0.46 + AdamW state 0.93 + activations 1.25". */
export function describePlan(p: MemoryPlan): string {
  const g = (b: number) => (b / 2 ** 30).toFixed(2);
  return `${gib(p.total)} = weights ${g(p.weights)} + gradients ${g(p.gradients)} + optimizer state ${g(p.optimizer)} + activations ${g(p.activations)}`;
}

/**
 * Throws, naming every part, when the plan cannot fit: on wasm the 4 GiB heap (and the machine's memory),
 * elsewhere the machine's memory. `what` says which run/stage and shape, for the message.
 */
export function checkTrainingFits(plan: MemoryPlan, backend: string, what: string, totalMemory = os.totalmem()): void {
  const limits: [number, string][] = [[totalMemory, `this machine's ${gib(totalMemory)} of memory`]];
  if (backend === 'wasm') limits.unshift([WASM_HEAP_LIMIT / WASM_HEAP_OVERHEAD, 'the 4 GiB wasm heap (less ~12% allocator overhead)']);
  for (const [limit, name] of limits) {
    if (plan.total > limit) {
      throw new Error(`${what} needs about ${describePlan(plan)} per step, more than ${name}: ` +
        'lower batchSize or maxLength, train LoRA adapters (lora), or use the torch executor / a GPU backend.');
    }
  }
}
