/**
 * Picks and initialises the tfjs backend the engine runs on, and reports the choice.
 * Ladder for 'auto': tensorflow (tfjs-node, optional native binary) → webgpu (Dawn via the `webgpu` npm
 * package, hardware adapters only) → wasm (always; with the fast kernels from ./kernels) → cpu.
 * The preference comes from the caller (CLI flag / VS Code setting); when that is 'auto', the
 * environment variable DAP_BACKEND may name one. An explicitly named backend that cannot start is an
 * error, not a silent fallback.
 */
import * as tf from '@tensorflow/tfjs-core';
// A named import: a bare one is dropped by esbuild (the package declares itself side-effect free) and
// then the 'cpu' backend would not be registered in the bundles.
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
// tfjs-core's Node bundle registers no gradients: this side-effect import does (shared global registry).
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { createRequire } from 'node:module';
import { nativeLoadError, setKernelMode, type KernelMode } from './kernels/index';
import { engineThreads, nativeKernels, setEngineThreads } from './kernels/native';
import { adapterName, initWebGpu, probeWebGpuIsolated } from './webgpu';

export type BackendName = 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
export type BackendPreference = 'auto' | BackendName;
export const BACKEND_PREFERENCES: readonly BackendPreference[] = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'];

/** What initBackend chose. */
export interface BackendInfo {
  /** The tfjs backend now active. */
  name: BackendName;
  /** Human-readable detail: the adapter name for webgpu, the wasm binary folder, ... */
  detail: string;
  /** Rungs of the ladder that were tried before and failed, with the reason (empty when the first worked). */
  skipped: { name: BackendName; reason: string }[];
  /** Threads the engine's kernels use (the native kernels' pool; 1 for the wasm and cpu kernels). */
  threads: number;
  /** On wasm: which kernels run (see kernels/index.ts); null on other backends. */
  kernels: KernelMode | null;
}

/** Options for initBackend. */
export interface BackendOptions {
  /** Install the fast wasm kernels (default true; env DAP_STOCK_KERNELS=1 turns them off). */
  fastKernels?: boolean;
  /** Use the native kernels when they load (default true; env DAP_NATIVE=0 turns them off). */
  native?: boolean;
  /** Threads of the native kernels (default: DAP_THREADS, else every core). */
  threads?: number;
}

const LADDER: BackendName[] = ['tensorflow', 'webgpu', 'wasm', 'cpu'];

/** Resolves 'auto' through the DAP_BACKEND environment variable; validates the value. */
export function resolvePreference(pref: BackendPreference | string | undefined): BackendPreference {
  let p = (pref ?? 'auto').toString().trim().toLowerCase();
  if (p === 'auto' && process.env.DAP_BACKEND) p = process.env.DAP_BACKEND.trim().toLowerCase();
  if (p === '') p = 'auto';
  if (!(BACKEND_PREFERENCES as readonly string[]).includes(p)) {
    throw new Error(`Unknown backend "${p}": expected one of ${BACKEND_PREFERENCES.join(', ')}.`);
  }
  return p as BackendPreference;
}

