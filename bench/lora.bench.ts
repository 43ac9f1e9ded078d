/**
 * LoRA vs full fine-tuning of GPT-2 small (124 M, batch 2×64) on wasm with the fast kernels: tokens/s of one
 * training step and the wasm heap it needs. LoRA: rank 8 on c_attn (PEFT's GPT-2 default target), AdamW on
 * the adapters (the trainer's optimizer). Full: SGD on every weight (AdamW's two moments do not fit the 4 GB
 * wasm32 heap at this size). LoRA runs first: the wasm heap only grows, so its size after each variant is
 * that variant's peak (the full step's peak includes the LoRA run's, which is smaller).
 * Env: DAP_BENCH_QUICK=1 times one step instead of two.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/engine/backend';
import { GPT2_SMALL, round, timeTraining } from './training';

/** Current size of the wasm heap in MiB (it never shrinks: the high-water mark). */
function wasmHeapMiB(): number {
  const b = tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } };
  return b.wasm ? b.wasm.HEAPU8.buffer.byteLength / 2 ** 20 : Number.NaN;
}

export async function run(): Promise<Record<string, unknown>> {
  await initBackend('wasm');
  const steps = process.env.DAP_BENCH_QUICK === '1' ? 1 : 2;
  const shape = GPT2_SMALL;
  const tokens = shape.batch * shape.seqLen;
  const lora = await timeTraining(shape, steps, 1, { lora: { r: 8, alpha: 8, targets: ['c_attn'] } });
  const loraHeap = wasmHeapMiB();
  process.stderr.write(`  lora: r=8 c_attn ${round(lora.tokensPerSec)} tokens/s, heap ${round(loraHeap, 0)} MiB\n`);
  const full = await timeTraining(shape, steps, 1);
  const fullHeap = wasmHeapMiB();
  process.stderr.write(`  lora: full SGD ${round(full.tokensPerSec)} tokens/s, heap ${round(fullHeap, 0)} MiB\n`);
  return {
    model: `${shape.name} (${shape.batch}×${shape.seqLen}, ${tokens} tokens/step), wasm fast kernels, ${steps} timed step(s) after a warm-up`,
    lora_r8_c_attn_adamw: { tokensPerSec: round(lora.tokensPerSec), stepMs: round(lora.stepMs, 0), trainableParams: lora.trainableParams, heapMiB: round(loraHeap, 0), firstLoss: round(lora.firstLoss, 5) },
    full_sgd: { tokensPerSec: round(full.tokensPerSec), stepMs: round(full.stepMs, 0), trainableParams: full.trainableParams, heapMiB: round(fullHeap, 0), firstLoss: round(full.firstLoss, 5) },
    loraSpeedup: round(lora.tokensPerSec / full.tokensPerSec),
  };
}
