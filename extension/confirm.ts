// A modal question before something that cannot be undone from the editor (replace a pinned host
// key, remove a host from fleet.json, stop the demo fleet): one place, so the extension's tests can
// answer it through the API (FleetApi.setConfirm), as they answer the host-key dialog.
import * as vscode from 'vscode';

/** asks; resolves true when the person chose `action` */
export type Confirm = (message: string, detail: string, action: string) => Promise<boolean>;

const modal: Confirm = async (message, detail, action) =>
  (await vscode.window.showWarningMessage(message, { modal: true, detail }, action)) === action;

let current: Confirm = modal;

export function confirm(message: string, detail: string, action: string): Promise<boolean> {
  return current(message, detail, action);
}

/** for tests: answer the questions instead of a person (undefined: the modal again) */
export function setConfirm(c: Confirm | undefined): void {
  current = c ?? modal;
}
