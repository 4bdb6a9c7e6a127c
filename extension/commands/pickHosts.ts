// A multi-select pick of the hosts in the Fleet view (up hosts first).
import * as vscode from 'vscode';
import { liveness, shortUname } from '../../core/fleetView/treeModel';
import type { HostsProvider } from '../hostsProvider';

export async function pickHosts(provider: HostsProvider, title: string): Promise<string[] | undefined> {
  const states = [...provider.model.states.values()];
  if (states.length === 0) {
    void vscode.window.showWarningMessage(
      'Fleet: no hosts; add them to fleet.json (fleet.inventoryFile) or run Fleet: Scan Network…',
    );
    return undefined;
  }
  const items = states
    .sort((a, b) => Number(liveness(b) === 'up') - Number(liveness(a) === 'up'))
    .map((h) => ({
      label: h.name,
      description: h.probe?.ok ? shortUname(h.probe.probe.uname) : liveness(h),
      detail: h.address,
    }));
  const picked = await vscode.window.showQuickPick(items, { canPickMany: true, title, ignoreFocusOut: true });
  return picked?.map((p) => p.label);
}
