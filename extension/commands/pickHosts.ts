// Which hosts a command acts on: the rows it was invoked on (several when the view has a multi-
// selection; a group row stands for its hosts), else a pick from the list (up hosts first) with
// the view's selection preselected: the view's title buttons and the palette ask, never guess.
import * as vscode from 'vscode';
import { shortUname, type TreeNode } from '../../core/fleetView/treeModel';
import { liveness, type HostState } from '../../core/hosts/hostState';
import type { HostsProvider } from '../hostsProvider';

/** the host names of tree rows: a host row its host, a group row its hosts, a package or stat row its host */
export function hostsOfNodes(nodes: readonly TreeNode[]): string[] {
  return [...new Set(nodes.flatMap((n) => n.hosts ?? (n.host ? [n.host] : [])))];
}

/**
 * `node` and `nodes` are what VS Code passes a context-menu command on a tree with
 * canSelectMany: the row clicked and every selected row.
 */
export async function targetHosts(
  provider: HostsProvider,
  title: string,
  node?: TreeNode,
  nodes?: readonly TreeNode[],
  mark?: HostMark,
): Promise<string[] | undefined> {
  const rows = nodes && nodes.length > 1 ? nodes : node ? [node] : [];
  const named = hostsOfNodes(rows);
  if (named.length) return named;
  return pickHosts(provider, title, hostsOfNodes(provider.selection()), mark);
}

/** how a command sees a host in the picker: a description, and whether it can act on it now (listed first) */
export type HostMark = (h: HostState) => { description: string; ready: boolean };

export async function pickHosts(
  provider: HostsProvider,
  title: string,
  preselect: string[] = [],
  mark?: HostMark,
): Promise<string[] | undefined> {
  const states = [...provider.model.states.values()];
  if (states.length === 0) {
    void vscode.window.showWarningMessage(
      'Fleet: no hosts yet. Add them with Create fleet.json or Scan Network… in the Fleet view.',
    );
    return undefined;
  }
  const ready = (h: HostState) => (mark ? mark(h).ready : liveness(h) === 'up');
  const items = states
    .sort((a, b) => Number(ready(b)) - Number(ready(a)))
    .map((h) => ({
      label: h.name,
      description: mark ? mark(h).description : h.probe?.ok ? shortUname(h.probe.probe.uname) : liveness(h),
      detail: h.address,
      picked: preselect.includes(h.name),
    }));
  const picked = await vscode.window.showQuickPick(items, { canPickMany: true, title, ignoreFocusOut: true });
  return picked?.map((p) => p.label);
}

/** one host, for commands that act on one (Open SSH Terminal from the palette) */
export async function pickOneHost(provider: HostsProvider, title: string): Promise<TreeNode | undefined> {
  const names = hostsOfNodes(provider.selection());
  const states = [...provider.model.states.values()].filter((h) => liveness(h) === 'up');
  if (!states.length) {
    void vscode.window.showWarningMessage('Fleet: no host is up yet.');
    return undefined;
  }
  const p = await vscode.window.showQuickPick(
    states
      .sort((a, b) => Number(names.includes(b.name)) - Number(names.includes(a.name)))
      .map((h) => ({ label: h.name, detail: h.address })),
    { title },
  );
  return p && { id: p.label, label: p.label, contextValue: 'host.up', host: p.label };
}

/** one package on one host (the package commands from the palette) */
export async function pickPackage(provider: HostsProvider, title: string): Promise<TreeNode | undefined> {
  const items = [...provider.model.states.values()].flatMap((h) =>
    Array.isArray(h.packages)
      ? h.packages.map((s) => ({ label: `${s.name} @ ${h.name}`, description: s.state, host: h.name, pkg: s.name }))
      : [],
  );
  if (!items.length) {
    void vscode.window.showWarningMessage('Fleet: no packages yet: Deploy Zip… puts one on hosts with an agent.');
    return undefined;
  }
  const p = await vscode.window.showQuickPick(items, { title });
  return p && { id: `${p.host}/pkg/${p.pkg}`, label: p.pkg, contextValue: 'package', host: p.host, pkg: p.pkg };
}
