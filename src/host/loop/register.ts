/**
 * Closing the loop in VS Code (src/loop does the work; generation runs in the worker process):
 * - *DAP: Generate Responses…* on a prompts or task file: one model (K responses to rank) or two (a blind
 *   comparison), then the result opens in the annotator;
 * - *Evaluate against the starting model* (loss panel, Runs view) and *Compare Outputs* of two selected
 *   runs: greedy answers on the held-out prompts as a blind comparison, opened in the annotator;
 * - *Next Round* on a finished run: K candidates of its model on the training prompts, opened for ranking
 *   or picking, with *Judge with the Verifier* and *Train Next Round* (from the run's model);
 * - *DAP: Judge with the Verifier* on a task file.
 * Generation runs on the tfjs engine, or on the torch executor when `dapStudio.train.executor` is `torch`
 * (with `dapStudio.python`'s interpreter). Everything that loads a model is refused in untrusted workspaces.
 */
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { defaultLogPath, taskStem } from '../../core/project';
import type { GenerateJob, GenerateJobResult } from '../../train/loop/generateJob';
import { judgeWithVerifier } from '../../train/loop/judge';
import { isRunFolder, runIdOf } from '../../train/loop/modelSpec';
import { candidatesPath, nextRoundConfig, runConfig } from '../../train/loop/rounds';
import { generateInWorker } from '../../train/worker/generationJob';
import { runPaths } from '../../train/runs/folder';
import { dataFileOf, runDirsOf } from '../training/commandArgs';
import { LossPanel } from '../training/lossPanel';
import { pythonInterpreter } from '../training/pythonEnv';
import type { RunManager } from '../training/runManager';
import { RunItem, type RunsTreeProvider } from '../training/runsTree';

const UNTRUSTED = 'DAP Studio: generating responses is disabled in untrusted workspaces (it loads model files and runs a worker process). Trust this workspace first.';

/** Runs a generation job in the worker with a cancellable progress notification. */
async function runJob(context: vscode.ExtensionContext, title: string, job: GenerateJob): Promise<GenerateJobResult | undefined> {
  const settings = vscode.workspace.getConfiguration('dapStudio');
  const backend = settings.get<string>('train.backend') ?? 'auto';
  // The torch executor generates only when it is asked for by name (auto stays on the embedded tfjs engine).
  const torch = settings.get<string>('train.executor') === 'torch' ? { python: (await pythonInterpreter()).python, device: 'auto' } : undefined;
  try {
    return await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      let last = 0;
      return generateInWorker({
        workerPath: join(context.extensionPath, 'dist', 'worker.js'), job, backend, torch, signal: abort.signal,
        onProgress: (p) => {
          const pct = (100 * p.done) / Math.max(1, p.total);
          progress.report({ increment: pct - last, message: `${p.done}/${p.total} prompts, ETA ${Math.round(p.etaSeconds)} s` });
          last = pct;
        },
      });
    });
  } catch (e) {
    void vscode.window.showErrorMessage(`DAP Studio: ${title} failed: ${(e as Error).message}`);
    return undefined;
  }
}

/** Opens a generated task file in the annotator. */
async function openInAnnotator(file: string): Promise<void> {
  await vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(file), 'dapStudio.annotator');
}

function trusted(): boolean {
  if (!vscode.workspace.isTrusted) void vscode.window.showErrorMessage(UNTRUSTED);
  return vscode.workspace.isTrusted;
}

/** Quick pick of a model: the built-in model, a finished run, or a model folder. */
async function pickModel(tree: RunsTreeProvider, title: string, extra: vscode.QuickPickItem[] = []): Promise<string | undefined> {
  const runs = (await tree.getChildren()).filter((i): i is RunItem => i instanceof RunItem && i.run.status === 'finished');
  type Item = vscode.QuickPickItem & { value: string };
  const items: Item[] = [
    ...extra.map((e) => ({ ...e, value: '' })),
    { label: 'Built-in model', description: 'the shipped pretrained model', value: 'builtin' },
    ...runs.map((r) => ({ label: r.run.runId, description: 'finished run', value: r.run.runDir })),
    { label: 'Model folder…', description: 'a Hugging Face folder (safetensors)', value: '?folder' },
  ];
  const pick = await vscode.window.showQuickPick(items, { title });
  if (!pick) return undefined;
  if (pick.value !== '?folder') return pick.value;
  const folder = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Use this model' });
  return folder?.[0]?.fsPath;
}

async function askNumber(title: string, value: string, check: (n: number) => boolean, hint: string): Promise<number | undefined> {
  const text = await vscode.window.showInputBox({ title, value, validateInput: (t) => (check(Number(t)) && t.trim() !== '' ? undefined : hint) });
  return text === undefined ? undefined : Number(text);
}

/** The finished run a command acts on (argument, selection), or an error message. */
function finishedRun(arg: unknown, view: vscode.TreeView<vscode.TreeItem>): string | undefined {
  const dir = runDirsOf(arg)[0] ?? view.selection.filter((i): i is RunItem => i instanceof RunItem).map((i) => i.run.runDir)[0];
  if (!dir || !isRunFolder(dir) || !existsSync(join(runPaths(dir).finalModel, 'config.json'))) {
    void vscode.window.showErrorMessage('DAP Studio: pick a finished run (one with a final model) in the Runs view.');
    return undefined;
  }
  return dir;
}

