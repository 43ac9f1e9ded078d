/**
 * The training runs of this window: starts worker jobs (one per data set unless the user confirms),
 * shows each in a cancellable progress notification and in the status bar (step, loss, reward accuracy,
 * ETA), tells panels and the runs view about every event, and stops every worker when the window closes.
 */
import * as vscode from 'vscode';
import { basename, join } from 'node:path';
import type { TrainConfig } from '../../train/config';
import type { TrainEvent } from '../../train/runs/events';
import { formatDuration } from '../../core/duration';
import { laterStagesText, stagesStatus } from '../../train/runs/stagePlan';
import { TrainingJob } from '../../train/worker/trainingJob';

/** An event of a job, for panels and views. */
export interface JobEvent {
  job: TrainingJob;
  event: TrainEvent;
}

/**
 * "sft 12/300 · loss 2.104 · ETA 1m20s · stage 1 of 2, then dpo (80 steps)" from a job's last step and its
 * stage plan: the running stage's own progress and ETA (from its first step), then the stages still to come.
 */
export function describeProgress(job: TrainingJob): string {
  const step = job.lastOf('step');
  if (!step) return job.state === 'cancelling' ? 'cancelling…' : 'starting…';
  const m = step.metrics;
  const plan = job.lastOf('started')?.stages ?? [];
  const stages = stagesStatus(plan, new Map([[step.stage, { step: step.step, totalSteps: step.totalSteps }]]), step.stage, false);
  const index = stages.findIndex((s) => s.stage === step.stage);
  const parts = [`${step.stage} ${step.step}/${step.totalSteps}`];
  if (Number.isFinite(m.loss)) parts.push(`loss ${m.loss.toFixed(3)}`);
  if (Number.isFinite(m['rewards/accuracies'])) parts.push(`acc ${Math.round(100 * m['rewards/accuracies'])}%`);
  if (Number.isFinite(m.eta_seconds)) parts.push(`ETA ${formatDuration(m.eta_seconds)}`);
  const later = laterStagesText(stages);
  if (stages.length > 1) parts.push(`stage ${index + 1} of ${stages.length}${later ? `, ${later}` : ''}`);
  return parts.join(' · ');
}

export class RunManager implements vscode.Disposable {
  private readonly jobs = new Map<string, TrainingJob>();
  private readonly eventEmitter = new vscode.EventEmitter<JobEvent>();
  private readonly changeEmitter = new vscode.EventEmitter<TrainingJob>();
  private readonly statusItem: vscode.StatusBarItem;
  /** The "DAP Studio Training" output channel (run logs, the environment check). */
  readonly output: vscode.OutputChannel;
  /** Every event of every job of this window. */
  readonly onEvent = this.eventEmitter.event;
  /** A job started or ended. */
  readonly onJobsChanged = this.changeEmitter.event;

  constructor(private readonly context: vscode.ExtensionContext) {
    this.statusItem = vscode.window.createStatusBarItem('dapStudio.training', vscode.StatusBarAlignment.Left, 50);
    this.statusItem.name = 'DAP Studio Training';
    this.output = vscode.window.createOutputChannel('DAP Studio Training');
  }

  /** Jobs whose worker is still alive. */
  liveJobs(): TrainingJob[] {
    return [...this.jobs.values()].filter((j) => j.state !== 'ended');
  }

  job(runId: string): TrainingJob | undefined {
    return this.jobs.get(runId);
  }

  /** Starts a run; asks first when a run on the same data is still going. Returns undefined if declined. */
  async start(config: TrainConfig & { out: string; runId: string }): Promise<TrainingJob | undefined> {
    const busy = this.liveJobs().find((j) => j.data === config.data);
    if (busy) {
      const again = await vscode.window.showWarningMessage(
        `A training run on ${basename(config.data)} is still going (${busy.runId}). Start another one at the same time?`,
        { modal: true },
        'Start Another',
      );
      if (again !== 'Start Another') return undefined;
    }
    // A torch run checkpoints at its next step boundary, which can take longer than a tfjs step (CONTRACT.md §5: within 30 s).
    const job = new TrainingJob({ workerPath: join(this.context.extensionPath, 'dist', 'worker.js'), config, ...(config.executor === 'torch' ? { cancelGraceMs: 35_000 } : {}) });
    this.jobs.set(job.runId, job);
    this.output.appendLine(`[${new Date().toISOString()}] ${job.runId}: started worker pid ${job.pid} on ${config.data}`);
    job.onEvent((event) => {
      if (event.type === 'log' || event.type === 'failed' || event.type === 'checkpoint' || event.type === 'finished') {
        const text = event.type === 'log' ? `[${event.level}] ${event.message}` : event.type === 'failed' ? `FAILED: ${event.error}` : event.type === 'checkpoint' ? `checkpoint (${event.reason}) ${event.path}` : `finished after ${event.summary.steps} steps${event.summary.cancelled ? ' (cancelled)' : ''}`;
        this.output.appendLine(`${job.runId}: ${text}`);
      }
      this.eventEmitter.fire({ job, event });
      this.updateStatusBar();
    });
    job.onEnd(() => {
      this.output.appendLine(`${job.runId}: worker exited (code ${job.exitCode}, signal ${job.exitSignal})`);
      for (const line of job.output.slice(-20)) this.output.appendLine(`${job.runId}: ${line}`);
      this.updateStatusBar();
      this.changeEmitter.fire(job);
      void this.announceEnd(job);
    });
    this.showProgress(job);
    this.updateStatusBar();
    this.changeEmitter.fire(job);
    return job;
  }

