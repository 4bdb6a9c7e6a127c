// Fleet: Scan Network… — a CIDR, progress; new host keys asked about once (those trusted are logged
// in again), and the hosts that answer SSH added to fleet.json; the message says what changed.
import * as vscode from 'vscode';
import { errorMessage } from '../../core/errors';
import { checkScanSize, parseCidr } from '../../core/inventory/cidr';
import { addHostsToInventory, inventoryName } from '../../core/inventory/editInventory';
import { scan, type ScanRecord } from '../../core/targets/scan';
import { resolveTarget } from '../../core/targets/resolve';
import { askAboutNewKeys } from '../../core/ssh/askOnce';
import type { HostsProvider } from '../hostsProvider';
import type { Session } from '../session';

export async function scanNetwork(
  session: Session,
  provider: HostsProvider,
  given?: { cidr?: string; user?: string; port?: number },
): Promise<ScanRecord[]> {
  const cidrText =
    given?.cidr ??
    (await vscode.window.showInputBox({
      prompt: 'Network to scan (IPv4 CIDR, at most a /16)',
      placeHolder: '10.0.0.0/24',
      ignoreFocusOut: true,
      validateInput: (v) => {
        try {
          checkScanSize([parseCidr(v)], false);
          return undefined;
        } catch (e) {
          return errorMessage(e);
        }
      },
    }));
  if (!cidrText) return [];
  const cidr = parseCidr(cidrText);
  const user = given?.user ?? vscode.workspace.getConfiguration('fleet').get<string>('defaultUser') ?? undefined;
  const file = session.inventoryPath();
  if (!file) throw new Error('open a folder first: found hosts are saved to its fleet.json');
  const records = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Fleet: scanning ${cidrText}`, cancellable: true },
    async (progress, token) => {
      const ac = new AbortController();
      token.onCancellationRequested(() => ac.abort());
      let n = 0;
      return scan(session.pool, [cidr], {
        endpoint: (a) => resolveTarget(a, null, { user, port: given?.port }),
        signal: ac.signal,
        onRecord: () => progress.report({ message: `${++n}/${cidr.size}`, increment: 100 / cidr.size }),
      });
    },
  );
  // hosts whose key was new: one question about all of them, then the trusted ones are logged in again
  let afterTrust = 0;
  if (session.checker.policy === 'ask') {
    const { trusted } = await askAboutNewKeys(session.checker, provider.prompt);
    const endpoint = (a: string) => resolveTarget(a, null, { user, port: given?.port });
    for (const r of records) {
      if (r.LoginSSH || !/unknown host key/.test(r.Error ?? '') || !trusted.includes(endpoint(r.Host).label)) continue;
      try {
        const x = await session.pool.exec(endpoint(r.Host), 'uname -a', { timeoutMs: 10_000 });
        Object.assign(r, { LoginSSH: true, Uname: x.exitCode === 0 ? x.stdout : '', Error: undefined });
        afterTrust++;
      } catch (e) {
        r.Error = errorMessage(e);
      }
    }
  }
  const found = records.filter((r) => r.LoginSSH);
  // added with its comments and layout kept; hosts already there are left alone
  const { added, already } = addHostsToInventory(
    file,
    found.map((r) => ({
      name: inventoryName(`host-${r.Host.replace(/\./g, '-')}`),
      host: r.Host,
      ...(given?.port ? { port: given.port } : {}),
      ...(user ? { user } : {}),
      groups: ['scanned'],
    })),
  );
  const pingOnly = records.filter((r) => r.Reachable && !r.LoginSSH).length;
  void vscode.window.showInformationMessage(
    [
      `Fleet: scanned ${records.length} addresses: ${found.length} answered SSH${afterTrust ? ` (${afterTrust} after you trusted their keys)` : ''}`,
      added.length
        ? `added ${added.length} to ${vscode.workspace.asRelativePath(file)}: ${added.slice(0, 5).join(', ')}${added.length > 5 ? ', …' : ''}`
        : `nothing new in ${vscode.workspace.asRelativePath(file)}`,
      ...(already.length ? [`${already.length} already there`] : []),
      ...(pingOnly ? [`${pingOnly} more answered ping but not SSH`] : []),
    ].join('; ') + '.',
  );
  if (added.length) provider.reloadHosts();
  await provider.refresh();
  return records;
}
