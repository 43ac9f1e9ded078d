/**
 * Engine training throughput: forward + backward + SGD update of the real GPT-2 model (random weights)
 * in tokens/s and achieved GFLOP/s (FLOP count: see bench/training.ts), for the built-in model's shape
 * and GPT-2 small, on every backend that starts here: wasm with the native kernels (every core), with the
 * XNNPACK kernels (the fallback) and stock wasm (kernels not overridden) in the same run, webgpu/tensorflow when they start (auto rules: no software
 * adapters), cpu for the tiny model only. Also measures a plain matrix-multiply ceiling in the same run
 * (numpy/BLAS when python3 has it, and the wasm XNNPACK 2-D 1024² product) and the ratios to it.
 * Env: DAP_BENCH_QUICK=1 runs fewer steps; DAP_BENCH_MODELS=tiny,gpt2-small picks models.
 */
import { spawnSync } from 'node:child_process';
import { initBackend } from '../src/engine/backend';
import { kernelMode, setKernelMode, type KernelMode } from '../src/engine/kernels/index';
import { GPT2_SMALL, TINY, matmulGflops, matmulParams, round, timeTraining, type BenchShape } from './training';

const quick = process.env.DAP_BENCH_QUICK === '1';

function log(msg: string): void {
  process.stderr.write(`  engine: ${msg}\n`);
}

/** numpy (BLAS) GFLOP/s on a 1024² float32 product, or null when python3/numpy are missing. */
function numpyMatmulCeiling(): number | null {
  const script = [
    'import numpy as np, time',
    'n=1024; a=np.random.rand(n,n).astype(np.float32); b=np.random.rand(n,n).astype(np.float32); a@b',
    't=time.perf_counter(); r=10',
    'for _ in range(r): a@b',
    'print(2*n**3/((time.perf_counter()-t)/r)/1e9)',
  ].join('\n');
  const res = spawnSync('python3', ['-c', script], { encoding: 'utf8', timeout: 60_000 });
  const v = Number.parseFloat(res.stdout ?? '');
  return res.status === 0 && Number.isFinite(v) ? v : null;
}

/** Steps timed after the warm-up, per shape and variant (slow variants get one). */
function stepsFor(shape: BenchShape, label: string): number {
  if (label === 'cpu') return 1;
  if (shape.name === 'tiny') return quick ? 2 : 5;
  return label === 'wasm' && !quick ? 2 : 1;
}

export async function run(): Promise<Record<string, unknown>> {
  const wanted = (process.env.DAP_BENCH_MODELS ?? 'tiny,gpt2-small').split(',');
  const shapes = [TINY, GPT2_SMALL].filter((s) => wanted.includes(s.name));
  log('matmul ceiling ...');
  await initBackend('wasm');
  const nativeCeiling = kernelMode() === 'native' ? await matmulGflops(1024, 5) : null;
  setKernelMode('wasm');
  const wasmCeiling = await matmulGflops(1024, 5);
  const numpyCeiling = numpyMatmulCeiling();
  const ceiling = numpyCeiling ?? wasmCeiling;
  const out: Record<string, unknown> = {
    flopsFormula: '6*P_matmul*B*T + 12*L*B*T^2*D per step (forward+backward); P_matmul = 12*L*D^2 + V*D',
    ceiling: { numpy1024GFlops: numpyCeiling === null ? null : round(numpyCeiling, 1), wasmXnnpack1024GFlops: round(wasmCeiling, 1),
      native1024GFlops: nativeCeiling === null ? null : round(nativeCeiling, 1), pctOfCeilingUses: numpyCeiling === null ? 'wasm' : 'numpy' },
  };
  const backends: string[] = ['wasm'];
  for (const extra of ['webgpu', 'tensorflow'] as const) {
    try {
      // Same rules as 'auto': a software WebGPU adapter is not a backend worth timing.
      const info = await initBackend('auto');
      if (info.name === extra) backends.push(extra);
      else out[`${extra}Skipped`] = info.skipped.find((s) => s.name === extra)?.reason ?? 'not chosen';
    } catch (err) {
      out[`${extra}Skipped`] = err instanceof Error ? err.message : String(err);
    }
  }
  backends.push('cpu');
  for (const shape of shapes) {
    const entry: Record<string, unknown> = { shape, matmulParams: matmulParams(shape) };
    for (const backend of backends) {
      if (backend === 'cpu' && shape.name !== 'tiny') continue; // minutes per step: not informative
      const variants: [string, KernelMode | null][] = backend === 'wasm' ? [['wasmNative', 'native'], ['wasm', 'wasm'], ['wasmStock', 'stock']] : [[backend, null]];
      for (const [label, mode] of variants) {
        await initBackend(backend);
        if (mode) setKernelMode(mode);
        if (mode === 'native' && kernelMode() !== 'native') continue; // no native kernels on this platform
        const steps = stepsFor(shape, label);
        log(`${shape.name} on ${label} (${steps} step(s) after a warm-up) ...`);
        try {
          const r = await timeTraining(shape, steps);
          entry[label] = {
            tokensPerSec: round(r.tokensPerSec, 1), gflops: round(r.gflops, 2), stepMs: round(r.stepMs, 0), steps,
            pctOfCeiling: round((100 * r.gflops) / ceiling, 2), firstLoss: round(r.firstLoss, 5), lastLoss: round(r.lastLoss, 5),
          };
          log(`${shape.name} on ${label}: ${round(r.tokensPerSec, 1)} tokens/s, ${round(r.gflops, 2)} GFLOP/s`);
        } catch (err) {
          entry[label] = { error: err instanceof Error ? err.message.split('\n')[0] : String(err) };
          log(`${shape.name} on ${label} failed: ${String(err)}`);
        }
      }
    }
    const nativeR = entry.wasmNative as { tokensPerSec?: number } | undefined;
    const fastR = entry.wasm as { tokensPerSec?: number } | undefined;
    const stockR = entry.wasmStock as { tokensPerSec?: number } | undefined;
    if (fastR?.tokensPerSec && stockR?.tokensPerSec) entry.speedupFastVsStockWasm = round(fastR.tokensPerSec / stockR.tokensPerSec, 2);
    if (nativeR?.tokensPerSec && fastR?.tokensPerSec) entry.speedupNativeVsXnnpack = round(nativeR.tokensPerSec / fastR.tokensPerSec, 2);
    out[shape.name] = entry;
  }
  await initBackend('wasm');
  return out;
}