/** Registers the commands; returns their disposables. */
export function registerLoop(context: vscode.ExtensionContext, manager: RunManager, tree: RunsTreeProvider, view: vscode.TreeView<vscode.TreeItem>): vscode.Disposable[] {
  const generate = async (arg?: unknown) => {
    if (!trusted()) return;
    const prompts = await dataFileOf(arg, 'Generate responses to these prompts');
    if (!prompts) return;
    const a = await pickModel(tree, 'Generate with which model?');
    if (!a) return;
    const b = await pickModel(tree, 'Compare with a second model (a blind comparison)?', [{ label: 'No second model', description: 'several responses of one model, to rank or pick from' }]);
    if (b === undefined) return;
    const models = b ? [a, b] : [a];
    const n = await askNumber(b ? 'Pairs per prompt' : 'Responses per prompt', b ? '1' : '4', (x) => Number.isInteger(x) && x >= (b ? 1 : 2), b ? 'a positive integer' : 'an integer ≥ 2');
    if (n === undefined) return;
    const temperature = await askNumber('Sampling temperature (0 = greedy)', b ? '0' : '1', (x) => Number.isFinite(x) && x >= 0, 'a number ≥ 0');
    if (temperature === undefined) return;
    const out = join(dirname(prompts), `${taskStem(prompts)}.${b ? 'compare' : 'generated'}.tasks.jsonl`);
    const r = await runJob(context, `Generating ${basename(out)}`, { kind: 'tasks', request: { models, prompts, out, n, temperature, topP: 1, maxNewTokens: 64, seed: 0, batchSize: 16 } });
    if (r) await finishGeneration(r);
  };

  const finishGeneration = async (r: GenerateJobResult) => {
    for (const issue of r.issues.slice(0, 3)) void vscode.window.showWarningMessage(`DAP Studio: ${issue}`);
    await openInAnnotator(r.out);
    if (r.stopped) void vscode.window.showInformationMessage(`DAP Studio: stopped after ${r.written} new items; run it again to continue ${basename(r.out)}.`);
  };

  const evaluate = async (arg?: unknown) => {
    if (!trusted()) return;
    const run = finishedRun(arg, view);
    if (!run) return;
    const r = await runJob(context, `Evaluating ${runIdOf(run)} against its starting model`, { kind: 'evaluate', runDir: run });
    if (r) await finishGeneration(r);
  };

  const compareOutputs = async (arg?: unknown, selection?: unknown) => {
    if (!trusted()) return;
    const dirs = runDirsOf(arg, selection);
    const chosen = dirs.length === 2 ? dirs : view.selection.filter((i): i is RunItem => i instanceof RunItem).map((i) => i.run.runDir);
    if (chosen.length !== 2) {
      void vscode.window.showInformationMessage('DAP Studio: select exactly two finished runs in the Runs view (Ctrl/Cmd+click), then Compare Outputs.');
      return;
    }
    const r = await runJob(context, `Comparing the outputs of ${chosen.map((d) => basename(d)).join(' and ')}`, { kind: 'compareRuns', runA: chosen[0], runB: chosen[1] });
    if (r) await finishGeneration(r);
  };

  const nextRound = async (arg?: unknown) => {
    if (!trusted()) return;
    const run = finishedRun(arg, view);
    if (!run) return;
    const k = await askNumber('Candidates per training prompt', '4', (x) => Number.isInteger(x) && x >= 2, 'an integer ≥ 2');
    if (k === undefined) return;
    const r = await runJob(context, `Next round: ${k} candidates per prompt from ${runIdOf(run)}`, { kind: 'candidates', runDir: run, k });
    if (!r) return;
    await finishGeneration(r);
    const pick = await vscode.window.showInformationMessage(
      `DAP Studio: rank or pick the candidates of ${runIdOf(run)} (${r.written + r.skipped} items), or let the verifier judge them; then train the next round.`,
      'Judge with the Verifier', 'Train Next Round');
    if (pick === 'Judge with the Verifier') await judge(vscode.Uri.file(r.out));
    if (pick === 'Train Next Round') await trainNextRound(run);
  };

  const judge = async (arg?: unknown) => {
    const file = await dataFileOf(arg, 'Judge these items');
    if (!file) return;
    try {
      const r = await judgeWithVerifier(file);
      void vscode.window.showInformationMessage(`DAP Studio: the verifier judged ${r.written} items of ${basename(file)} (${r.already} before, ${r.unverifiable} not verifiable).`);
    } catch (e) {
      void vscode.window.showErrorMessage(`DAP Studio: cannot judge ${basename(file)}: ${(e as Error).message}`);
    }
  };

  const trainNextRound = async (arg?: unknown) => {
    if (!trusted()) return;
    const run = finishedRun(arg, view);
    if (!run) return;
    const candidates = candidatesPath(run);
    const log = defaultLogPath(candidates);
    if (!existsSync(candidates) || !existsSync(log)) {
      void vscode.window.showErrorMessage(`DAP Studio: ${runIdOf(run)} has no judged candidates yet: run Next Round, then rank or pick some candidates (or Judge with the Verifier).`);
      return;
    }
    let config;
    try {
      config = nextRoundConfig(run, { method: runConfig(run).method === 'sft' ? 'dpo' : runConfig(run).method });
    } catch (e) {
      void vscode.window.showErrorMessage(`DAP Studio: cannot train the next round of ${runIdOf(run)}: ${(e as Error).message}`);
      return;
    }
    const job = await manager.start(config);
    if (job) LossPanel.show(context, manager, [job.runDir]);
    tree.refresh();
  };

  return [
    vscode.commands.registerCommand('dapStudio.generate', generate),
    vscode.commands.registerCommand('dapStudio.evaluateRun', evaluate),
    vscode.commands.registerCommand('dapStudio.compareRunOutputs', compareOutputs),
    vscode.commands.registerCommand('dapStudio.nextRound', nextRound),
    vscode.commands.registerCommand('dapStudio.trainNextRound', trainNextRound),
    vscode.commands.registerCommand('dapStudio.judgeWithVerifier', judge),
  ];
}
