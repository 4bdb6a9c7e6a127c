// Package logs as read-only documents: `fleet-logs:/web @ web1.log?host=web1&pkg=web`, whose text is
// the agent's log tail, fetched when VS Code asks. Nothing to save, nothing asked on close. Refresh
// fetches again; Follow fetches every 2 s while the document is open and keeps its editors at the
// end (the `fleet.logsFollowing` context key switches the editor-title button).
import * as vscode from 'vscode';
import { errorMessage } from '../core/errors';
import type { HostsProvider } from './hostsProvider';

export const logsScheme = 'fleet-logs';
const followMs = 2000;
const tailLines = 1000;

export function logsUri(host: string, pkg: string): vscode.Uri {
  return vscode.Uri.from({
    scheme: logsScheme,
    path: `/${pkg} @ ${host}.log`,
    query: new URLSearchParams({ host, pkg }).toString(),
  });
}

export class LogsDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly following = new Map<string, NodeJS.Timeout>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly provider: HostsProvider) {
    this.disposables.push(
      vscode.workspace.registerTextDocumentContentProvider(logsScheme, this),
      vscode.workspace.onDidCloseTextDocument((d) => d.uri.scheme === logsScheme && this.unfollow(d.uri)),
      vscode.window.onDidChangeActiveTextEditor(() => this.updateContext()),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (!this.following.has(e.document.uri.toString())) return;
        for (const ed of vscode.window.visibleTextEditors)
          if (ed.document === e.document) {
            const end = new vscode.Position(e.document.lineCount - 1, 0);
            ed.revealRange(new vscode.Range(end, end));
          }
      }),
    );
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const q = new URLSearchParams(uri.query);
    const hostName = q.get('host') ?? '';
    const pkg = q.get('pkg') ?? '';
    const h = this.provider.model.host(hostName);
    if (!h) return `(no host ${hostName} in the Fleet view)`;
    try {
      const text = await this.provider.model.agent(h).logs(pkg, tailLines);
      return text || '(no output yet)';
    } catch (e) {
      return `(cannot read the logs of ${pkg} on ${hostName}: ${errorMessage(e)})`;
    }
  }

  async open(host: string, pkg: string): Promise<vscode.TextEditor> {
    const doc = await vscode.workspace.openTextDocument(logsUri(host, pkg));
    await vscode.languages.setTextDocumentLanguage(doc, 'log');
    return vscode.window.showTextDocument(doc, { preview: true });
  }

  refresh(uri = vscode.window.activeTextEditor?.document.uri): void {
    if (uri?.scheme === logsScheme) this.changed.fire(uri);
  }

  isFollowing(uri: vscode.Uri): boolean {
    return this.following.has(uri.toString());
  }

  /** follows the active log document (or stops following it) */
  toggleFollow(uri = vscode.window.activeTextEditor?.document.uri): void {
    if (uri?.scheme !== logsScheme) return;
    if (this.following.has(uri.toString())) this.unfollow(uri);
    else {
      this.following.set(
        uri.toString(),
        setInterval(() => this.changed.fire(uri), followMs),
      );
      this.changed.fire(uri);
    }
    this.updateContext();
  }

  private unfollow(uri: vscode.Uri): void {
    clearInterval(this.following.get(uri.toString()));
    this.following.delete(uri.toString());
    this.updateContext();
  }

  private updateContext(): void {
    const uri = vscode.window.activeTextEditor?.document.uri;
    void vscode.commands.executeCommand('setContext', 'fleet.logsFollowing', Boolean(uri && this.isFollowing(uri)));
  }

  dispose(): void {
    for (const t of this.following.values()) clearInterval(t);
    this.following.clear();
    this.disposables.forEach((d) => d.dispose());
    this.changed.dispose();
  }
}
