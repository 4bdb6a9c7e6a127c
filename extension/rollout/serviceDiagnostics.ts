// Fleet's own checks of service.json in the Problems view, with their places and quick fixes
// (core/rollout/diagnostics.ts): the files it names, budgets, misspelt fields, and whether its load
// balancer answers (a warning, asked only in a trusted folder, when the file is opened or saved, not
// as one types). For a file named service.json the editor's JSON Schema check already reports the
// schema's problems, so only Fleet's are added; other files a rollout panel shows get both.
// Checked: open service.json documents, every service.json in the workspace once at start (at most
// 20), and files a rollout panel shows.
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { checkService, type QuickFix, type ServiceDiagnostic } from '../../core/rollout/diagnostics';
import { isTrusted } from '../trust';

const severity: Record<ServiceDiagnostic['severity'], vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
};

export class ServiceDiagnostics implements vscode.Disposable, vscode.CodeActionProvider {
  private readonly collection = vscode.languages.createDiagnosticCollection('fleet');
  private readonly fixes = new Map<string, Array<{ diag: vscode.Diagnostic; fixes: QuickFix[] }>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** the newest check of each file: an older one that finishes later is dropped */
  private readonly generation = new Map<string, number>();
  private readonly disposables: vscode.Disposable[] = [];

  /** `extra`: files checked although not named service.json (those a rollout panel shows) */
  constructor(private readonly extra: (file: string) => boolean = () => false) {
    this.disposables.push(
      this.collection,
      vscode.workspace.onDidOpenTextDocument((d) => this.consider(d, true)),
      vscode.workspace.onDidChangeTextDocument((e) => this.consider(e.document, false)),
      vscode.workspace.onDidSaveTextDocument((d) => this.consider(d, true)),
      vscode.languages.registerCodeActionsProvider([{ language: 'json' }, { language: 'jsonc' }], this, {
        providedCodeActionKinds: [vscode.CodeActionKind.QuickFix],
      }),
    );
    for (const d of vscode.workspace.textDocuments) this.consider(d, true);
    // service.json files nobody opened yet: Problems lists a missing Src before the file is opened
    void vscode.workspace.findFiles('**/service.json', '**/{node_modules,.git,.fleet}/**', 20).then((uris) => {
      for (const u of uris)
        if (!vscode.workspace.textDocuments.some((d) => d.uri.fsPath === u.fsPath))
          void vscode.workspace.fs.readFile(u).then((b) => this.check(u, Buffer.from(b).toString('utf8'), false));
    });
  }

  isServiceFile(uri: vscode.Uri): boolean {
    return uri.scheme === 'file' && (basename(uri.fsPath) === 'service.json' || this.extra(uri.fsPath));
  }

  /** checks a file now (a rollout panel opened on it) */
  checkFile(file: string): void {
    const uri = vscode.Uri.file(file);
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === file);
    if (doc) return this.consider(doc, true);
    void vscode.workspace.fs.readFile(uri).then(
      (b) => this.check(uri, Buffer.from(b).toString('utf8'), true),
      () => this.collection.delete(uri),
    );
  }

  /** forgets a file's problems (its folder is gone) */
  clear(file: string): void {
    this.collection.delete(vscode.Uri.file(file));
  }

  private consider(doc: vscode.TextDocument, askLb: boolean): void {
    if (!this.isServiceFile(doc.uri)) return;
    const key = doc.uri.toString();
    clearTimeout(this.timers.get(key));
    // typing: checked once it pauses; opening and saving: at once, the LB asked too
    this.timers.set(
      key,
      setTimeout(() => void this.check(doc.uri, doc.getText(), askLb), askLb ? 0 : 400),
    );
  }

  private async check(uri: vscode.Uri, text: string, askLb: boolean): Promise<void> {
    const key = uri.toString();
    const gen = (this.generation.get(key) ?? 0) + 1;
    this.generation.set(key, gen);
    let found: ServiceDiagnostic[];
    try {
      found = await checkService(uri.fsPath, text, { lb: askLb && isTrusted() });
    } catch {
      return; // a check that cannot run says nothing rather than something wrong
    }
    if (this.generation.get(key) !== gen) return;
    const schemaCovered = basename(uri.fsPath) === 'service.json';
    const lines = text.split('\n');
    const at = (offset: number) => {
      let rest = offset;
      for (let i = 0; i < lines.length; i++) {
        if (rest <= lines[i].length) return new vscode.Position(i, rest);
        rest -= lines[i].length + 1;
      }
      return new vscode.Position(lines.length - 1, lines.at(-1)!.length);
    };
    const withFixes: Array<{ diag: vscode.Diagnostic; fixes: QuickFix[] }> = [];
    const diags = found
      .filter((d) => d.source === 'fleet' || !schemaCovered)
      .map((d) => {
        const diag = new vscode.Diagnostic(
          new vscode.Range(at(d.offset), at(d.offset + d.length)),
          d.message,
          severity[d.severity],
        );
        diag.source = 'Fleet';
        if (d.fixes?.length) withFixes.push({ diag, fixes: d.fixes });
        return diag;
      });
    // a lingering LB warning from the last open or save stays while one types (typing never asks the LB)
    if (!askLb)
      for (const old of this.collection.get(uri) ?? [])
        if (old.message.startsWith('the load balancer at ') || old.message.startsWith("HAProxy's admin socket"))
          if (!diags.some((d) => d.message === old.message)) diags.push(old);
    this.collection.set(uri, diags);
    this.fixes.set(key, withFixes);
  }

  provideCodeActions(doc: vscode.TextDocument, range: vscode.Range | vscode.Selection): vscode.CodeAction[] {
    const out: vscode.CodeAction[] = [];
    for (const { diag, fixes } of this.fixes.get(doc.uri.toString()) ?? []) {
      if (!diag.range.intersection(range)) continue;
      for (const f of fixes) {
        const a = new vscode.CodeAction(f.title, vscode.CodeActionKind.QuickFix);
        a.diagnostics = [diag];
        a.edit = new vscode.WorkspaceEdit();
        for (const e of f.edits)
          a.edit.replace(
            doc.uri,
            new vscode.Range(doc.positionAt(e.offset), doc.positionAt(e.offset + e.length)),
            e.content,
          );
        a.isPreferred = fixes.length === 1;
        out.push(a);
      }
    }
    return out;
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.disposables.forEach((d) => d.dispose());
  }
}