  /** Cancels a run of this window (the worker checkpoints, then SIGTERM/SIGKILL if it hangs). */
  async cancel(runId: string): Promise<void> {
    const job = this.jobs.get(runId);
    if (!job || job.state === 'ended') return;
    this.output.appendLine(`${runId}: cancel requested`);
    this.updateStatusBar();
    await job.cancel();
  }

  private showProgress(job: TrainingJob): void {
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Training ${job.runId}`, cancellable: true },
      (progress, token) =>
        new Promise<void>((resolveProgress) => {
          token.onCancellationRequested(() => void this.cancel(job.runId));
          let stage = '';
          let reported = 0;
          const off = job.onEvent((e) => {
            if (e.type !== 'step') return;
            // Each stage (SFT warm-up, then the method) counts from 0 to 100 %.
            if (e.stage !== stage) {
              stage = e.stage;
              reported = 0;
            }
            const fraction = Math.min(100, (100 * e.step) / Math.max(1, e.totalSteps));
            progress.report({ message: describeProgress(job), increment: Math.max(0, fraction - reported) });
            reported = Math.max(reported, fraction);
          });
          job.onEnd(() => {
            off();
            resolveProgress();
          });
        }),
    );
  }

  private async announceEnd(job: TrainingJob): Promise<void> {
    const last = job.events[job.events.length - 1];
    if (last?.type === 'failed') {
      const pick = await vscode.window.showErrorMessage(`Training ${job.runId} failed: ${last.error}`, 'Open Panel', 'Show Log');
      if (pick === 'Open Panel') void vscode.commands.executeCommand('dapStudio.openRunPanel', job.runDir);
      if (pick === 'Show Log') this.output.show();
    } else if (last?.type === 'finished' && !last.summary.cancelled) {
      const acc = last.summary.final['eval_rewards/accuracies'];
      const accText = Number.isFinite(acc) ? ` Held-out reward accuracy ${(100 * acc).toFixed(1)}%.` : '';
      const pick = await vscode.window.showInformationMessage(`Training ${job.runId} finished.${accText}`, 'Open Panel', 'Review Annotations');
      if (pick === 'Open Panel') void vscode.commands.executeCommand('dapStudio.openRunPanel', job.runDir);
      if (pick === 'Review Annotations') void vscode.commands.executeCommand('dapStudio.review', job.data, job.runDir);
    }
  }

  private updateStatusBar(): void {
    const live = this.liveJobs();
    if (live.length === 0) {
      this.statusItem.hide();
      return;
    }
    const job = live[live.length - 1];
    const more = live.length > 1 ? ` (+${live.length - 1})` : '';
    this.statusItem.text = `$(sync~spin) ${describeProgress(job)}${more}`;
    this.statusItem.tooltip = `DAP Studio: training ${job.runId} on ${basename(job.data)} — click to open the loss panel`;
    this.statusItem.command = { title: 'Open Loss Panel', command: 'dapStudio.openRunPanel', arguments: [job.runDir] };
    this.statusItem.show();
  }

  /** Stops every worker (window closing); resolves when they are gone. */
  async stopAll(): Promise<void> {
    await Promise.all(this.liveJobs().map((j) => j.kill(1500)));
  }

  dispose(): void {
    for (const j of this.liveJobs()) void j.kill(1500);
    this.statusItem.dispose();
    this.output.dispose();
    this.eventEmitter.dispose();
    this.changeEmitter.dispose();
  }
}
