// Fleet: Scan Network… — a CIDR, progress, and the hosts that answer SSH added to fleet.json.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { errorMessage } from '../../core/errors';
import { checkScanSize, parseCidr } from '../../core/inventory/cidr';
import { scan, type ScanRecord } from '../../core/targets/scan';
import { resolveTarget } from '../../core/targets/resolve';
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
  const found = records.filter((r) => r.LoginSSH);
  const inv = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : { hosts: [] };
  inv.hosts ??= [];
  for (const r of found) {
    if (inv.hosts.some((h: { host: string }) => h.host === r.Host)) continue;
    inv.hosts.push({
      name: `host-${r.Host.replace(/\./g, '-')}`,
      host: r.Host,
      ...(given?.port ? { port: given.port } : {}),
      ...(user ? { user } : {}),
      groups: ['scanned'],
    });
  }
  writeFileSync(file, JSON.stringify(inv, null, 2) + '\n');
  void vscode.window.showInformationMessage(
    `Fleet: ${found.length} of ${records.length} addresses answered SSH; saved to ${file}`,
  );
  provider.reloadHosts();
  await provider.refresh();
  return records;
}
