/**
 * The loss panel's host side: a webview panel showing one run (or several, compared) that replays the
 * run's events on every (re)load — from the live job's memory when this window trains it, else from
 * metrics.jsonl, tailing the file while another process (e.g. `dap train`) still writes it — and then
 * forwards every new event. Closing the panel never stops the run; a window reload restores the panel
 * through its serializer from the run folders the webview saved in its state.
 */
import * as vscode from 'vscode';
import { cpSync, existsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { LossHostToWebview, LossPanelRun, LossPanelState, LossWebviewToHost } from '../../../webview/protocol/loss';
import { assertUnreachable } from '../../core/assertUnreachable';
import type { TrainEvent } from '../../train/runs/events';
import { exportedMessage, exportSourcesOf, modelFolderOf } from '../../train/runs/exports';
import { readRunEvents, runPaths } from '../../train/runs/folder';
import { readRun } from '../../train/runs/listing';
import { MetricsTail } from '../../train/runs/tail';
import { writeFolderAtomic } from '../../core/atomicWrite';
import { PanelHost, type PanelKind } from '../panelHost';
import type { RunManager } from './runManager';

/** The loss panel: beside the editor, keeping the focus where it was; one panel per set of run folders. */
const LOSS_PANEL: PanelKind = { viewType: 'dapStudio.lossPanel', bundle: 'loss', show: { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, icon: true };

export class LossPanel extends PanelHost<LossHostToWebview, LossWebviewToHost> {
  private tails: MetricsTail[] = [];

  /** Shows the panel of these run folders (reusing an open one). */
  static show(context: vscode.ExtensionContext, manager: RunManager, runDirs: string[]): LossPanel {
    const existing = PanelHost.find<LossPanel>(LOSS_PANEL, runDirs.join('\n'));
    if (existing) {
      existing.reveal();
      return existing;
    }
    const title = runDirs.length === 1 ? `Loss: ${basename(runDirs[0])}` : `Compare ${runDirs.length} runs`;
    return new LossPanel(context, manager, PanelHost.createPanel(LOSS_PANEL, title, context.extensionUri), runDirs);
  }

  /** Registers the serializer that restores loss panels after a window reload from the webview's saved state. */
  static registerSerializer(context: vscode.ExtensionContext, manager: RunManager): vscode.Disposable {
    return PanelHost.serializer(LOSS_PANEL, (panel, state) => {
      const runDirs = ((state as Partial<LossPanelState> | undefined)?.runDirs ?? []).filter((d) => typeof d === 'string' && existsSync(d));
      if (runDirs.length === 0) return false;
      new LossPanel(context, manager, panel, runDirs);
      return true;
    });
  }

  private constructor(
    context: vscode.ExtensionContext,
    private readonly manager: RunManager,
    panel: vscode.WebviewPanel,
    private readonly runDirs: string[],
  ) {
    super(panel, LOSS_PANEL, runDirs.join('\n'), context.extensionUri, panel.title);
    this.disposables.push(
      manager.onEvent(({ job, event }) => {
        if (this.runDirs.includes(job.runDir)) this.post({ type: 'events', runId: job.runId, events: [event], replay: false });
      }),
      manager.onJobsChanged((job) => {
        if (this.runDirs.includes(job.runDir) && job.state === 'ended') this.post({ type: 'ended', runId: job.runId });
      }),
    );
  }

  private runIdOf(runDir: string): string {
    return basename(runDir);
  }

  /** Sends the runs and replays their events (on every webview load). */
  private replay(): void {
    for (const t of this.tails) t.dispose();
    this.tails = [];
    const runs: LossPanelRun[] = this.runDirs.map((runDir) => {
      const job = this.manager.job(this.runIdOf(runDir));
      return { runId: this.runIdOf(runDir), runDir, live: !!job && job.state !== 'ended' };
    });
    this.post({ type: 'runs', runs });
    for (const run of runs) {
      const job = this.manager.job(run.runId);
      if (job) {
        this.post({ type: 'events', runId: run.runId, events: job.events.slice(), replay: true });
        continue;
      }
      let events: TrainEvent[] = [];
      try {
        events = readRunEvents(run.runDir);
      } catch (e) {
        events = [{ type: 'failed', ts: new Date().toISOString(), error: (e as Error).message }];
      }
      this.post({ type: 'events', runId: run.runId, events, replay: true });
      const status = readRun(run.runDir, run.runId).status;
      const metrics = runPaths(run.runDir).metrics;
      if (status === 'running' && existsSync(metrics)) {
        this.tails.push(new MetricsTail(metrics, statSync(metrics).size, (evs) => this.post({ type: 'events', runId: run.runId, events: evs, replay: false })));
      }
    }
  }

  protected override async receive(m: LossWebviewToHost): Promise<void> {
    switch (m.type) {
      case 'ready':
        this.replay();
        break;
      case 'cancel':
        await this.manager.cancel(m.runId);
        break;
      case 'review': {
        const runDir = this.dirOf(m.runId);
        const data = runDir && readRun(runDir, m.runId).config?.data;
        await vscode.commands.executeCommand('dapStudio.review', typeof data === 'string' ? data : undefined, runDir);
        break;
      }
      case 'exportModel':
        await exportModel(this.dirOf(m.runId));
        break;
      case 'revealCheckpoint':
        await revealCheckpoint(this.dirOf(m.runId));
        break;
      case 'evaluate':
        await vscode.commands.executeCommand('dapStudio.evaluateRun', this.dirOf(m.runId));
        break;
      case 'nextRound':
        await vscode.commands.executeCommand('dapStudio.nextRound', this.dirOf(m.runId));
        break;
      default:
        assertUnreachable(m);
    }
  }

  private dirOf(runId: string): string | undefined {
    return this.runDirs.find((d) => this.runIdOf(d) === runId);
  }

  protected override onDispose(): void {
    for (const t of this.tails) t.dispose();
  }
}

/**
 * Copies the run's final model (else its newest checkpoint) into a folder the user picks. A LoRA run
 * offers a choice first: the merged model (default) or the PEFT adapter alone; a LoRA checkpoint exports
 * its adapter, and the message names the base model it needs.
 */
export async function exportModel(runDir: string | undefined): Promise<void> {
  if (!runDir) return;
  const run = readRun(runDir, basename(runDir));
  const sources = exportSourcesOf(run);
  if (sources.length === 0) {
    void vscode.window.showErrorMessage(`${run.runId}: no model or checkpoint folder to export yet.`);
    return;
  }
  let source = sources[0];
  if (sources.length > 1) {
    const items = sources.map((s) => ({ label: s.label, detail: s.detail, description: basename(s.folder), source: s }));
    const chosen = await vscode.window.showQuickPick(items, { title: `Export from ${run.runId}`, placeHolder: 'The merged model loads anywhere; the adapter needs its base model' });
    if (!chosen) return;
    source = chosen.source;
  }
  const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel: source.kind === 'adapter' ? 'Export adapter here' : 'Export model here' });
  if (!picked?.[0]) return;
  const target = join(picked[0].fsPath, source.exportName);
  if (existsSync(target)) {
    void vscode.window.showErrorMessage(`${target} already exists: choose another folder.`);
    return;
  }
  await writeFolderAtomic(target, (tmp) => cpSync(source.folder, tmp, { recursive: true })); // whole or not at all
  const pick = await vscode.window.showInformationMessage(exportedMessage(run.runId, source, target), 'Reveal');
  if (pick === 'Reveal') await revealPath(target);
}

/** Shows the run's model or newest checkpoint folder (else the run folder) in the OS file manager. */
export async function revealCheckpoint(runDir: string | undefined): Promise<void> {
  if (!runDir) return;
  const folder = modelFolderOf(readRun(runDir, basename(runDir))) ?? runDir;
  await revealPath(folder);
}

async function revealPath(path: string): Promise<void> {
  const uri = vscode.Uri.file(path);
  try {
    await vscode.commands.executeCommand('revealFileInOS', uri);
  } catch {
    await vscode.commands.executeCommand('revealInExplorer', uri);
  }
}
