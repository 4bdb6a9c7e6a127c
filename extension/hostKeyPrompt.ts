// One modal for every host key met for the first time (never a prompt per host): trust all,
// choose some, or cancel. A host whose key changed gets its own flow: both fingerprints, what a
// change can mean, and the pinned key replaced only after the person confirms. The chosen keys are pinned in
// known_hosts in OpenSSH format. Hosts trusted
// through a CA (@cert-authority) are never asked about; a host a CA line covers that showed a plain
// key instead of a certificate is marked, since its CA should have vouched for it.
import * as vscode from 'vscode';
import type { AskHostKeys } from '../core/ssh/askOnce';
import { endpointKeyName, type SshEndpoint } from '../core/ssh/endpoint';
import { scanHostKey } from '../core/ssh/hostKeyScan';
import type { HostKeyChecker } from '../core/ssh/hostKeyPolicy';
import { confirm } from './confirm';
import { pinnedFor, replacePinnedKey } from './knownHostsReplace';

/** asks the user; resolves the known_hosts names to trust (empty: none) */
export type HostKeyPrompt = AskHostKeys;

export const modalHostKeyPrompt: HostKeyPrompt = async (keys) => {
  const caNote = '  (a @cert-authority line covers it, but it showed no certificate)';
  const detail = keys.map((k) => `${k.name}  ${k.type}  ${k.fingerprint}${k.certAuthority ? caNote : ''}`).join('\n');
  const all = `Trust ${keys.length === 1 ? 'It' : `All ${keys.length}`}`;
  const choose = 'Choose…';
  const pick = await vscode.window.showWarningMessage(
    `Fleet: ${keys.length} host${keys.length === 1 ? '' : 's'} with an unknown host key. Verify the fingerprints before trusting them.`,
    { modal: true, detail },
    all,
    ...(keys.length > 1 ? [choose] : []),
  );
  if (pick === all) return keys.map((k) => k.name);
  if (pick !== choose) return [];
  const items = await vscode.window.showQuickPick(
    keys.map((k) => ({ label: k.name, description: `${k.type} ${k.fingerprint}`, picked: false })),
    { canPickMany: true, title: 'Trust the host keys of', ignoreFocusOut: true },
  );
  return (items ?? []).map((i) => i.label);
};

/**
 * A host whose key changed: shows the pinned fingerprint and the one the host shows now (read
 * without logging in), says what a change can mean, and replaces the pinned key only when the
 * person confirms. Resolves what happened.
 */
export async function replaceChangedHostKey(
  checker: HostKeyChecker,
  ep: SshEndpoint,
  hostName: string,
): Promise<'replaced' | 'cancelled' | 'unchanged'> {
  const kh = checker.knownHosts;
  kh.reload();
  const name = endpointKeyName(ep);
  const now = await scanHostKey(ep, kh);
  if (now.status === 'error' || !now.key)
    throw new Error(`cannot read the host key of ${hostName}: ${now.error ?? 'no key'}`);
  if (now.status === 'known') {
    void vscode.window.showInformationMessage(
      `Fleet: ${hostName} shows the key pinned for it (${now.fingerprint}): nothing to replace.`,
    );
    return 'unchanged';
  }
  if (now.status === 'revoked')
    throw new Error(
      `${hostName} shows a key marked @revoked in ${kh.file} (${now.fingerprint}); Fleet will not pin it`,
    );
  const was = pinnedFor(kh, name, now.key);
  const detail = [
    `Pinned in ${kh.file}:`,
    ...was.map((w) => `  line ${w.lineNo}: ${w.type} ${w.fingerprint}`),
    `${hostName} (${name}) shows now:`,
    `  ${now.type} ${now.fingerprint}`,
    '',
    'A host key changes when a host is reinstalled or its keys are regenerated, or when someone is between you and it. ' +
      "Replace the pinned key only if you know why it changed: compare the new fingerprint with the host's own " +
      '(on its console: ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub).',
  ].join('\n');
  if (!(await confirm(`Fleet: the host key of ${hostName} changed.`, detail, 'Replace Pinned Key'))) return 'cancelled';
  replacePinnedKey(kh, name, now.key);
  return 'replaced';
}
