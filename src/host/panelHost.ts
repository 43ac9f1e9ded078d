/**
 * The host side of a DAP Studio webview panel (the loss panel, the review panel), in one place: one panel
 * per key (a set of run folders, a task file) that is revealed when asked for again, a page loaded under the
 * strict CSP (webviewHtml.ts), the webview's messages handed to `receive`, restore after a window reload
 * through the kind's panel serializer, and dispose of everything the panel registered. A subclass says
 * what its panel shows and how it answers; the annotator is a custom editor and has its own provider.
 */
import * as vscode from 'vscode';
import { webviewHtml, webviewOptions } from './webviewHtml';

/** A kind of panel. */
export interface PanelKind {
  /** The webview panel's view type (also the key of its serializer in package.json activationEvents). */
  viewType: string;
  /** The webview bundle, dist/webview/BUNDLE.js (+ .css). */
  bundle: string;
  /** Where a new panel opens; `preserveFocus` also applies when an open one is revealed. */
  show: { viewColumn: vscode.ViewColumn; preserveFocus?: boolean };
  /** Shows the extension's icon on the panel's tab. */
  icon?: boolean;
}

export abstract class PanelHost<ToWebview, FromWebview> {
  /** Open panels: view type → key → panel. */
  private static readonly open = new Map<string, Map<string, PanelHost<unknown, unknown>>>();

  /** Disposed with the panel (listeners, watchers). */
  protected readonly disposables: vscode.Disposable[] = [];
  private disposed = false;

  /** The open panel of `kind` for `key`, if any. */
  protected static find<P extends PanelHost<unknown, unknown>>(kind: PanelKind, key: string): P | undefined {
    return PanelHost.open.get(kind.viewType)?.get(key) as P | undefined;
  }

  /** A new webview panel of `kind`, for a subclass's constructor to take over. */
  protected static createPanel(kind: PanelKind, title: string, extensionUri: vscode.Uri): vscode.WebviewPanel {
    return vscode.window.createWebviewPanel(kind.viewType, title, kind.show, webviewOptions(extensionUri));
  }

  /**
   * Registers the serializer that brings panels of `kind` back after a window reload: `restore` gets the
   * webview's saved state and returns false when there is nothing to show any more (the panel is closed).
   */
  protected static serializer(kind: PanelKind, restore: (panel: vscode.WebviewPanel, state: unknown) => boolean): vscode.Disposable {
    return vscode.window.registerWebviewPanelSerializer(kind.viewType, {
      async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown) {
        if (!restore(panel, state)) panel.dispose();
      },
    });
  }

  protected constructor(
    protected readonly panel: vscode.WebviewPanel,
    private readonly kind: PanelKind,
    /** What this panel shows, unique among the open panels of its kind. */
    readonly key: string,
    extensionUri: vscode.Uri,
    /** The page's <title>. */
    pageTitle: string,
  ) {
    let byKey = PanelHost.open.get(kind.viewType);
    if (!byKey) PanelHost.open.set(kind.viewType, (byKey = new Map()));
    byKey.set(key, this);
    panel.webview.options = webviewOptions(extensionUri);
    if (kind.icon) panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'icons', 'dap-studio.svg');
    panel.webview.html = webviewHtml(panel.webview, extensionUri, kind.bundle, pageTitle);
    this.disposables.push(
      panel.webview.onDidReceiveMessage((m: FromWebview) => void this.receive(m)),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  /** Answers one message of the webview. */
  protected abstract receive(message: FromWebview): void | Promise<void>;

  /** Sends one message to the webview. */
  protected post(message: ToWebview): void {
    void this.panel.webview.postMessage(message);
  }

  /** Brings the panel to the front. */
  reveal(): void {
    this.panel.reveal(undefined, this.kind.show.preserveFocus);
  }

  /** Frees what the subclass holds beyond `disposables` (called once, when the panel closes). */
  protected onDispose(): void {}

  /** Closes the panel's side: forgets it, disposes its listeners (the panel itself is closed by VS Code or the user). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const byKey = PanelHost.open.get(this.kind.viewType);
    if (byKey?.get(this.key) === this) byKey.delete(this.key);
    this.onDispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
