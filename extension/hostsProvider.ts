// The Hosts tree: FleetModel's states as TreeItems (via core/fleetView/treeModel: groups, host rows,
// filter, down-first order), refreshed on demand, when the inventory changes (new hosts at once),
// and while the view is visible every fleet.refreshIntervalSeconds. Change events are debounced so
// a refresh of many hosts repaints a few times, not once per host. The status bar item says how
// many hosts are up, turns to the warning colour when some are down and names them. With
// fleet.prometheus.url set, stats come from Prometheus (prometheusSource.ts) and SSH only asks the
// hosts it does not scrape; hosts in collapsed groups are not asked over SSH by the timer.
import * as vscode from 'vscode';
import { FleetModel } from '../core/hosts/fleetModel';
import { parseFilter, type HostFilter } from '../core/fleetView/filter';
import { downHosts, statusText, treeRoots, type TreeNode } from '../core/fleetView/treeModel';
import { liveness } from '../core/hosts/hostState';
import { askAboutNewKeys } from '../core/ssh/askOnce';
import type { HostKeyPrompt } from './hostKeyPrompt';
import type { Session } from './session';
import { restrictedMessage } from './trust';

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
  /** what the person typed in Filter Hosts, if anything */
  filter?: HostFilter;
  /** the roots last handed to the view (a command given no node may look here) */
  roots: TreeNode[] = [];
  /** the tree view, once created: its selection preselects the host picker */
  view?: vscode.TreeView<TreeNode>;
  /** more roots after the hosts (the running demo fleet) */
  extraRoots?: () => TreeNode[];
  /** groups the person opened or closed in the view (others keep their node's default) */
  private readonly groupOpen = new Map<string, boolean>();
  private isRestricted = false;

  constructor(
    private readonly session: Session,
    private readonly status: vscode.StatusBarItem,
    prompt: HostKeyPrompt,
  ) {
    this.prompt = prompt;
    this.model = new FleetModel(session.pool, () => this.schedulePaint());
    this.reloadHosts(false); // at start the view's first showing probes them
  }

  /**
   * Restricted Mode (an untrusted folder, extension/trust.ts): the hosts are listed, never asked;
   * the view says so above the rows
   */
  set restricted(on: boolean) {
    this.isRestricted = on;
    if (this.view) this.view.message = on ? `${restrictedMessage} Trust the folder to check them.` : undefined;
    this.paint();
  }

  get restricted(): boolean {
    return this.isRestricted;
  }

  /** repaints the view (another source of rows changed) */
  repaint(): void {
    this.schedulePaint();
  }

  selection(): readonly TreeNode[] {
    return this.view?.selection ?? [];
  }

  setBundledAgent(id: string): void {
    this.bundledAgent = id;
    this.paint();
  }

  /** reads the inventory again; hosts not known before are probed at once, not at the next tick */
  reloadHosts(probeNew = true): void {
    const known = new Set(this.model.states.keys());
    this.model.setPool(this.session.pool);
    this.model.setHosts(this.session.hosts());
    this.paint();
    const fresh = [...this.model.states.values()].filter((h) => !known.has(h.name) || !h.probe).map((h) => h.name);
    if (probeNew && fresh.length) void this.refresh({ names: fresh });
  }

  /** shows only the hosts matching `text` (empty: all); sets the `fleet.filtered` context for the menus */
  setFilter(text: string | undefined): void {
    this.filter = text ? parseFilter(text) : undefined;
    void vscode.commands.executeCommand('setContext', 'fleet.filtered', Boolean(this.filter));
    this.paint();
  }

  getTreeItem(n: TreeNode): vscode.TreeItem {
    const item = new vscode.TreeItem(
      n.label,
      n.children?.length
        ? n.expanded
          ? vscode.TreeItemCollapsibleState.Expanded
          : vscode.TreeItemCollapsibleState.Collapsed
        : vscode.TreeItemCollapsibleState.None,
    );
    item.id = n.id;
    item.description = n.description;
    item.tooltip = n.tooltipMarkdown ? new vscode.MarkdownString(n.tooltipMarkdown) : n.tooltip;
    item.contextValue = n.contextValue;
    if (n.command) item.command = { command: n.command, title: n.label, arguments: [n] };
    if (n.icon)
      item.iconPath = new vscode.ThemeIcon(n.icon.id, n.icon.color ? new vscode.ThemeColor(n.icon.color) : undefined);
    return item;
  }

  getChildren(n?: TreeNode): TreeNode[] {
    if (n) return n.children ?? [];
    this.roots = treeRoots([...this.model.states.values()], {
      bundledAgent: this.bundledAgent,
      filter: this.filter,
      downFirst: vscode.workspace.getConfiguration('fleet').get<boolean>('sortDownFirst', true),
      hostKeyTrust: (name) => this.session.checker.describeTrust(name),
    });
    return [...this.roots, ...(this.extraRoots?.() ?? [])];
  }

  /** a group node opened or closed: opening one refreshes its hosts at once */
  setGroupOpen(node: TreeNode, open: boolean): void {
    if (node.contextValue !== 'group') return;
    this.groupOpen.set(node.label, open);
    if (open && node.hosts?.length) void this.refresh({ names: node.hosts });
  }

  /** a host every one of whose group nodes is closed: counted, not asked over SSH by the timer */
  private hidden(name: string): boolean {
    const groups = this.roots.filter((r) => r.contextValue === 'group' && r.hosts?.includes(name));
    return groups.length > 0 && groups.every((g) => !(this.groupOpen.get(g.label) ?? g.expanded ?? true));
  }

  /** probes hosts (all, or the named ones); a second call while one runs joins it */
  refresh(opts: { names?: string[]; manual?: boolean } = {}): Promise<void> {
    if (this.isRestricted) return Promise.resolve();
    if (opts.manual) this.declined.clear();
    if (this.refreshing && !opts.names) return this.refreshing;
    const concurrency = vscode.workspace.getConfiguration('fleet').get<number>('concurrency', 50);
    const run = (async () => {
      // a manual Refresh and a group just opened ask every named host; the timer skips closed groups
      const skipSsh = opts.manual || opts.names ? undefined : (n: string) => this.hidden(n);
      await this.model.refresh({ names: opts.names, concurrency, skipSsh });
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
    const states = [...this.model.states.values()];
    // the walkthrough's steps complete on these
    void vscode.commands.executeCommand('setContext', 'fleet.hasHosts', states.length > 0);
    void vscode.commands.executeCommand(
      'setContext',
      'fleet.hostsUp',
      states.some((h) => liveness(h) === 'up'),
    );
    if (states.length === 0) {
      this.status.hide(); // no inventory: nothing to count
      return;
    }
    if (this.isRestricted) {
      this.status.text = `$(shield) Fleet: ${states.length} hosts, not checked`;
      this.status.tooltip = restrictedMessage;
      this.status.backgroundColor = undefined;
      this.status.show();
      return;
    }
    const down = downHosts(states);
    this.status.text = `$(${down.length ? 'warning' : 'server'}) ${statusText(states)}`;
    this.status.backgroundColor = down.length ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.status.tooltip = down.length
      ? `Fleet: down: ${down.slice(0, 20).join(', ')}${down.length > 20 ? ` and ${down.length - 20} more` : ''}. Click to show them.`
      : 'Fleet: every host answers';
    this.status.command = 'fleet.showDownHosts';
    this.status.show();
  }

  dispose(): void {
    clearInterval(this.timer);
    clearTimeout(this.debounce);
    this.changed.dispose();
  }
}
