/**
 * GPU benchmark program (run by scripts/gpu-bench.sh, bundled into .gpu/bundle by
 * scripts/prepare-gpu-carry.sh so it runs without node_modules): training tokens/s and GFLOP/s of the
 * GPT-2-small shape on webgpu next to wasm (fast kernels), a webgpu matmul ceiling, and the adapter
 * found. Prints ONE JSON object to stdout; progress to stderr. Not a *.bench.ts: `npm run bench` skips it.
 * Env: DAP_GPU_BENCH_STEPS (default 3) timed webgpu steps; DAP_GPU_BENCH_WASM=0 skips the wasm baseline;
 * DAP_GPU_BENCH_MODELS=tiny (smoke test) limits the shapes (default tiny,gpt2-small).
 */
import os from 'node:os';
import { initBackend } from '../src/engine/backend';
import { probeWebGpu, adapterName } from '../src/engine/webgpu';
import { GPT2_SMALL, TINY, matmulGflops, round, timeTraining, stepFlops } from './training';

function log(msg: string): void {
  process.stderr.write(`gpu-bench: ${msg}\n`);
}

async function main(): Promise<void> {
  const steps = Number(process.env.DAP_GPU_BENCH_STEPS ?? 3);
  const out: Record<string, unknown> = {
    machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, date: new Date().toISOString() },
    vulkan: { VK_DRIVER_FILES: process.env.VK_DRIVER_FILES ?? null, LD_LIBRARY_PATH: process.env.LD_LIBRARY_PATH ?? null },
    shapes: [TINY, GPT2_SMALL].map((x) => ({ ...x, flopsPerStep: stepFlops(x) })),
  };
  let webgpuOk = false;
  try {
    const adapter = await probeWebGpu();
    out.adapter = adapter ? { name: adapterName(adapter), ...adapter } : null;
    if (!adapter) throw new Error('no WebGPU adapter (Vulkan loader or ICD missing?)');
    const info = await initBackend('webgpu'); // explicit: reports a software adapter instead of refusing it
    out.webgpuBackend = info.detail;
    webgpuOk = true;
  } catch (err) {
    out.webgpuError = err instanceof Error ? err.message : String(err);
    log(`webgpu unavailable: ${out.webgpuError}`);
  }
  if (webgpuOk) {
    log('webgpu matmul ceiling ...');
    const small = await matmulGflops(1024, 3);
    out.webgpuMatmul1024GFlops = round(small, 1);
    // 4096² only where it takes well under a second (a real GPU, not a software rasteriser).
    if (small > 200) out.webgpuMatmul4096GFlops = round(await matmulGflops(4096, 5), 1);
    const wanted = (process.env.DAP_GPU_BENCH_MODELS ?? 'tiny,gpt2-small').split(',');
    for (const shape of [TINY, GPT2_SMALL].filter((x) => wanted.includes(x.name))) {
      log(`webgpu ${shape.name} training (${steps} steps after a warm-up) ...`);
      try {
        const r = await timeTraining(shape, steps);
        out[`webgpu_${shape.name}`] = { tokensPerSec: round(r.tokensPerSec, 1), gflops: round(r.gflops, 2), stepMs: round(r.stepMs, 0), firstLoss: round(r.firstLoss, 5), lastLoss: round(r.lastLoss, 5) };
        log(`webgpu ${shape.name}: ${round(r.tokensPerSec, 1)} tokens/s`);
      } catch (err) {
        out[`webgpu_${shape.name}`] = { error: err instanceof Error ? err.message.split('\n')[0] : String(err) };
      }
    }
  }
  const wasmShape = (process.env.DAP_GPU_BENCH_MODELS ?? 'gpt2-small').includes('gpt2-small') ? GPT2_SMALL : TINY;
  if (process.env.DAP_GPU_BENCH_WASM !== '0') {
    await initBackend('wasm');
    log('wasm matmul ceiling (1024²) ...');
    out.wasmMatmul1024GFlops = round(await matmulGflops(1024, 5), 1);
    log(`wasm ${wasmShape.name} training (1 step after a warm-up) ...`);
    const r = await timeTraining(wasmShape, 1);
    out[`wasm_${wasmShape.name}`] = { tokensPerSec: round(r.tokensPerSec, 1), gflops: round(r.gflops, 2), stepMs: round(r.stepMs, 0), firstLoss: round(r.firstLoss, 5) };
    const g = out[`webgpu_${wasmShape.name}`] as { tokensPerSec?: number } | undefined;
    if (g?.tokensPerSec) out.speedupWebgpuVsWasm = round(g.tokensPerSec / r.tokensPerSec, 2);
  }
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  // Dawn keeps native threads alive; do not wait for them.
  process.exit(0);
}

main().catch((err) => {
  process.stdout.write(JSON.stringify({ error: err instanceof Error ? err.stack : String(err) }) + '\n');
  process.exit(1);
});
