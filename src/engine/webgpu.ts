/**
 * WebGPU backend for Node: Dawn from the `webgpu` npm package (prebuilt inside its tarball; optional
 * dependency) + @tensorflow/tfjs-backend-webgpu. Finds an adapter, refuses software rasterisers
 * (lavapipe / llvmpipe / SwiftShader) unless asked for explicitly (they are slower than wasm and only
 * prove correctness), registers the tfjs 'webgpu' backend on that adapter's device and activates it.
 * On webgpu, tensor reads must be async (`await t.data()`): dataSync() throws in Node.
 */
import * as tf from '@tensorflow/tfjs-core';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/** Options for initWebGpu. */
export interface WebGpuOptions {
  /** Accept a software adapter (lavapipe, llvmpipe, SwiftShader): only when webgpu was asked for explicitly. */
  allowSoftware: boolean;
}

/** What Dawn says about an adapter (GPUAdapterInfo fields we use). */
export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True for CPU (software) implementations. */
  software: boolean;
}

/** The few WebGPU objects used here, typed locally (no DOM / @webgpu/types in the engine's tsconfig). */
interface GpuAdapterLike {
  info?: Partial<Record<'vendor' | 'architecture' | 'device' | 'description', string>>;
  features: { has(name: string): boolean };
  limits: Record<string, number>;
  requestDevice(desc?: object): Promise<unknown>;
}
interface GpuLike {
  requestAdapter(opts?: object): Promise<GpuAdapterLike | null>;
}

const SOFTWARE_ADAPTER = /lavapipe|llvmpipe|swiftshader|software|\bcpu\b/i;

/** Keeps Dawn's GPU instance reachable for the life of the process (it owns the device). */
let gpuInstance: GpuLike | null = null;
let registeredAdapter: AdapterDescription | null = null;

/** Describes an adapter from its info; `software` is decided from the names. */
export function describeAdapter(info: GpuAdapterLike['info']): AdapterDescription {
  const d = {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
  };
  const all = `${d.vendor} ${d.architecture} ${d.device} ${d.description}`;
  return { ...d, software: SOFTWARE_ADAPTER.test(all) };
}

/** A readable adapter name, e.g. "nvidia: NVIDIA H100 80GB HBM3 (hopper)". */
export function adapterName(a: AdapterDescription): string {
  const main = a.description || a.device || a.architecture || 'unknown adapter';
  const arch = a.architecture && !main.includes(a.architecture) ? ` (${a.architecture})` : '';
  return `${a.vendor ? a.vendor + ': ' : ''}${main}${arch}`;
}

/** Loads Dawn and returns its navigator.gpu-like object (also installed on globalThis for tfjs). */
async function loadDawn(): Promise<GpuLike> {
  if (gpuInstance) return gpuInstance;
  let mod: { create(options: string[]): unknown; globals: object };
  try {
    mod = (await import('webgpu')) as unknown as typeof mod;
  } catch (err) {
    throw new Error(`the optional "webgpu" package (Dawn) is not loadable: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  // tfjs-backend-webgpu uses the WebGPU globals (GPUBufferUsage, GPUMapMode, ...) and navigator.gpu.
  Object.assign(globalThis, mod.globals);
  const gpu = mod.create([]) as GpuLike;
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  else if (!g.navigator.gpu) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
  gpuInstance = gpu;
  return gpu;
}

/** Finds the high-performance adapter and describes it, without starting a backend (null: no adapter). */
export async function probeWebGpu(): Promise<AdapterDescription | null> {
  const gpu = await loadDawn();
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  return adapter ? describeAdapter(adapter.info) : null;
}

/** The child process of {@link probeWebGpuIsolated}: prints the adapter's info as JSON (or null). */
const PROBE_SCRIPT = `
const gpu = require(process.argv[1]).create([]);
gpu.requestAdapter({ powerPreference: 'high-performance' }).then((a) => {
  const i = a && a.info;
  process.stdout.write(JSON.stringify(i ? { vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description } : null));
  process.exit(0);
}, (e) => { process.stderr.write(String(e)); process.exit(2); });`;

/**
 * Finds the high-performance adapter in a short child process, so that a machine whose only adapter is
 * refused (a software one) or that has none never loads Dawn into this process: Dawn prints driver
 * warnings on the process's stderr when it starts, noise for every CPU-only `auto` run. Rejects with
 * the reason when Dawn cannot load; resolves null when there is no adapter.
 */
export function probeWebGpuIsolated(timeoutMs = 30_000): Promise<AdapterDescription | null> {
  let entry: string;
  try {
    entry = createRequire(join(typeof __dirname !== 'undefined' ? __dirname : process.cwd(), 'noop.js')).resolve('webgpu');
  } catch {
    return Promise.reject(new Error('the optional "webgpu" package (Dawn) is not installed'));
  }
  return new Promise((resolve, reject) => {
    const env = { ...process.env, ELECTRON_RUN_AS_NODE: '1' };
    execFile(process.execPath, ['-e', PROBE_SCRIPT, entry], { env, timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) {
        const why = stderr.trim().split('\n').pop() || err.message.split('\n')[0];
        reject(new Error(`the WebGPU adapter probe failed: ${why}`));
        return;
      }
      try {
        const info = JSON.parse(stdout) as GpuAdapterLike['info'] | null;
        resolve(info ? describeAdapter(info) : null);
      } catch {
        reject(new Error(`the WebGPU adapter probe printed no adapter description: ${stdout.slice(0, 200)}`));
      }
    });
  });
}

/** Initialises the webgpu backend; returns the adapter description or throws why it cannot. */
export async function initWebGpu(options: WebGpuOptions): Promise<string> {
  if (registeredAdapter && tf.findBackend('webgpu')) {
    if (registeredAdapter.software && !options.allowSoftware) throw new Error(`only a software adapter: ${adapterName(registeredAdapter)}`);
    if (!(await tf.setBackend('webgpu'))) throw new Error('tf.setBackend("webgpu") failed');
    return `${adapterName(registeredAdapter)}${registeredAdapter.software ? ' [software]' : ''}`;
  }
  const gpu = await loadDawn();
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('no WebGPU adapter found (no Vulkan/Metal/D3D12 driver)');
  const desc = describeAdapter(adapter.info);
  if (desc.software && !options.allowSoftware) {
    throw new Error(`only a software adapter (${adapterName(desc)}), slower than wasm; ask for "webgpu" explicitly to use it`);
  }
  const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
  const limits = adapter.limits;
  const requiredFeatures = adapter.features.has('timestamp-query') ? ['timestamp-query'] : [];
  const device = await adapter.requestDevice({
    requiredFeatures,
    requiredLimits: {
      maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
      maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
    },
  });
  if (tf.findBackend('webgpu') || tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  // Priority 0: never picked implicitly; initBackend() chooses.
  const Backend = WebGPUBackend as unknown as new (device: unknown, info: unknown) => tf.KernelBackend;
  tf.registerBackend('webgpu', () => new Backend(device, adapter.info), 0);
  if (!(await tf.setBackend('webgpu'))) throw new Error('tf.setBackend("webgpu") failed');
  registeredAdapter = desc;
  return `${adapterName(desc)}${desc.software ? ' [software]' : ''}`;
}
