// Fleet for VS Code: the Hosts tree, Run Command, Deploy Zip, Install/Update Agent, package actions,
// Scan Network, SSH terminals, and the status bar. Everything runs through core/; this file wires.
import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import { agentBuildId } from '../core/agentInstall/agentBundle';
import { errorMessage } from '../core/errors';
import type { TreeNode } from '../core/fleetView/treeModel';
import { deployZip, installAgent, packageAction, packageLogs, type DeployArgs } from './commands/agentCommands';
import { runCommand, type RunArgs } from './commands/runCommand';
import { runExpectScript, type ExpectArgs } from './commands/runExpect';
import { scanNetwork } from './commands/scanNetwork';
import { openSshTerminal } from './commands/sshTerminal';
import { modalHostKeyPrompt, type HostKeyPrompt } from './hostKeyPrompt';
import { HostsProvider } from './hostsProvider';
import { RolloutManager } from './rollout/rolloutManager';
import { PanelMemory } from './rollout/panelMemory';
import { RolloutPanel, viewType } from './rollout/rolloutPanel';
import { Session } from './session';

/** what activate() returns: for the extension's own tests (and other extensions) */
export interface FleetApi {
  provider: HostsProvider;
  rollouts: RolloutManager;
  session: Session;
  setHostKeyPrompt(p: HostKeyPrompt): void;
  activationMs: number;
}

export function activate(context: vscode.ExtensionContext): FleetApi {
  const started = performance.now();
  const log = vscode.window.createOutputChannel('Fleet', { log: true });
  const runOutput = vscode.window.createOutputChannel('Fleet: Run');
  const status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 10);
  status.command = 'fleet.hosts.focus';
  const session = new Session(log, context.secrets);
  const provider = new HostsProvider(session, status, modalHostKeyPrompt);
  const view = vscode.window.createTreeView('fleet.hosts', { treeDataProvider: provider, showCollapseAll: true });
  context.subscriptions.push(log, runOutput, status, session, provider, view);
  context.subscriptions.push(view.onDidChangeVisibility((e) => provider.setVisible(e.visible)));
  if (view.visible) provider.setVisible(true);

  const agentJs = context.asAbsolutePath('dist/agent.js');
  const cmd = (id: string, fn: (...args: never[]) => unknown) =>
    context.subscriptions.push(
      vscode.commands.registerCommand(id, async (...args: never[]) => {
        try {
          return await fn(...args);
        } catch (e) {
          log.error(`${id}: ${errorMessage(e)}`);
          void vscode.window.showErrorMessage(`Fleet: ${errorMessage(e)}`);
          return undefined;
        }
      }),
    );
  cmd('fleet.refresh', () => provider.refresh({ manual: true }));
  cmd('fleet.runCommand', (a?: TreeNode | RunArgs) =>
    runCommand(session, provider, runOutput, isNode(a) ? { node: a } : (a ?? {})),
  );
  cmd('fleet.runExpect', (a?: TreeNode | ExpectArgs) =>
    runExpectScript(session, provider, runOutput, isNode(a) ? { node: a } : (a ?? {})),
  );
  cmd('fleet.deployZip', (a?: TreeNode | DeployArgs) =>
    deployZip(session, provider, isNode(a) ? {} : (a ?? {}), isNode(a) ? a : undefined),
  );
  cmd('fleet.deployZipFromExplorer', (uri?: vscode.Uri) => deployZip(session, provider, {}, undefined, uri));
  cmd('fleet.installAgent', (n?: TreeNode) => installAgent(session, provider, agentJs, log, n));
  cmd('fleet.updateAgent', (n?: TreeNode) => installAgent(session, provider, agentJs, log, n, 'update'));
  void agentBuildId(agentJs).then(
    (id) => provider.setBundledAgent(id),
    (e) => log.warn(`cannot read the bundled agent ${agentJs}: ${errorMessage(e)}`),
  );
  cmd('fleet.openTerminal', (n: TreeNode) => openSshTerminal(session, provider, n));
  cmd('fleet.scanNetwork', (a?: { cidr?: string; user?: string; port?: number }) => scanNetwork(session, provider, a));
  for (const op of ['start', 'stop', 'restart', 'rollback'] as const)
    cmd(`fleet.package.${op}`, (n: TreeNode) => packageAction(provider, op, n));
  cmd('fleet.package.logs', (n: TreeNode) => packageLogs(provider, n));

  const memory = new PanelMemory(context.workspaceState);
  const rollouts = new RolloutManager(session, log, memory);
  context.subscriptions.push(rollouts);
  cmd('fleet.openRolloutPanel', (uri?: vscode.Uri) => {
    const file = uri?.fsPath ?? vscode.window.activeTextEditor?.document.uri.fsPath;
    if (!file || !file.endsWith('.json')) throw new Error('open a service.json first (or right-click one)');
    return RolloutPanel.show(context, rollouts, memory, file);
  });
  context.subscriptions.push(
    vscode.window.registerWebviewPanelSerializer(viewType, {
      async deserializeWebviewPanel(panel, state: { file?: string } | undefined) {
        RolloutPanel.revive(context, rollouts, memory, panel, state);
      },
    }),
  );
  // rollouts this window ran when it went away (a reload, a crash): show them, waiting for Resume,
  // whether or not VS Code restores their panels
  for (const file of memory.running()) {
    if (existsSync(file)) RolloutPanel.show(context, rollouts, memory, file, true);
    else void memory.setRunning(file, false);
  }

  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration('fleet')) return;
      if (e.affectsConfiguration('fleet.knownHostsFile') || e.affectsConfiguration('fleet.hostKeyPolicy'))
        session.reset();
      provider.reloadHosts();
      provider.setVisible(view.visible);
    }),
  );
  const watcher = vscode.workspace.createFileSystemWatcher('**/fleet.json');
  context.subscriptions.push(
    watcher,
    watcher.onDidChange(() => provider.reloadHosts()),
    watcher.onDidCreate(() => provider.reloadHosts()),
  );

  const activationMs = performance.now() - started;
  log.info(`activated in ${activationMs.toFixed(1)} ms; ${provider.model.list().length} hosts`);
  return { provider, rollouts, session, setHostKeyPrompt: (p) => (provider.prompt = p), activationMs };
}

export function deactivate(): void {
  // subscriptions dispose the session (and its SSH connections)
}

function isNode(a: unknown): a is TreeNode {
  return typeof a === 'object' && a !== null && 'contextValue' in a && 'id' in a;
}
