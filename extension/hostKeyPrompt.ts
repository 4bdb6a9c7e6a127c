// One modal for every host key met for the first time (never a prompt per host): trust all,
// choose some, or cancel. The chosen keys are pinned in known_hosts in OpenSSH format. Hosts trusted
// through a CA (@cert-authority) are never asked about; a host a CA line covers that showed a plain
// key instead of a certificate is marked, since its CA should have vouched for it.
import * as vscode from 'vscode';
import type { AskHostKeys } from '../core/ssh/askOnce';

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
