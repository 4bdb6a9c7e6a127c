// The first run: Create fleet.json (a commented template, opened in the editor, checked by the
// schema) and Import hosts from ~/.ssh/config (a pick of its Host aliases, added to fleet.json with
// its comments kept). Scan Network… and Try the demo fleet are their own commands.
import { existsSync, writeFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { addHostsToInventory, inventoryName, inventoryTemplate } from '../../core/inventory/editInventory';
import { SshConfig } from '../../core/ssh/sshConfig';
import type { HostsProvider } from '../hostsProvider';
import type { Session } from '../session';

function inventoryFileOrSay(session: Session): string | undefined {
  const file = session.inventoryPath();
  if (!file)
    void vscode.window.showWarningMessage('Fleet: open a folder first: its fleet.json holds your hosts.', {
      modal: false,
    });
  return file;
}

export async function createInventory(session: Session): Promise<string | undefined> {
  const file = inventoryFileOrSay(session);
  if (!file) return undefined;
  if (!existsSync(file)) writeFileSync(file, inventoryTemplate);
  await vscode.window.showTextDocument(vscode.Uri.file(file));
  return file;
}

export async function importSshConfig(
  session: Session,
  provider: HostsProvider,
  given?: string[],
): Promise<{ added: string[]; already: string[] } | undefined> {
  const file = inventoryFileOrSay(session);
  if (!file) return undefined;
  let aliases: string[];
  try {
    aliases = SshConfig.load().aliases();
  } catch (e) {
    void vscode.window.showErrorMessage(`Fleet: cannot read ~/.ssh/config: ${(e as Error).message}`);
    return undefined;
  }
  if (!aliases.length) {
    void vscode.window.showInformationMessage('Fleet: ~/.ssh/config names no host (only patterns, or nothing).');
    return undefined;
  }
  const chosen =
    given ??
    (
      await vscode.window.showQuickPick(
        aliases.map((a) => ({ label: a, picked: true })),
        { canPickMany: true, title: 'Hosts of ~/.ssh/config to add to fleet.json', ignoreFocusOut: true },
      )
    )?.map((p) => p.label);
  if (!chosen?.length) return undefined;
  const r = addHostsToInventory(
    file,
    chosen.map((a) => ({ name: inventoryName(a), host: a, groups: ['ssh-config'] })),
  );
  void vscode.window.showInformationMessage(
    r.added.length
      ? `Fleet: added ${r.added.length} host${r.added.length === 1 ? '' : 's'} to ${vscode.workspace.asRelativePath(file)}${r.already.length ? `; ${r.already.length} already there` : ''}.`
      : `Fleet: nothing new: ${r.already.length === 1 ? 'that host is' : 'those hosts are'} already in ${vscode.workspace.asRelativePath(file)}.`,
  );
  provider.reloadHosts();
  return r;
}
