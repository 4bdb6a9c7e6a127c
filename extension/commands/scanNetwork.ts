// Fleet: Scan Network… — a CIDR, progress; the addresses resolved with the user's ssh_config, as
// fleet scan resolves them; new host keys asked about once (core/targets/scan.ts: those trusted are
// logged in again), and the hosts that answer SSH added to fleet.json; the message says what changed.
import * as vscode from 'vscode';
import { errorMessage } from '../../core/errors';
import { checkScanSize, parseCidr } from '../../core/inventory/cidr';
import { addHostsToInventory, inventoryName } from '../../core/inventory/editInventory';
import { scan, type ScanRecord } from '../../core/targets/scan';
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
  // hosts whose new key was asked about once, at the end, trusted and logged in again
  const trustedHosts = new Set<string>();
  const records = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Fleet: scanning ${cidrText}`, cancellable: true },
    async (progress, token) => {
      const ac = new AbortController();
      token.onCancellationRequested(() => ac.abort());
      let n = 0;
      return scan(session.pool, [cidr], {
        // as fleet scan resolves them: the user's ssh_config applies (a Host 10.0.0.* block's user, key, jump)
        endpoint: (a) => session.endpointFor(a, { user, port: given?.port }),
        signal: ac.signal,
        hostKeys: { checker: session.checker, ask: provider.prompt },
        onRecord: () => progress.report({ message: `${++n}/${cidr.size}`, increment: 100 / cidr.size }),
        onTrusted: (host) => trustedHosts.add(host),
      });
    },
  );
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
  const afterTrust = found.filter((r) => trustedHosts.has(r.Host)).length;
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