/** Folders that may hold tfjs' .wasm binaries: beside the esbuild bundle (dist/wasm) or in node_modules. */
export function wasmBinaryFolder(): string | null {
  const here = typeof __dirname !== 'undefined' ? __dirname : process.cwd();
  const candidates = [join(here, 'wasm'), join(here, '..', 'dist', 'wasm'), join(here, '..', '..', 'dist', 'wasm')];
  try {
    const req = createRequire(join(here, 'noop.js'));
    candidates.push(join(dirname(req.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist'));
  } catch {
    // not resolvable from here (packaged extension without node_modules): the bundle folder must have them
  }
  candidates.push(join(process.cwd(), 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist'));
  for (const c of candidates) if (existsSync(join(c, 'tfjs-backend-wasm-simd.wasm'))) return c;
  return null;
}

let wasmPathsSet = false;

async function tryTensorflow(): Promise<string> {
  const req = createRequire(join(typeof __dirname !== 'undefined' ? __dirname : process.cwd(), 'noop.js'));
  // Optional dependency with a native binary downloaded at install time: absent or broken on many machines.
  req('@tensorflow/tfjs-node');
  if (!tf.findBackend('tensorflow')) throw new Error('tfjs-node loaded but registered no "tensorflow" backend with this tfjs-core');
  if (!(await tf.setBackend('tensorflow'))) throw new Error('tf.setBackend("tensorflow") failed');
  return 'libtensorflow via @tensorflow/tfjs-node';
}

async function tryWasm(want: KernelMode): Promise<string> {
  const folder = wasmBinaryFolder();
  if (!folder) throw new Error('tfjs wasm binaries not found (expected dist/wasm/ or node_modules/@tensorflow/tfjs-backend-wasm/dist/)');
  if (!wasmPathsSet) {
    setWasmPaths(folder.endsWith('/') ? folder : folder + '/');
    wasmPathsSet = true;
  }
  if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") failed');
  const mode = setKernelMode(want);
  if (mode === 'native') {
    const k = nativeKernels()!;
    return `native kernels (${k.info().kernel}, ${engineThreads()} of ${k.cores()} cores); binaries in ${folder}`;
  }
  const why = want === 'native' ? ` (native kernels unavailable: ${nativeLoadError()})` : '';
  return `${mode === 'wasm' ? 'fast XNNPACK kernels, 1 thread' : 'stock kernels, 1 thread'}${why}; binaries in ${folder}`;
}

/**
 * 'auto' first asks a child process which adapter there is (see probeWebGpuIsolated) and loads Dawn here
 * only for a hardware one; an explicit 'webgpu' (software adapters allowed) loads it directly.
 */
async function tryWebGpu(explicit: boolean): Promise<string> {
  if (!explicit && !tf.findBackend('webgpu')) {
    const adapter = await probeWebGpuIsolated();
    if (!adapter) throw new Error('no WebGPU adapter found (no Vulkan/Metal/D3D12 driver)');
    if (adapter.software) throw new Error(`only a software adapter (${adapterName(adapter)}), slower than wasm; ask for "webgpu" explicitly to use it`);
  }
  return initWebGpu({ allowSoftware: explicit });
}

async function tryCpu(): Promise<string> {
  if (!(await tf.setBackend('cpu'))) throw new Error('tf.setBackend("cpu") failed');
  return `plain JavaScript, tfjs-backend-cpu ${version_cpu} (slow)`;
}

/** Initialises the preferred backend (or walks the ladder for 'auto') and reports which one runs. */
export async function initBackend(pref: BackendPreference | string = 'auto', options: BackendOptions = {}): Promise<BackendInfo> {
  const resolved = resolvePreference(pref);
  const fastKernels = options.fastKernels ?? process.env.DAP_STOCK_KERNELS !== '1';
  const wantKernels: KernelMode = !fastKernels ? 'stock' : options.native === false ? 'wasm' : 'native';
  if (options.threads !== undefined) setEngineThreads(options.threads);
  const rungs = resolved === 'auto' ? LADDER : [resolved];
  const skipped: BackendInfo['skipped'] = [];
  for (const name of rungs) {
    try {
      let detail: string;
      if (name === 'tensorflow') detail = await tryTensorflow();
      else if (name === 'webgpu') detail = await tryWebGpu(resolved === 'webgpu');
      else if (name === 'wasm') detail = await tryWasm(wantKernels);
      else detail = await tryCpu();
      await tf.ready();
      const kernels = name === 'wasm' ? setKernelMode(wantKernels) : null;
      return { name, detail, skipped, threads: kernels === 'native' ? engineThreads() : 1, kernels };
    } catch (err) {
      const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
      if (resolved !== 'auto') throw new Error(`Backend "${name}" could not start: ${reason}. Use "auto" to pick the best available.`);
      skipped.push({ name, reason });
    }
  }
  throw new Error(`No tfjs backend could start: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
}

/** One line for logs and the status bar, e.g. "wasm (fast XNNPACK kernels; ...)". */
export function describeBackend(info: BackendInfo): string {
  return `${info.name} (${info.detail})`;
}
