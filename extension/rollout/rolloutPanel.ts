// The rollout panel of one service.json: a webview (CSP with a nonce, vscode-elements, the theme's
// colours) that shows the config, the plan, one row per backend and the end state, and drives
// the RolloutManager. It posts nothing until the webview says it is ready; a window reload
// restores it through the serializer (state: the file, else the file PanelMemory recorded under the
// panel's title), from the journal. A rollout interrupted by the reload waits for Resume.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import * as vscode from 'vscode';
import { errorMessage } from '../../core/errors';
import type { FromWebview, ToWebview } from '../../webviews/rollout/protocol';
import type { PanelMemory } from './panelMemory';
import type { RolloutManager } from './rolloutManager';

export const viewType = 'fleet.rollout';

export class RolloutPanel {
  private static readonly open = new Map<string, RolloutPanel>();
  private ready = false;
  private readonly disposables: vscode.Disposable[] = [];

  static show(
    ctx: vscode.ExtensionContext,
    manager: RolloutManager,
    memory: PanelMemory,
    file: string,
    preserveFocus = false,
  ): RolloutPanel {
    const existing = RolloutPanel.open.get(file);
    if (existing) {
      existing.panel.reveal(undefined, preserveFocus);
      return existing;
    }
    // beside the editor the first time; then where the rollout panels already are, not one more column each
    const column = [...RolloutPanel.open.values()].find((p) => p.panel.viewColumn)?.panel.viewColumn;
    const panel = vscode.window.createWebviewPanel(
      viewType,
      title(file),
      { viewColumn: column ?? vscode.ViewColumn.Beside, preserveFocus },
      options(),
    );
    return new RolloutPanel(ctx, manager, memory, file, panel);
  }

  /**
   * A panel VS Code restored after a reload. Its webview state names the file; when VS Code saved the
   * layout before the webview could set it, the title does (PanelMemory). A panel for the same file
   * may already be open (the extension reopens the panels of interrupted rollouts): keep that one.
   */
  static revive(
    ctx: vscode.ExtensionContext,
    manager: RolloutManager,
    memory: PanelMemory,
    panel: vscode.WebviewPanel,
    state: { file?: string } | undefined,
  ): RolloutPanel | undefined {
    const file = state?.file ?? memory.fileForTitle(panel.title);
    if (!file || RolloutPanel.open.has(file)) {
      panel.dispose();
      return undefined;
    }
    panel.webview.options = options();
    return new RolloutPanel(ctx, manager, memory, file, panel);
  }

  static get(file: string): RolloutPanel | undefined {
    return RolloutPanel.open.get(file);
  }

  private constructor(
    ctx: vscode.ExtensionContext,
    private readonly manager: RolloutManager,
    memory: PanelMemory,
    readonly file: string,
    readonly panel: vscode.WebviewPanel,
  ) {
    RolloutPanel.open.set(file, this);
    panel.title = title(file);
    void memory.panelOpened(panel.title, file);
    panel.webview.html = html(ctx, panel.webview, file);
    this.disposables.push(
      panel.webview.onDidReceiveMessage((m: FromWebview) =>
        this.onMessage(m).catch((e) => void vscode.window.showErrorMessage(`Fleet rollout: ${errorMessage(e)}`)),
      ),
      manager.onDidChange((f) => f === file && this.post()),
      panel.onDidDispose(() => this.dispose()),
      // live traffic only while someone can see it
      panel.onDidChangeViewState((e) => this.watch(e.webviewPanel.visible)),
      { dispose: () => this.watch(false) },
      // the panel follows its file: saved in the editor or changed on disk, it is read again (never
      // under a running rollout, which keeps the config it started with)
      vscode.workspace.onDidSaveTextDocument((d) => d.uri.fsPath === file && void manager.load(file)),
      watchFile(file, () => void manager.load(file)),
    );
    void manager.load(file);
    this.watch(panel.visible);
  }

  private stopTraffic?: () => void;

  private watch(on: boolean): void {
    if (on && !this.stopTraffic) this.stopTraffic = this.manager.watchTraffic(this.file);
    else if (!on && this.stopTraffic) {
      this.stopTraffic();
      this.stopTraffic = undefined;
    }
  }

  /** the last state posted, for tests */
  lastPosted?: ToWebview;

  private post(): void {
    if (!this.ready) return;
    const msg: ToWebview = { type: 'state', state: this.manager.state(this.file) };
    this.lastPosted = msg;
    void this.panel.webview.postMessage(msg);
  }

