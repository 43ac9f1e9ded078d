/**
 * The review panel (host side): one webview panel per task file showing the review lists. Owns the data:
 * reads the task file and annotation log, builds the report, appends `confirm` events, opens items in
 * the annotator, exports the flagged list and starts model scoring in the worker process. The last scores
 * are saved to `.dap/review/<stem>.scores.json` and reloaded when the panel opens (marked stale when the
 * log gained judgments since).
 */
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ReviewHostToWebview, ReviewListName, ReviewReport, ReviewWebviewToHost, ScoresStatus } from '../../../webview/protocol/review';
import { assertUnreachable } from '../../core/assertUnreachable';
import { appendConfirm, flaggedToJsonl, loadReview } from '../../core/review/load';
import { PanelHost, type PanelKind } from '../panelHost';
import { writeFileAtomicSync } from '../../core/atomicWrite';
import { annotatorId, logPathPattern } from '../annotator/settings';
import { annotationLogPath } from '../annotator/logPath';
import { readSavedScores, savedScoresPath, scoresFreshness, snapshotFile, writeSavedScores, type SavedScores } from '../../core/review/persist';
import { scoreInWorker } from '../../train/worker/scoringJob';
import { describeSource, detectSource, scoreMessageOf, type ScoreSource } from './scoring';

/** The review panel: in the active column; one panel per task file. */
const REVIEW_PANEL: PanelKind = { viewType: 'dapStudio.review', bundle: 'review', show: { viewColumn: vscode.ViewColumn.Active } };

/** What a panel reviews; also its serialized state for window reloads. */
export interface ReviewTarget {
  taskFile: string;
  /** Annotation log (default: the task file's sibling NAME.annotations.jsonl). */
  logFile?: string;
  /** Run or model folder to score pairs with; absent = no model-flagged list until asked. */
  scoreDir?: string;
}

export class ReviewPanel extends PanelHost<ReviewHostToWebview, ReviewWebviewToHost> {
  private report: ReviewReport | null = null;
  /** The last model scores: the flagged list is recomputed from them on every refresh (new labels, confirms). */
  private scored: Pick<ReviewReport, 'scores' | 'flaggedMethod'> | null = null;
  /** The saved scores behind `scored` (from disk or the last scoring), to tell whether the log moved on. */
  private saved: SavedScores | null = null;
  /** Reading the saved scores at open; refresh waits for it. */
  private readonly savedLoaded: Promise<void>;
  private readonly logFile: string;
  private scoring: AbortController | null = null;

  /** Shows (or reveals) the panel for a task file. */
  static show(context: vscode.ExtensionContext, target: ReviewTarget): ReviewPanel {
    const existing = PanelHost.find<ReviewPanel>(REVIEW_PANEL, target.taskFile);
    if (existing) {
      existing.reveal();
      if (target.scoreDir) void existing.scoreAndReport(detectSource(target.scoreDir));
      return existing;
    }
    return new ReviewPanel(context, PanelHost.createPanel(REVIEW_PANEL, `Review: ${basename(target.taskFile)}`, context.extensionUri), target);
  }

  /**
   * Registers the serializer that restores review panels after a window reload from the webview's saved
   * target (the panel reloads the last saved model scores itself, .dap/review/<stem>.scores.json).
   */
  static registerSerializer(context: vscode.ExtensionContext): vscode.Disposable {
    return PanelHost.serializer(REVIEW_PANEL, (panel, state) => {
      const target = (state as { target?: ReviewTarget } | undefined)?.target;
      if (!target?.taskFile || !existsSync(target.taskFile)) return false;
      new ReviewPanel(context, panel, { taskFile: target.taskFile, logFile: target.logFile });
      return true;
    });
  }

