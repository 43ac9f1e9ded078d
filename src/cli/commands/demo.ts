/**
 * `dap demo` (npm run demo): alignment working end to end on the shipped sample data with the shipped
 * pretrained built-in model — SFT → generate candidates → verifier judge → DPO → held-out blind
 * evaluation (src/loop/demo.ts) — printing the held-out win rate of the DPO model over the SFT model with
 * its 95% interval and the held-out accuracy before and after. Results also go to DPO_RUN/demo.json.
 */
import { writeFileAtomicSync } from '../../core/atomicWrite';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TrainConfig } from '../../train/config';
import type { TrainEvent } from '../../train/runs/trainEvents';
import { eventPrinter } from '../progress';
import { DEMO_ROUNDS, demoSummary, runDemo } from '../../train/loop/demo';
import { backendFlag, integerFlag, parseCommandArgs, UsageError, type Command } from '../command';

const usage = `Usage: dap demo [--out DIR] [--backend B] [--seed S] [--k K] [--rounds R] [--quick]

Shows alignment working on the sample arithmetic/string data with the built-in model: SFT on every
response (right or wrong), K sampled candidates per training prompt, judged by the verifier, DPO from the SFT
model on those judgments, then greedy answers of both models on the held-out prompts compared blind.
Prints the held-out win rate of DPO over SFT with its 95% interval and the held-out accuracy of each.
  --out DIR     where runs/RUN_ID folders are written (default: the system temp folder)
  --backend B   auto|tensorflow|webgpu|wasm|cpu (default auto)
  --seed S      seed (default 0)
  --k K         candidates per training prompt (default 4)
  --rounds R    preference rounds: generate → judge → DPO from the previous round's model (default ${DEMO_ROUNDS})
  --quick       two steps per training stage, short answers (for tests, not for the numbers)`;

async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, { out: { type: 'string' }, backend: { type: 'string' }, seed: { type: 'string' }, k: { type: 'string' }, rounds: { type: 'string' }, quick: { type: 'boolean' } });
  const out = resolve(values.out ?? join(tmpdir(), 'dap-demo'));
  const k = integerFlag('k', values.k, 4), rounds = integerFlag('rounds', values.rounds, DEMO_ROUNDS);
  if (k < 2) throw new UsageError(`--k: at least 2 candidates per prompt are needed to compare, got ${k}`);
  if (rounds < 1) throw new UsageError(`--rounds: at least 1, got ${rounds}`);
  const tty = process.stdout.isTTY === true;
  const print = eventPrinter(process.stdout, tty ? 'tty' : 'plain');
  const onEvent = (e: TrainEvent) => {
    if (e.type === 'step' && !tty && e.step % Math.max(1, Math.floor(e.totalSteps / 5)) !== 0 && e.step !== e.totalSteps) return;
    if (e.type === 'log' && e.level === 'info') return;
    print(e);
  };
  process.stdout.write('DAP Studio demo: SFT → generate → judge → DPO → held-out evaluation\n');
  const result = await runDemo({
    out, backend: (backendFlag(values.backend) ?? 'auto') as TrainConfig['backend'], seed: integerFlag('seed', values.seed, 0), k, rounds,
    quick: values.quick === true, onEvent,
    onStage: (line) => process.stdout.write(`\n== ${line}\n`),
    onGenerate: (what, p) => {
      if (tty || p.done === p.total) process.stdout.write(`${tty ? '\r' : ''}${what}: ${p.done}/${p.total} prompts, ${Math.round(p.seconds)} s${tty && p.done < p.total ? '' : '\n'}`);
    },
  });
  process.stdout.write(`\n${demoSummary(result).join('\n')}\n`);
  writeFileAtomicSync(join(result.dpoRun, 'demo.json'), JSON.stringify(result, null, 2) + '\n');
  return 0;
}

export const command: Command = { name: 'demo', summary: 'SFT → generate → judge → DPO on the sample data; prints the held-out win rate of DPO over SFT', usage, run };