  private async onMessage(m: FromWebview): Promise<void> {
    switch (m.type) {
      case 'ready':
        this.ready = true;
        await this.manager.load(this.file);
        this.post();
        break;
      case 'start': {
        // a finished rollout started again reinstalls the package on every backend: ask first
        const st = this.manager.state(this.file);
        const p = st.progress;
        if (p?.endState && st.summary) {
          // the package Src names now: the one that ran last, or another (Src changed since)
          const same = p.sha256 === st.summary.sha256;
          const pkg = `${st.packageFile} (${st.summary.sha256.slice(0, 8)})`;
          const go = same ? 'Start Again' : 'Start New Rollout';
          const pick = await vscode.window.showWarningMessage(
            same
              ? `This rollout already ended: ${st.headline}. Start it again? Every backend gets ${pkg} once more, canaries first.`
              : `The last rollout of this file ended: ${st.headline}. Start a new rollout of ${pkg}? Src changed since: it is not the package that ran last.`,
            { modal: true },
            go,
          );
          if (pick !== go) return;
        }
        return this.manager.start(this.file);
      }
      case 'resume':
        return this.manager.start(this.file, true);
      case 'pause':
        return this.manager.pause(this.file);
      case 'abort':
        return this.manager.abort(this.file);
      case 'reveal':
        return revealField(this.file, m.field);
      case 'revealAt':
        return revealPosition(this.file, new vscode.Position(m.line, m.character));
    }
  }

  dispose(): void {
    RolloutPanel.open.delete(this.file);
    this.disposables.forEach((d) => d.dispose());
  }
}

function watchFile(file: string, onChange: () => void): vscode.Disposable {
  const w = vscode.workspace.createFileSystemWatcher(
    new vscode.RelativePattern(vscode.Uri.file(dirname(file)), basename(file)),
  );
  return vscode.Disposable.from(w, w.onDidChange(onChange), w.onDidCreate(onChange), w.onDidDelete(onChange));
}

function title(file: string): string {
  return `Rollout: ${vscode.workspace.asRelativePath(file)}`;
}

function options(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  // the script is inlined (html()): the webview may read no file at all
  return { enableScripts: true, retainContextWhenHidden: false, localResourceRoots: [] };
}

/**
 * The page. Its script is inlined (with the CSP nonce) rather than loaded from the extension: in VS
 * Code's web workbench a webview's resources come through a service worker, and when two webviews
 * start at once (the panel and the Welcome walkthrough) one of them can be left uncontrolled, its
 * script request then going to the real network and failing (seen: ERR_NAME_NOT_RESOLVED for
 * …vscode-resource.vscode-cdn.net/…/webview-rollout.js); an inline script needs no request.
 * `data-file` lets the webview save its state (the file) before anything else happens.
 */
function html(ctx: vscode.ExtensionContext, webview: vscode.Webview, file: string): string {
  const nonce = randomBytes(16).toString('base64');
  const csp = [
    `default-src 'none'`,
    `script-src 'nonce-${nonce}'`,
    `style-src ${webview.cspSource} 'unsafe-inline'`,
    `font-src ${webview.cspSource}`,
    `img-src ${webview.cspSource} data:`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8"><meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0"><title>Rollout</title></head>
<body data-file="${escapeAttr(file)}"><div id="app">Loading…</div><script nonce="${nonce}">${webviewScript(ctx)}</script></body></html>`;
}

let cachedScript: string | undefined;

/** dist/webview-rollout.js, safe to put between <script> tags */
function webviewScript(ctx: vscode.ExtensionContext): string {
  cachedScript ??= readFileSync(vscode.Uri.joinPath(ctx.extensionUri, 'dist', 'webview-rollout.js').fsPath, 'utf8')
    .replace(/\n\/\/# sourceMappingURL=.*$/, '')
    .replace(/<\/(script)/gi, '<\\/$1');
  return cachedScript;
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** opens service.json with the cursor on a field (`Backends[2]` or `Health.TimeoutSecs`) */
async function revealField(file: string, field: string): Promise<void> {
  const doc = await vscode.workspace.openTextDocument(file);
  const text = doc.getText();
  const names = field.split(/[.[\]]/).filter((p) => p && !/^\d+$/.test(p));
  let offset = 0;
  for (const n of names) {
    const i = text.indexOf(`"${n}"`, offset);
    if (i >= 0) offset = i;
  }
  await revealPosition(file, doc.positionAt(offset));
}

async function revealPosition(file: string, pos: vscode.Position): Promise<void> {
  const doc = await vscode.workspace.openTextDocument(file);
  const editor = await vscode.window.showTextDocument(doc, {
    viewColumn: vscode.ViewColumn.One,
    selection: new vscode.Range(pos, pos),
  });
  editor.revealRange(new vscode.Range(pos, pos), vscode.TextEditorRevealType.InCenter);
}
