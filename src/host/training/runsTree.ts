/**
 * The "Runs" tree view (`dapStudio.runs` in the DAP Studio activity-bar container): one item per run
 * folder under the runs directory, newest first, with its status from metrics.jsonl's last event
 * (running, finished, cancelled, failed, interrupted) and, as children, its config — plus the worker's
 * error and log lines for a failed run (config fields that do not apply to the run's method are left out:
 * configRows.ts). A LoRA run says so ("LoRA r=8") in its description and tooltip.
 * Rounds of the loop are linked (src/train/loop/roundSummary.ts): a later round names the run it started
 * from, a run lists the rounds trained from it, and each run's win rate over its starting model (once its
 * evaluation is judged) is in its description, so the rounds' win rates read side by side.
 * Refreshes on file changes (a run's metrics, config, round link, and its evaluations' annotation logs, so a
 * win rate follows the judgments) and on every job start/end.
 */
import * as vscode from 'vscode';
import { roundLabel, roundSummary, type RoundSummary } from '../../train/loop/roundSummary';
import { configRows } from './configRows';
import { listRuns, type RunListing } from '../../train/runs/listing';
import { loraNotesOf } from '../../train/runs/lora';
import type { RunManager } from './runManager';
import { runsLocation } from './trainSettings';

/** A run row; context menus act on it (`viewItem == dapRun`). */
export class RunItem extends vscode.TreeItem {
  constructor(readonly run: RunListing, readonly loop?: RoundSummary) {
    super(run.runId, vscode.TreeItemCollapsibleState.Collapsed);
    this.id = run.runDir;
    this.contextValue = `dapRun.${run.status}`;
    const loss = run.finished?.final.loss ?? run.lastStep?.loss;
    const acc = run.finished?.final['eval_rewards/accuracies'];
    const parts: string[] = [run.status];
    const lora = loraNotesOf(run.config);
    if (lora) parts.push(lora.short);
    if (run.lastStep && run.status === 'running') parts.push(`${run.lastStep.stage} ${run.lastStep.step}/${run.lastStep.totalSteps}`);
    if (loss !== undefined && Number.isFinite(loss)) parts.push(`loss ${loss.toFixed(3)}`);
    if (acc !== undefined && Number.isFinite(acc)) parts.push(`held-out acc ${(100 * acc).toFixed(0)}%`);
    const rounds = loop ? roundLabel(loop) : '';
    if (rounds) parts.push(rounds);
    this.description = parts.join(' · ');
    this.tooltip = new vscode.MarkdownString(
      [`**${run.runId}** — ${run.status}`, ...(lora ? ['', lora.long] : []), '', `\`${run.runDir}\``, run.failed ? `\n\nError: ${run.failed.error}` : '', run.problem ? `\n\n${run.problem}` : ''].join('\n'),
    );
    const icons: Record<RunListing['status'], [string, string?]> = {
      running: ['sync~spin', 'charts.blue'],
      finished: ['pass', 'testing.iconPassed'],
      cancelled: ['circle-slash', 'charts.yellow'],
      failed: ['error', 'testing.iconFailed'],
      interrupted: ['debug-disconnect', 'charts.orange'],
    };
    const [icon, color] = icons[run.status];
    this.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
    this.command = { title: 'Open Loss Panel', command: 'dapStudio.openRunPanel', arguments: [this] };
  }
}

/** A child row: a config field, the error, or a log line. */
class DetailItem extends vscode.TreeItem {
  constructor(label: string, description: string, icon?: string) {
    super(label, vscode.TreeItemCollapsibleState.None);
    this.description = description;
    this.tooltip = `${label}: ${description}`;
    if (icon) this.iconPath = new vscode.ThemeIcon(icon);
    this.contextValue = 'dapRunDetail';
  }
}

export class RunsTreeProvider implements vscode.TreeDataProvider<vscode.TreeItem>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly manager: RunManager) {
    this.disposables.push(
      manager.onJobsChanged(() => this.refreshSoon()),
      manager.onEvent(({ event }) => {
        if (event.type !== 'log') this.refreshSoon();
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('dapStudio.runsDirectory')) this.refresh();
      }),
    );
    // A run's status and config, its round link, and the judgments of its evaluations (its win rate over its
    // start: judged in the annotator, by the verifier, or from another window or the CLI).
    for (const glob of ['**/runs/*/{metrics.jsonl,config.json,round.json}', '**/runs/*/eval/*.annotations.jsonl']) {
      const watcher = vscode.workspace.createFileSystemWatcher(glob);
      this.disposables.push(watcher, watcher.onDidCreate(() => this.refreshSoon()), watcher.onDidDelete(() => this.refreshSoon()), watcher.onDidChange(() => this.refreshSoon()));
    }
  }

  /** The runs folders of every workspace folder (or the default one). */
  runsDirs(): string[] {
    const folders = vscode.workspace.workspaceFolders ?? [];
    const dirs = folders.length ? folders.map((f) => runsLocation(f).runsDir) : [runsLocation(undefined).runsDir];
    return [...new Set(dirs)];
  }

  refresh(): void {
    this.changed.fire();
  }

  /** Coalesces bursts (10 events/s) into one refresh per second. */
  private refreshSoon(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.refresh();
    }, 1000);
  }

  getTreeItem(element: vscode.TreeItem): vscode.TreeItem {
    return element;
  }

  async getChildren(element?: vscode.TreeItem): Promise<vscode.TreeItem[]> {
    if (!element) {
      const live = new Set(this.manager.liveJobs().map((j) => j.runId));
      const runs = this.runsDirs().flatMap((d) => listRuns(d, live).map((r) => ({ r, d })));
      return Promise.all(runs.map(async ({ r, d }) => new RunItem(r, await roundSummary(r.runDir, d).catch(() => undefined))));
    }
    if (!(element instanceof RunItem)) return [];
    const run = element.run;
    const rows: vscode.TreeItem[] = [];
    const loop = element.loop;
    if (loop?.parent) rows.push(new DetailItem(`round ${loop.round}`, `trained from ${loop.parent}`, 'arrow-up'));
    for (const child of loop?.children ?? []) rows.push(new DetailItem('next round', child, 'arrow-down'));
    if (loop?.vsStart) {
      const v = loop.vsStart;
      rows.push(new DetailItem('win rate vs start', `${(100 * v.rate).toFixed(1)}% [${(100 * v.low).toFixed(1)}–${(100 * v.high).toFixed(1)}%], ${v.wins} wins, ${v.losses} losses, ${v.ties} ties, ${v.bothBad} both bad (${v.judgedItems}/${v.items} judged)`, 'law'));
    }
    if (run.failed) {
      rows.push(new DetailItem('error', run.failed.error, 'error'));
      for (const line of (run.failed.stack ?? '').split('\n').slice(0, 8)) if (line.trim()) rows.push(new DetailItem('', line.trim()));
    }
    if (run.problem) rows.push(new DetailItem('problem', run.problem, 'warning'));
    if (run.status === 'failed' || run.status === 'interrupted') {
      for (const line of run.logs.slice(-10)) rows.push(new DetailItem('log', line, 'output'));
    }
    for (const [key, text] of configRows((run.config ?? {}) as Record<string, unknown>)) rows.push(new DetailItem(key, text));
    return rows;
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
    this.changed.dispose();
  }
}