  private constructor(
    private readonly context: vscode.ExtensionContext,
    panel: vscode.WebviewPanel,
    private readonly target: ReviewTarget,
  ) {
    super(panel, REVIEW_PANEL, target.taskFile, context.extensionUri, 'Review annotations');
    this.logFile = target.logFile ?? reviewLogPath(target.taskFile);
    // A new judgment (re-annotation) or confirm in the log refreshes the lists.
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(join(this.logFile, '..')), basename(this.logFile)));
    let timer: NodeJS.Timeout | undefined;
    const refreshSoon = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => void this.refresh(), 150);
    };
    this.disposables.push(watcher, watcher.onDidChange(refreshSoon), watcher.onDidCreate(refreshSoon));
    this.savedLoaded = target.scoreDir ? Promise.resolve() : this.loadSavedScores();
    if (target.scoreDir) void this.scoreAndReport(detectSource(target.scoreDir));
  }

  /** Where this task file's scores are saved (the workspace's `.dap/review/`, else beside the task file). */
  private savedScoresFile(): string {
    const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(this.target.taskFile))?.uri.fsPath;
    return savedScoresPath(this.target.taskFile, folder);
  }

  /** Reloads the last scores of this task file, if any (a window reload must not lose minutes of scoring). */
  private async loadSavedScores(): Promise<void> {
    try {
      const saved = await readSavedScores(this.savedScoresFile(), this.target.taskFile);
      if (saved && !this.scored) {
        this.saved = saved;
        this.scored = { scores: saved.scores, flaggedMethod: saved.flaggedMethod };
      }
    } catch {
      // Unreadable saved scores are ignored: the user can score again.
    }
  }

  protected override async receive(msg: ReviewWebviewToHost): Promise<void> {
    try {
      switch (msg.type) {
        case 'ready':
        case 'refresh':
          await this.refresh();
          break;
        case 'reannotate':
          await vscode.commands.executeCommand('dapStudio.annotateItem', vscode.Uri.file(this.target.taskFile), msg.item);
          break;
        case 'confirm':
          await this.confirm(msg.list, msg.item);
          break;
        case 'exportFlagged':
          await this.exportFlagged();
          break;
        case 'scoreModel': {
          assertTrustedForScoring(); // before asking which model, not after
          const source = await pickScoreSource();
          if (source) await this.score(source);
          break;
        }
        default:
          assertUnreachable(msg);
      }
    } catch (e) {
      this.reportError(e);
    }
  }

  /** Shows an error in the panel and as a notification. */
  private reportError(e: unknown): void {
    const message = e instanceof Error ? e.message : String(e);
    this.post({ type: 'error', message });
    void vscode.window.showErrorMessage(`DAP review: ${message}`);
  }

  /** {@link score} started without an awaiting caller (from a command or the training panel): errors are shown. */
  scoreAndReport(source: ScoreSource): Promise<void> {
    return this.score(source).catch((e: unknown) => this.reportError(e));
  }

  /** Re-reads the task file and log and sends the lists (keeping the last model scores). */
  async refresh(): Promise<void> {
    await this.savedLoaded;
    const { report, issues } = await loadReview(this.target.taskFile, this.logFile, {
      tauThreshold: vscode.workspace.getConfiguration('dapStudio').get<number>('review.tauThreshold'),
      scores: this.scored?.scores,
      scoresMethod: this.scored?.flaggedMethod,
    });
    this.report = report;
    for (const issue of issues.filter((i) => i.severity === 'error').slice(0, 3)) {
      void vscode.window.showWarningMessage(`${issue.file}:${issue.line}: ${issue.field}: ${issue.message}`);
    }
    let scoresStatus: ScoresStatus | undefined;
    if (this.saved && report.flagged) {
      const fresh = await scoresFreshness(this.saved, this.logFile);
      scoresStatus = { scoredAt: this.saved.scoredAt, stale: fresh.stale, note: fresh.note };
    }
    this.post({ type: 'report', report, ...(scoresStatus ? { scoresStatus } : {}) });
  }

  private async confirm(list: ReviewListName, item: string): Promise<void> {
    const annotator = await annotatorId(vscode.workspace.getWorkspaceFolder(vscode.Uri.file(this.target.taskFile))?.uri.fsPath);
    await appendConfirm(this.logFile, { item, annotator, reason: list });
    this.post({ type: 'confirmed', list, item });
    await this.refresh();
  }

  private async exportFlagged(): Promise<void> {
    if (!this.report?.flagged) throw new Error('score the pairs with a model first ("Score with model…")');
    const uri = await vscode.window.showSaveDialog({
      defaultUri: vscode.Uri.file(this.target.taskFile.replace(/\.jsonl$/, '') + '.flagged.jsonl'),
      filters: { 'JSON Lines': ['jsonl'] },
      title: 'Export model-flagged pairs',
    });
    if (!uri) return;
    writeFileAtomicSync(uri.fsPath, flaggedToJsonl(this.report.flagged));
    void vscode.window.showInformationMessage(`Exported ${this.report.flagged.length} flagged pairs to ${uri.fsPath}`);
  }

  /** Scores every pair with a run or model in a child process (cancellable) and shows the flagged list. */
  async score(source: ScoreSource): Promise<void> {
    assertTrustedForScoring();
    this.scoring?.abort();
    const controller = new AbortController();
    this.scoring = controller;
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `DAP: scoring pairs with ${describeSource(source)}`, cancellable: true },
      async (progress, token) => {
        token.onCancellationRequested(() => controller.abort());
        const onProgress = (line: string): void => {
          progress.report({ message: line });
          this.post({ type: 'busy', message: line });
        };
        onProgress('starting…');
        try {
          // The files as the child will read them: judgments appended while it scores make the result stale.
          const log = await snapshotFile(this.logFile, true);
          const task = await snapshotFile(this.target.taskFile, false);
          const scored = await scoreInWorker({
            workerPath: join(this.context.extensionPath, 'dist', 'worker.js'),
            score: scoreMessageOf(this.target.taskFile, this.logFile, source),
            onProgress,
            signal: controller.signal,
          });
          this.scored = { scores: scored.scores, flaggedMethod: scored.method };
          this.saved = {
            version: 1,
            taskFile: this.target.taskFile,
            logFile: this.logFile,
            source: source.kind === 'kfold' ? { kind: 'kfold', k: source.k, ...(source.dir ? { dir: source.dir } : {}) } : { kind: source.kind, dir: source.dir },
            flaggedMethod: scored.method,
            scoredAt: new Date().toISOString(),
            log,
            task,
            scores: this.scored.scores ?? [],
          };
          await writeSavedScores(this.savedScoresFile(), this.saved).catch((e: unknown) =>
            void vscode.window.showWarningMessage(`DAP review: could not save the scores (${(e as Error).message}); they last until the panel closes.`),
          );
          await this.refresh();
        } finally {
          this.post({ type: 'busy', message: null });
          if (this.scoring === controller) this.scoring = null;
        }
      },
    );
  }

  protected override onDispose(): void {
    this.scoring?.abort();
  }
}

