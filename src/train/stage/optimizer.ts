/**
 * AdamW (Loshchilov & Hutter 2019) over tf.Variables: decoupled weight decay (p ← p − lr·wd·p, not added
 * to the gradient), Adam moments with bias correction, the learning rate passed per step (so the schedule
 * lives outside), and global-norm gradient clipping. State (moments + step) saves to / loads from a
 * safetensors file so a resumed run continues bit-identically. tf.train.adam has no weight decay.
 * Memory: with the native kernels the update runs in place on p, m and v (one fused pass, no temporary);
 * otherwise each variable is updated in its own tf.tidy, so the temporaries of one variable are freed
 * before the next (one big tidy held every variable's temporaries at once: ~14× the parameter bytes).
 * Gradient clipping is a scale passed to apply() (globalGradNorm + clipScale), not a scaled copy of
 * every gradient.
 */
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { writeFileAtomicSync } from '../../core/atomicWrite';
import { readHeader, readTensorBytes, writeSafetensors } from '../../engine/safetensors';
import { fusedKernelsActive } from '../../engine/kernels/index';
import { nativeKernels, type NativeKernels } from '../../engine/kernels/native';
import { activeWasmBackend, heapOf, type WasmHeapBackend } from '../../engine/kernels/wasm-heap';

/** AdamW settings. */
export interface AdamWConfig {
  /** β1: decay of the first-moment average (default 0.9). */
  beta1: number;
  /** β2: decay of the second-moment average (default 0.999). */
  beta2: number;
  /** ε added to √v̂ (default 1e-8). */
  epsilon: number;
  /** Decoupled weight decay (default 0; HF/TRL default). */
  weightDecay: number;
  /** Apply weight decay only to variables of rank ≥ 2 (matrices), not to biases and norm gains (default true). */
  decayMatricesOnly: boolean;
}

export const DEFAULT_ADAMW: AdamWConfig = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0, decayMatricesOnly: true };

