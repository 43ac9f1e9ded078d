/**
 * Registers training in VS Code: "DAP: Train DPO on This Data" (one click, asks nothing), "DAP: Train…"
 * (quick picks, remembered per workspace), cancel, the loss panel (+ its serializer for window reloads),
 * and the runs view with its context menu (open panel, compare runs, reveal checkpoint, export, delete).
 * Training is refused in untrusted workspaces: it loads model files and runs a worker process.
 */
import * as vscode from 'vscode';
import { existsSync, rmSync } from 'node:fs';
import { basename } from 'node:path';
import { exportModel, LossPanel, revealCheckpoint } from './lossPanel';
import { RunManager } from './runManager';
import { RunItem, RunsTreeProvider } from './runsTree';
import { askChoices, buildConfig } from './trainSettings';
import { dataFileOf, runDirsOf } from './commandArgs';
import { registerLoop } from '../loop/register';
import { nothingToTrainOn } from './trainInputs';
import { offerGitignore } from './gitignore';
import { checkTrainingEnvironment, pinExecutor } from './pythonEnv';
import { parquetCacheDir } from '../annotator/settings';
import { isParquetPath } from '../../core/parquet';

const UNTRUSTED =
  'DAP Studio: training is disabled in untrusted workspaces (it loads model files and runs a training process). Trust this workspace to train.';

export function registerTraining(context: vscode.ExtensionContext): void {
  const manager = new RunManager(context);
  const tree = new RunsTreeProvider(manager);
  const view = vscode.window.createTreeView('dapStudio.runs', { treeDataProvider: tree, canSelectMany: true, showCollapseAll: true });

  async function train(arg: unknown, ask: boolean): Promise<void> {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showErrorMessage(UNTRUSTED);
      return;
    }
    const file = await dataFileOf(arg, 'Train on this data', ['jsonl', 'parquet']); // a .parquet task file trains on its import
    if (!file) return;
    const choices = ask ? await askChoices(context.workspaceState) : undefined;
    if (ask && !choices) return;
    let config;
    try {
      config = await buildConfig(file, parquetCacheDir(context), choices);
      // The executor is decided here (torch refused with what is missing; a run that will not fit refused), before any run folder.
      config = { ...config, ...(await pinExecutor(config)).config };
    } catch (e) {
      void vscode.window.showErrorMessage(`DAP Studio: cannot train on ${basename(file)}: ${(e as Error).message}`);
      return;
    }
    // Nothing to learn from (an empty file, a task file nobody has judged): say so, start no run.
    const nothing = await nothingToTrainOn(config.data, config.log).catch(() => undefined);
    if (nothing) {
      const annotate = 'Annotate';
      const answer = await vscode.window.showInformationMessage(`DAP Studio: ${nothing}`, annotate);
      if (answer === annotate) await vscode.commands.executeCommand('dapStudio.annotate', vscode.Uri.file(isParquetPath(file) ? file : config.data)); // a .parquet itself, not its import
      return;
    }
    const job = await manager.start(config);
    if (job) {
      LossPanel.show(context, manager, [job.runDir]);
      void offerGitignore(context, config.out);
    }
  }

  context.subscriptions.push(
    manager,
    tree,
    view,
    vscode.commands.registerCommand('dapStudio.trainDpo', (arg?: unknown) => train(arg, false)),
    vscode.commands.registerCommand('dapStudio.train', (arg?: unknown) => train(arg, true)),
    vscode.commands.registerCommand('dapStudio.cancelTraining', async (arg?: unknown) => {
      const dirs = runDirsOf(arg);
      const live = manager.liveJobs();
      let runId = dirs[0] ? basename(dirs[0]) : undefined;
      if (!runId) {
        if (live.length === 0) {
          void vscode.window.showInformationMessage('DAP Studio: no training run is going in this window.');
          return;
        }
        runId = live.length === 1 ? live[0].runId : (await vscode.window.showQuickPick(live.map((j) => j.runId), { title: 'Cancel which run?' }));
      }
      if (runId) await manager.cancel(runId);
    }),
    vscode.commands.registerCommand('dapStudio.openRunPanel', (arg?: unknown, selection?: unknown) => {
      const dirs = runDirsOf(arg, selection);
      const run = dirs.length ? dirs : view.selection.filter((i): i is RunItem => i instanceof RunItem).map((i) => i.run.runDir);
      if (run.length) LossPanel.show(context, manager, run.slice(0, 1));
    }),
    vscode.commands.registerCommand('dapStudio.compareRuns', (arg?: unknown, selection?: unknown) => {
      const dirs = runDirsOf(arg, selection);
      const chosen = dirs.length > 1 ? dirs : view.selection.filter((i): i is RunItem => i instanceof RunItem).map((i) => i.run.runDir);
      if (chosen.length < 2) {
        void vscode.window.showInformationMessage('DAP Studio: select two or more runs in the Runs view (Ctrl/Cmd+click), then Compare Runs.');
        return;
      }
      LossPanel.show(context, manager, chosen);
    }),
    vscode.commands.registerCommand('dapStudio.revealCheckpoint', (arg?: unknown) => revealCheckpoint(runDirsOf(arg)[0])),
    vscode.commands.registerCommand('dapStudio.exportModel', (arg?: unknown) => exportModel(runDirsOf(arg)[0])),
    vscode.commands.registerCommand('dapStudio.refreshRuns', () => tree.refresh()),
    vscode.commands.registerCommand('dapStudio.checkTrainingEnvironment', () => {
      if (!vscode.workspace.isTrusted) {
        void vscode.window.showErrorMessage(UNTRUSTED);
        return;
      }
      return checkTrainingEnvironment(manager.output);
    }),
    vscode.commands.registerCommand('dapStudio.deleteRun', async (arg?: unknown, selection?: unknown) => {
      const dirs = runDirsOf(arg, selection).filter((d) => existsSync(d));
      if (dirs.length === 0) return;
      const busy = dirs.filter((d) => manager.job(basename(d))?.state !== undefined && manager.job(basename(d))?.state !== 'ended');
      if (busy.length) {
        void vscode.window.showErrorMessage(`DAP Studio: ${busy.map((d) => basename(d)).join(', ')} is still training: cancel it first.`);
        return;
      }
      const names = dirs.map((d) => basename(d)).join(', ');
      const ok = await vscode.window.showWarningMessage(`Delete ${dirs.length === 1 ? 'run' : `${dirs.length} runs`} ${names}? Its checkpoints and metrics are removed from disk.`, { modal: true }, 'Delete');
      if (ok !== 'Delete') return;
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
      tree.refresh();
    }),
    LossPanel.registerSerializer(context, manager),
    ...registerLoop(context, manager, tree, view),
    vscode.workspace.onDidGrantWorkspaceTrust(() => tree.refresh()),
  );
}