/** Scoring trains or loads models (Workspace Trust): refused in an untrusted workspace. */
function assertTrustedForScoring(): void {
  if (!vscode.workspace.isTrusted) {
    throw new Error('scoring with a model runs training and loads model files: trust this workspace first (the other lists work without it)');
  }
}

/** Asks how to score pairs: k-fold with the built-in model, a run folder, or a model folder (reference-free). */
async function pickScoreSource(): Promise<ScoreSource | undefined> {
  const k = vscode.workspace.getConfiguration('dapStudio').get<number>('review.kFolds', 3);
  const choice = await vscode.window.showQuickPick(
    [
      { id: 'kfold', label: `$(beaker) k-fold DPO, built-in model (k = ${k})`, detail: 'Trains k small models, each scores the items it did not train on. Slowest, not circular.' },
      { id: 'run', label: '$(history) A training run folder…', detail: "The run's final policy against its reference (pairs it trained on are marked)." },
      { id: 'model', label: '$(file-directory) A model folder (reference-free)…', detail: 'Mean log-prob of chosen minus rejected under one model. No training.' },
    ],
    { title: 'Score pairs with a model', placeHolder: 'How should the pairs be scored?' },
  );
  if (!choice) return undefined;
  if (choice.id === 'kfold') return { kind: 'kfold', k };
  const picked = await vscode.window.showOpenDialog({
    canSelectFiles: false,
    canSelectFolders: true,
    openLabel: choice.id === 'run' ? 'Score with this run' : 'Score with this model',
  });
  if (!picked?.[0]) return undefined;
  return choice.id === 'run' ? { kind: 'run', dir: picked[0].fsPath } : { kind: 'model', dir: picked[0].fsPath };
}

/** The log the annotator writes for a task file (setting `dapStudio.annotationLogPath`). */
function reviewLogPath(taskFile: string): string {
  const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(taskFile))?.uri.fsPath;
  return annotationLogPath(taskFile, logPathPattern(), folder);
}
