/**
 * The native kernels (native/src, a Node-API addon shipped prebuilt for linux-x64): loading, and the
 * engine's thread count. The addon works in place on the wasm backend's heap (byte offsets of tfjs
 * tensors), runs on its own pthread pool, and is optional: where it does not load (another platform, a
 * libc too old, DAP_NATIVE=0) the engine keeps the single-threaded wasm kernels, and says why.
 * Threads: every core by default (os.availableParallelism()), or DAP_THREADS / setEngineThreads(n).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';

/** The addon's functions (see native/src/addon.c for the argument order; offsets in bytes, sizes in elements). */
export interface NativeKernels {
  setThreads(n: number): void;
  threads(): number;
  cores(): number;
  info(): { kernel: string; sourceHash: string };
  gemm(heap: ArrayBuffer, batch: number, M: number, N: number, K: number,
    a: number, rsa: number, csa: number, sa: number, b: number, rsb: number, csb: number, sb: number,
    c: number, ldc: number, sc: number, accumulate: number): void;
  geluFwd(heap: ArrayBuffer, x: number, y: number, n: number): void;
  geluBwd(heap: ArrayBuffer, x: number, dy: number, dx: number, n: number): void;
  layerNormFwd(heap: ArrayBuffer, x: number, g: number, b: number, y: number, mean: number, rstd: number, R: number, D: number, eps: number): void;
  layerNormBwd(heap: ArrayBuffer, x: number, g: number, mean: number, rstd: number, dy: number, dx: number, dg: number, db: number, R: number, D: number): void;
  rmsNormFwd(heap: ArrayBuffer, x: number, w: number, y: number, rstd: number, R: number, D: number, eps: number): void;
  rmsNormBwd(heap: ArrayBuffer, x: number, w: number, rstd: number, dy: number, dx: number, dw: number, R: number, D: number): void;
  logProbFwd(heap: ArrayBuffer, logits: number, targets: number, logp: number, lse: number, R: number, V: number): void;
  logProbBwd(heap: ArrayBuffer, logits: number, targets: number, lse: number, dy: number, dlogits: number, R: number, V: number): void;
  attnSoftmaxFwd(heap: ArrayBuffer, scores: number, keyMask: number, probs: number, B: number, H: number, Tq: number, Tk: number, past: number, scale: number): void;
  attnSoftmaxBwd(heap: ArrayBuffer, probs: number, dprobs: number, dscores: number, BH: number, Tq: number, Tk: number, scale: number): void;
  adamw(heap: ArrayBuffer, p: number, m: number, v: number, g: number, n: number, lr: number, beta1: number, beta2: number,
    eps: number, bc1: number, bc2: number, decay: number, gradScale: number): void;
  flashFwd(heap: ArrayBuffer, q: number, k: number, v: number, keyMask: number, out: number, lse: number, B: number, H: number, T: number, Dh: number, scale: number): void;
  flashBwd(heap: ArrayBuffer, q: number, k: number, v: number, keyMask: number, out: number, lse: number, dout: number,
    dq: number, dk: number, dv: number, B: number, H: number, T: number, Dh: number, scale: number): void;
  attnFwd(heap: ArrayBuffer, q: number, qrs: number, k: number, krs: number, v: number, vrs: number, keyMask: number, out: number, ors: number,
    probs: number, B: number, T: number, H: number, Hkv: number, hs: number, scale: number): void;
  attnBwd(heap: ArrayBuffer, q: number, qrs: number, k: number, krs: number, v: number, vrs: number, probs: number, dout: number, dors: number,
    dq: number, dqrs: number, dk: number, dkrs: number, dv: number, dvrs: number, B: number, T: number, H: number, Hkv: number, hs: number, scale: number): void;
  colSum(heap: ArrayBuffer, x: number, out: number, R: number, C: number): void;
  sumSquares(heap: ArrayBuffer, x: number, n: number): number;
  addBcast(heap: ArrayBuffer, a: number, b: number, y: number, n: number, bn: number): void;
  stridedCopy(heap: ArrayBuffer, src: number, dst: number, n0: number, n1: number, n2: number, n3: number, s0: number, s1: number, s2: number, s3: number): void;
  /** Returns the index of the first id outside [0, V), or -1 (then every row was copied). */
  gatherRows(heap: ArrayBuffer, table: number, ids: number, out: number, n: number, D: number, V: number): number;
  swigluFwd(heap: ArrayBuffer, g: number, u: number, y: number, n: number): void;
  swigluBwd(heap: ArrayBuffer, g: number, u: number, dy: number, dg: number, du: number, n: number): void;
  /** x (B, H, T, Dh), or (B, T, H, Dh) when bthd = 1 (then pass H and T in that meaning all the same). */
  rope(heap: ArrayBuffer, x: number, cos: number, sin: number, y: number, B: number, H: number, T: number, Dh: number, CB: number, inverse: number, bthd: number): void;
  segmentSum(heap: ArrayBuffer, x: number, ids: number, out: number, n: number, D: number, S: number): void;
}

/** Where the addon for this platform is looked for: beside the bundle (dist/native/) or in the source tree. */
export function nativeAddonCandidates(): string[] {
  const platform = `${process.platform}-${process.arch}`;
  const here = typeof __dirname !== 'undefined' ? __dirname : process.cwd();
  const file = join(platform, 'dap-kernels.node');
  return [
    join(here, 'native', file), // dist/cli.js, dist/worker.js → dist/native/
    join(here, '..', 'dist', 'native', file),
    join(here, '..', '..', '..', 'native', 'prebuilt', file), // src/engine/kernels → native/prebuilt/
    join(process.cwd(), 'native', 'prebuilt', file),
  ];
}

let loaded: NativeKernels | null | undefined;
let loadError = '';

/** The addon, or null when it cannot load here (nativeLoadError() says why). Loaded once. */
export function nativeKernels(): NativeKernels | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  if (process.env.DAP_NATIVE === '0') {
    loadError = 'turned off by DAP_NATIVE=0';
    return null;
  }
  const path = nativeAddonCandidates().find((p) => existsSync(p));
  if (!path) {
    loadError = `no prebuilt native kernels for ${process.platform}-${process.arch}`;
    return null;
  }
  try {
    const req = createRequire(typeof __filename !== 'undefined' ? __filename : join(process.cwd(), 'noop.js'));
    loaded = req(path) as NativeKernels;
    loaded.setThreads(defaultThreads());
  } catch (err) {
    loadError = `${path} did not load: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;
    loaded = null;
  }
  return loaded;
}

/** Why nativeKernels() is null ('' when it loaded or was not tried yet). */
export function nativeLoadError(): string {
  return loadError;
}

/** Threads to use when nobody asked: DAP_THREADS when set, else every core. */
export function defaultThreads(): number {
  const env = process.env.DAP_THREADS;
  if (env !== undefined && env.trim() !== '') return parseThreads(env, 'DAP_THREADS');
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

/** A thread count from text: a positive integer; names `source` in the error otherwise. */
export function parseThreads(value: string | number, source: string): number {
  const n = typeof value === 'number' ? value : Number(value.trim());
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new Error(`${source}: the thread count must be an integer from 1 to 256 (got "${value}")`);
  return n;
}

/** Sets the kernels' thread count (no effect without the addon; the wasm kernels are single-threaded). */
export function setEngineThreads(n: number): void {
  const k = nativeKernels();
  if (k) k.setThreads(parseThreads(n, 'threads'));
}

/** Threads the engine's kernels use now: the pool size with the addon, else 1. */
export function engineThreads(): number {
  const k = nativeKernels();
  return k ? k.threads() : 1;
}