/** AdamW optimizer for a fixed list of variables. */
export class AdamW {
  readonly config: AdamWConfig;
  /** Number of updates applied so far. */
  step = 0;
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];

  constructor(readonly variables: tf.Variable[], config: Partial<AdamWConfig> = {}) {
    this.config = { ...DEFAULT_ADAMW, ...config };
    // (in a tidy: the zeros' own handle is released, so each moment owns its data alone and can be updated in place)
    this.m = tf.tidy(() => variables.map((p) => tf.variable(tf.zerosLike(p), false)));
    this.v = tf.tidy(() => variables.map((p) => tf.variable(tf.zerosLike(p), false)));
  }

  /**
   * One update with gradients aligned to `variables`, learning rate `lr`, and each gradient multiplied
   * by `gradScale` first (clipping: see clipScale). Does not dispose `grads`.
   */
  apply(grads: tf.Tensor[], lr: number, gradScale = 1): void {
    if (grads.length !== this.variables.length) throw new Error(`AdamW: ${grads.length} gradients for ${this.variables.length} variables`);
    this.step += 1;
    const { beta1, beta2, epsilon, weightDecay, decayMatricesOnly } = this.config;
    const bc1 = 1 - Math.pow(beta1, this.step);
    const bc2 = 1 - Math.pow(beta2, this.step);
    const k = fusedKernelsActive() ? nativeKernels() : null;
    const backend = k ? activeWasmBackend() : null;
    this.variables.forEach((p, i) => {
      const decay = weightDecay > 0 && (!decayMatricesOnly || p.rank >= 2) ? lr * weightDecay : 0;
      const g = grads[i];
      if (k && backend && nativeUpdatable(backend, [p, this.m[i], this.v[i]], g)) {
        const off = (t: tf.Tensor) => backend.dataIdMap.get(t.dataId)!.memoryOffset;
        k.adamw(heapOf(backend), off(p), off(this.m[i]), off(this.v[i]), off(g), p.size, lr, beta1, beta2, epsilon, bc1, bc2, decay, gradScale);
        return;
      }
      tf.tidy(() => {
        const gs = gradScale === 1 ? g : tf.mul(g, gradScale);
        const m = tf.add(tf.mul(this.m[i], beta1), tf.mul(gs, 1 - beta1));
        const v = tf.add(tf.mul(this.v[i], beta2), tf.mul(tf.mul(gs, gs), 1 - beta2));
        this.m[i].assign(m);
        this.v[i].assign(v);
        const update = tf.div(tf.div(m, bc1), tf.add(tf.sqrt(tf.div(v, bc2)), epsilon));
        const decayed = decay > 0 ? tf.mul(p, 1 - decay) : p;
        p.assign(tf.sub(decayed, tf.mul(update, lr)));
      });
    });
  }

  /** Writes moments to `path` (safetensors, F32, names m.I / v.I) and the step count to `path`.json. */
  async save(path: string): Promise<void> {
    const named = [...this.m.map((t, i) => ['m.' + i, t] as const), ...this.v.map((t, i) => ['v.' + i, t] as const)];
    const tensors = [];
    for (const [name, t] of named) {
      const data = (await t.data()) as Float32Array;
      tensors.push({ name, dtype: 'F32', shape: t.shape.slice(), bytes: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) });
    }
    writeSafetensors(path, tensors, { format: 'dap-adamw' });
    writeFileAtomicSync(path + '.json', JSON.stringify({ step: this.step, config: this.config }, null, 2) + '\n');
  }

  /** Restores moments and step from files written by save(); shapes must match the variables. */
  load(path: string): void {
    const meta = JSON.parse(readFileSync(path + '.json', 'utf8')) as { step: number };
    const header = readHeader(path);
    const restore = (list: tf.Variable[], prefix: string) => list.forEach((t, i) => {
      const name = `${prefix}.${i}`;
      const info = header.tensors.get(name);
      if (!info) throw new Error(`${path}: optimizer state lacks "${name}"`);
      if (info.shape.join(',') !== t.shape.join(',')) throw new Error(`${path}: "${name}" has shape [${info.shape}], variable has [${t.shape}]`);
      const bytes = readTensorBytes(header, name);
      const f32 = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
      tf.tidy(() => t.assign(tf.tensor(f32, t.shape, 'float32')));
    });
    restore(this.m, 'm');
    restore(this.v, 'v');
    this.step = meta.step;
  }

  dispose(): void {
    for (const t of [...this.m, ...this.v]) t.dispose();
  }
}

/**
 * True when the native update can write p, m, v in place (float32 data on the wasm heap). A variable whose
 * data is shared with another tensor first gets its own exact copy (·1), so the in-place write never
 * changes that tensor and every step runs the same arithmetic (a resumed run stays bit-identical).
 */
function nativeUpdatable(backend: WasmHeapBackend, vars: tf.Variable[], g: tf.Tensor): boolean {
  if (g.dtype !== 'float32' || !backend.dataIdMap.get(g.dataId)) return false;
  if (!vars.every((t) => t.dtype === 'float32' && backend.dataIdMap.get(t.dataId))) return false;
  for (const t of vars) if (backend.dataIdMap.get(t.dataId)!.refCount > 1) tf.tidy(() => t.assign(tf.mul(t, 1)));
  return true;
}

/** √Σ‖g‖² over all gradients (float64 sums of squares with the native kernels, float32 tfjs otherwise). */
export async function globalGradNorm(grads: tf.Tensor[]): Promise<number> {
  const k: NativeKernels | null = fusedKernelsActive() ? nativeKernels() : null;
  const backend = k ? activeWasmBackend() : null;
  if (k && backend && grads.every((g) => g.dtype === 'float32')) {
    let s = 0;
    for (const g of grads) s += k.sumSquares(heapOf(backend), backend.dataIdMap.get(g.dataId)!.memoryOffset, g.size);
    return Math.sqrt(s);
  }
  const norm = tf.tidy(() => tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.mul(g, g))))));
  const value = (await norm.data())[0];
  norm.dispose();
  return value;
}

/** Global-norm clipping as a factor for AdamW.apply: min(1, maxNorm / (norm + 1e-6)); 1 when maxNorm ≤ 0. */
export function clipScale(norm: number, maxNorm: number): number {
  return maxNorm > 0 ? Math.min(1, maxNorm / (norm + 1e-6)) : 1;
}
