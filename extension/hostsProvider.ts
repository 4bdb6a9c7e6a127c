// The Hosts tree: FleetModel's states as TreeItems (via core/fleetView/treeModel), refreshed on
// demand and, while the view is visible, every fleet.refreshIntervalSeconds. Change events are
// debounced so a refresh of many hosts repaints a few times, not once per host.
import * as vscode from 'vscode';
import { FleetModel } from '../core/fleetView/fleetModel';
import { hostNode, statusText, type TreeNode } from '../core/fleetView/treeModel';
import { askAboutNewKeys } from '../core/ssh/askOnce';
import type { HostKeyPrompt } from './hostKeyPrompt';
import type { Session } from './session';

export class HostsProvider implements vscode.TreeDataProvider<TreeNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<TreeNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  readonly model: FleetModel;
  private debounce?: NodeJS.Timeout;
  private timer?: NodeJS.Timeout;
  private refreshing: Promise<void> | null = null;
  /** host-key names the user declined this session: not asked again until a manual refresh */
  private declined = new Set<string>();
  prompt: HostKeyPrompt;
  /** the agent build this extension deploys: hosts with another get marked for Update Agent */
  private bundledAgent?: string;

  constructor(
    private readonly session: Session,
    private readonly status: vscode.StatusBarItem,
    prompt: HostKeyPrompt,
  ) {
    this.prompt = prompt;
    this.model = new FleetModel(session.pool, () => this.schedulePaint());
    this.reloadHosts();
  }

  setBundledAgent(id: string): void {
    this.bundledAgent = id;
    this.paint();
  }

  reloadHosts(): void {
    this.model.setPool(this.session.pool);
    this.model.setHosts(this.session.hosts());
    this.paint();
  }

  getTreeItem(n: TreeNode): vscode.TreeItem {
    const item = new vscode.TreeItem(
      n.label,
      n.children?.length ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
    );
    item.id = n.id;
    item.description = n.description;
    item.tooltip = n.tooltip;
    item.contextValue = n.contextValue;
    if (n.icon)
      item.iconPath = new vscode.ThemeIcon(n.icon.id, n.icon.color ? new vscode.ThemeColor(n.icon.color) : undefined);
    return item;
  }

  getChildren(n?: TreeNode): TreeNode[] {
    if (n) return n.children ?? [];
    const now = new Date();
    return [...this.model.states.values()].map((h) => hostNode(h, now, this.bundledAgent));
  }

  /** probes hosts (all, or the named ones); a second call while one runs joins it */
  refresh(opts: { names?: string[]; manual?: boolean } = {}): Promise<void> {
    if (opts.manual) this.declined.clear();
    if (this.refreshing && !opts.names) return this.refreshing;
    const concurrency = vscode.workspace.getConfiguration('fleet').get<number>('concurrency', 50);
    const run = (async () => {
      await this.model.refresh({ names: opts.names, concurrency });
      const { trusted, asked } = await askAboutNewKeys(this.session.checker, this.prompt, this.declined);
      for (const n of asked) this.declined.add(n);
      if (trusted.length) await this.model.refresh({ names: trusted, concurrency });
      this.paint();
    })();
    if (!opts.names) {
      this.refreshing = run.finally(() => (this.refreshing = null));
      return this.refreshing;
    }
    return run;
  }

  /** polls while the view is visible (VS Code tells us), never while hidden */
  setVisible(visible: boolean): void {
    clearInterval(this.timer);
    if (!visible) return;
    const secs = vscode.workspace.getConfiguration('fleet').get<number>('refreshIntervalSeconds', 30);
    if (secs > 0) this.timer = setInterval(() => void this.refresh(), secs * 1000);
    void this.refresh();
  }

  private schedulePaint(): void {
    if (this.debounce) return;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      this.paint();
    }, 150);
  }

  private paint(): void {
    this.changed.fire(undefined);
    this.status.text = `$(server) ${statusText([...this.model.states.values()])}`;
    this.status.show();
  }

  dispose(): void {
    clearInterval(this.timer);
    clearTimeout(this.debounce);
    this.changed.dispose();
  }
}
