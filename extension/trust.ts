// Workspace Trust. A folder someone else wrote (a cloned repository) may hold a fleet.json and a
// service.json: in Restricted Mode Fleet lists fleet.json's hosts, but contacts none of them, starts
// nothing, writes nothing and uses no credential. Each refused action says so and offers to trust
// the folder; trusting it (VS Code's own prompt) turns everything on without a reload.
import * as vscode from 'vscode';

export const restrictedMessage =
  'Restricted Mode: this folder is not trusted, so Fleet lists its hosts but connects to none, runs nothing and writes nothing.';

/** the actions refused in Restricted Mode, in order (for the extension's tests, through its API) */
export const refusals: string[] = [];

export function isTrusted(): boolean {
  return vscode.workspace.isTrusted;
}

/**
 * True in a trusted workspace. Otherwise says what was not done and why, offers to manage trust,
 * and returns false: the caller does nothing.
 */
export function requireTrust(what: string): boolean {
  if (isTrusted()) return true;
  refusals.push(what);
  const manage = 'Manage Workspace Trust';
  void vscode.window
    .showWarningMessage(`Fleet: ${what} was not done. ${restrictedMessage} Trust the folder to use it.`, manage)
    .then((pick) => pick === manage && vscode.commands.executeCommand('workbench.trust.manage'));
  return false;
}
