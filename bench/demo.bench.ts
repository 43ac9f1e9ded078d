/**
 * The embedded demo's numbers (src/train/loop/demo.ts, what `npm run demo` prints), measured: SFT of the
 * shipped pretrained built-in model on every response of the demo data (noisy demonstrations) → 4 sampled
 * candidates per training prompt → verifier judge → DPO (rpoAlpha 1) from the SFT model → greedy answers of
 * both on the held-out prompts, judged blind by the verifier. Reports the held-out win rate of DPO over SFT with its 95% Wilson interval, held-out
 * accuracy before/after, the candidates' accuracy and each step's seconds (target: the interval above 50%,
 * all in under 5 minutes on a 2-core machine). Deterministic for a seed; one run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../src/engine/backend';
import { runDemo } from '../src/train/loop/demo';

const r3 = (x: number) => Math.round(x * 1000) / 1000;

export async function run(): Promise<Record<string, unknown>> {
  const backend = (await initBackend('auto')).name;
  const out = mkdtempSync(join(tmpdir(), 'dap-bench-demo-'));
  try {
    const r = await runDemo({ out, backend: 'auto', seed: 0, onStage: (line) => process.stderr.write(`  demo: ${line}\n`) });
    const w = r.comparison.overall;
    return {
      backend,
      heldOutPrompts: r.comparison.items,
      winRateDpoOverSft: { rate: r3(w.rate), low95: r3(w.low), high95: r3(w.high), wins: w.wins, losses: w.losses, ties: w.ties, bothBad: w.bothBad },
      intervalAbove50: w.low > 0.5,
      heldOutAccuracy: { sft: r.heldOutAccuracy.sft, dpo: r.heldOutAccuracy.dpo },
      rounds: r.rounds.map((x) => ({ candidates: x.candidates, accuracy: r3(x.candidateAccuracy.rate), dpoPairs: x.pairs })),
      seconds: Object.fromEntries(Object.entries(r.seconds).map(([k, v]) => [k, Math.round(v)])),
      under5Minutes: r.seconds.total < 300,
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
