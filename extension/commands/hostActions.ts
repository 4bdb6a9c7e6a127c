// What a person does with a host that is down or whose key changed, from its row: Retry (ask it
// again now), Reveal in fleet.json (the cursor on its entry), Copy Address, Remove (from fleet.json,
// after a question; undoable in the editor), and for a changed key the replace flow
// (hostKeyPrompt.ts). Each acts on the row clicked, or on every selected row.
import { lstatSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { findNodeAtLocation, modify, parseTree } from 'jsonc-parser';
import * as vscode from 'vscode';
import { type TreeNode } from '../../core/fleetView/treeModel';
import { liveness } from '../../core/hosts/hostState';
import { ownedDir, writeWholeSync } from '../../core/safeWrite';
import { confirm } from '../confirm';
import { replaceChangedHostKey } from '../hostKeyPrompt';
import type { HostsProvider } from '../hostsProvider';
import type { Session } from '../session';
import { hostsOfNodes } from './pickHosts';

/** the hosts a row command acts on: every selected row when the clicked one is among them */
function namesOf(
  node: TreeNode | undefined,
  nodes: readonly TreeNode[] | undefined,
  provider: HostsProvider,
): string[] {
  const rows = nodes && nodes.length > 1 ? nodes : node ? [node] : provider.selection();
  return hostsOfNodes(rows);
}

export async function retryHosts(
  provider: HostsProvider,
  node?: TreeNode,
  nodes?: readonly TreeNode[],
): Promise<string[]> {
  const names = namesOf(node, nodes, provider);
  if (names.length) await provider.refresh({ names, manual: true });
  return names;
}

export async function copyAddresses(
  provider: HostsProvider,
  node?: TreeNode,
  nodes?: readonly TreeNode[],
): Promise<string> {
  const text = namesOf(node, nodes, provider)
    .map((n) => provider.model.states.get(n)?.address)
    .filter(Boolean)
    .join('\n');
  if (text) {
    await vscode.env.clipboard.writeText(text);
    vscode.window.setStatusBarMessage(`Fleet: copied ${text.includes('\n') ? 'the addresses' : text}`, 3000);
  }
  return text;
}

/** the range of host `name`'s entry in fleet.json, if it is there */
function entryRange(doc: vscode.TextDocument, name: string): { index: number; range: vscode.Range } | undefined {
  const root = parseTree(doc.getText(), [], { allowTrailingComma: true });
  const hosts = root && findNodeAtLocation(root, ['hosts']);
  const index = hosts?.children?.findIndex((h) => findNodeAtLocation(h, ['name'])?.value === name) ?? -1;
  if (!hosts?.children || index < 0) return undefined;
  const n = hosts.children[index];
  return { index, range: new vscode.Range(doc.positionAt(n.offset), doc.positionAt(n.offset + n.length)) };
}

export async function revealInInventory(session: Session, provider: HostsProvider, node?: TreeNode): Promise<boolean> {
  const name = namesOf(node, undefined, provider)[0];
  const file = session.inventoryPath();
  if (!name) return false;
  if (!file) throw new Error('open a folder first: its fleet.json holds the hosts');
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
  const at = entryRange(doc, name);
  if (!at) {
    void vscode.window.showInformationMessage(
      `Fleet: ${name} is not in ${vscode.workspace.asRelativePath(file)}: it comes from ~/.ssh/config (fleet.includeSshConfigHosts).`,
    );
    return false;
  }
  await vscode.window.showTextDocument(doc, { selection: at.range });
  return true;
}

export async function removeHosts(
  session: Session,
  provider: HostsProvider,
  node?: TreeNode,
  nodes?: readonly TreeNode[],
): Promise<string[]> {
  const names = namesOf(node, nodes, provider);
  const file = session.inventoryPath();
  if (!names.length || !file) return [];
  const rel = vscode.workspace.asRelativePath(file);
  const list = names.map((n) => `${n} (${provider.model.states.get(n)?.address ?? '?'})`).join('\n');
  const what = names.length === 1 ? names[0] : `${names.length} hosts`;
  if (
    !(await confirm(
      `Fleet: remove ${what} from ${basename(file)}?`,
      `${list}\n\nTheir entries leave ${rel}; the rest of it stays as written. Their host keys stay in known_hosts, and nothing on the hosts changes.`,
      'Remove',
    ))
  )
    return [];
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
  if (doc.isDirty) throw new Error(`${rel} has unsaved changes: save or revert them first, then remove`);
  // one edit per host, from the last entry back, so the offsets of the ones before stay right
  const found = names
    .map((n) => ({ n, at: entryRange(doc, n) }))
    .filter((x) => x.at)
    .sort((a, b) => b.at!.index - a.at!.index);
  let text = doc.getText();
  for (const { at } of found) {
    const edits = modify(text, ['hosts', at!.index], undefined, {
      formattingOptions: { insertSpaces: true, tabSize: 2 },
    });
    for (const e of edits) text = text.slice(0, e.offset) + e.content + text.slice(e.offset + e.length);
  }
  // written as Fleet writes fleet.json elsewhere (never through a link); an open editor reloads it
  writeWholeSync(join(ownedDir(dirname(file)), basename(file)), text, modeOf(file));
  provider.reloadHosts(false);
  return found.map((x) => x.n);
}

export async function replaceHostKey(session: Session, provider: HostsProvider, node?: TreeNode): Promise<string> {
  const name = namesOf(node, undefined, provider)[0];
  const h = name ? provider.model.host(name) : undefined;
  if (!h) return 'cancelled';
  const r = await replaceChangedHostKey(session.checker, h.endpoint, name);
  if (r === 'replaced') {
    await provider.refresh({ names: [name], manual: true });
    void vscode.window.showInformationMessage(`Fleet: the new host key of ${name} is pinned.`);
  }
  return r;
}

/** the status bar's click: the hosts that are down, in the view, filtered to them */
export async function showDownHosts(provider: HostsProvider): Promise<void> {
  const down = [...provider.model.states.values()].some((h) => liveness(h) === 'down');
  provider.setFilter(down ? 'state:down' : undefined);
  await vscode.commands.executeCommand('fleet.hosts.focus');
}

function modeOf(file: string): number {
  try {
    return lstatSync(file).mode & 0o777;
  } catch {
    return 0o644;
  }
}
