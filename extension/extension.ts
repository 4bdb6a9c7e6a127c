// Fleet for VS Code: the Hosts tree, Run Command, Deploy Zip, Install/Update Agent, package actions,
// Scan Network, SSH terminals, and the status bar. Everything runs through core/; this file wires.
import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import { agentBuildId } from '../core/agentInstall/agentBundle';
import { editorAdvice, setAdvice } from '../core/advice';
import { errorMessage } from '../core/errors';
import type { TreeNode } from '../core/fleetView/treeModel';
import { deployZip, installAgent, packageAction, type DeployArgs } from './commands/agentCommands';
import { runCommand, type RunArgs } from './commands/runCommand';
import { runExpectScript, type ExpectArgs } from './commands/runExpect';
import { scanNetwork } from './commands/scanNetwork';
import { openSshTerminal } from './commands/sshTerminal';
import { modalHostKeyPrompt, type HostKeyPrompt } from './hostKeyPrompt';
import { createInventory, importSshConfig } from './commands/firstRun';
import {
  copyAddresses,
  removeHosts,
  replaceHostKey,
  retryHosts,
  revealInInventory,
  showDownHosts,
} from './commands/hostActions';
import { setConfirm, type Confirm } from './confirm';
import { pickOneHost, pickPackage } from './commands/pickHosts';
import { DemoFleet } from './demoFleet';
import { HostsProvider } from './hostsProvider';
import { prometheusSource, setPrometheusCredentials } from './prometheusSource';
import { LogsDocuments } from './logsDocument';
import { RolloutManager } from './rollout/rolloutManager';
import { PanelMemory } from './rollout/panelMemory';
import { PackageNames } from './rollout/packageNames';
import { ServiceDiagnostics } from './rollout/serviceDiagnostics';
import { RolloutPanel, viewType } from './rollout/rolloutPanel';
import { Session } from './session';
import { isTrusted, refusals, requireTrust } from './trust';

/** what activate() returns: for the extension's own tests (and other extensions) */
export interface FleetApi {
  provider: HostsProvider;
  rollouts: RolloutManager;
  session: Session;
  demo: DemoFleet;
  setHostKeyPrompt(p: HostKeyPrompt): void;
  /** answers Fleet's modal questions (replace a host key, remove a host, stop the demo); undefined: ask a person */
  setConfirm(c: Confirm | undefined): void;
  activationMs: number;
  /** the actions refused because the folder is not trusted (Restricted Mode), in order */
  restrictedRefusals: readonly string[];
}

export function activate(context: vscode.ExtensionContext): FleetApi {
  const started = performance.now();
  setAdvice(editorAdvice); // errors say what to do in the editor, not which CLI flag to pass
  const log = vscode.window.createOutputChannel('Fleet', { log: true });
  const runOutput = vscode.window.createOutputChannel('Fleet: Run');
  const status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 10);
  status.command = 'fleet.showDownHosts';
  const session = new Session(log, context.secrets);
  const provider = new HostsProvider(session, status, modalHostKeyPrompt);
  const view = vscode.window.createTreeView('fleet.hosts', {
    treeDataProvider: provider,
    showCollapseAll: true,
    canSelectMany: true,
  });
  provider.view = view;
  context.subscriptions.push(log, runOutput, status, session, provider, view);
  context.subscriptions.push(view.onDidChangeVisibility((e) => provider.setVisible(e.visible)));
  context.subscriptions.push(
    view.onDidExpandElement((e) => provider.setGroupOpen(e.element, true)),
    view.onDidCollapseElement((e) => provider.setGroupOpen(e.element, false)),
  );
  // stats from Prometheus when fleet.prometheus.url is set; a bad setting is said once, then SSH serves
  const usePrometheus = async () => {
    try {
      provider.model.prometheus = await prometheusSource(context.secrets);
    } catch (e) {
      provider.model.prometheus = undefined;
      void vscode.window.showWarningMessage(`Fleet: Prometheus not used: ${errorMessage(e)}`);
    }
  };
  // in Restricted Mode nothing is asked of Prometheus or the hosts until the folder is trusted
  provider.restricted = !isTrusted();
  if (isTrusted()) void usePrometheus().finally(() => view.visible && provider.setVisible(true));

  const agentJs = context.asAbsolutePath('dist/agent.js');
  // packages by the file names a person knows them by (the rollout panel, Deploy Zip)
  const names = new PackageNames(context.globalState);
  // `needs`: what the command does, when it connects, starts or writes: refused in Restricted Mode
  const cmd = (id: string, fn: (...args: never[]) => unknown, needs?: string) =>
    context.subscriptions.push(
      vscode.commands.registerCommand(id, async (...args: never[]) => {
        try {
          if (needs && !requireTrust(needs)) return undefined;
          return await fn(...args);
        } catch (e) {
          log.error(`${id}: ${errorMessage(e)}`);
          void vscode.window.showErrorMessage(`Fleet: ${errorMessage(e)}`);
          return undefined;
        }
      }),
    );
  cmd('fleet.refresh', () => provider.refresh({ manual: true }), 'Refresh (checking the hosts)');
  cmd('fleet.setPrometheusCredentials', async () => {
    await setPrometheusCredentials(context.secrets);
    await usePrometheus();
    await provider.refresh({ manual: true });
  });
  // commands on tree rows get (the row clicked, every selected row): the view allows a multi-selection
  cmd(
    'fleet.runCommand',
    (a?: TreeNode | RunArgs, all?: TreeNode[]) =>
      runCommand(session, provider, runOutput, isNode(a) ? { node: a, nodes: all } : (a ?? {})),
    'Run Command',
  );
  cmd(
    'fleet.runExpect',
    (a?: TreeNode | ExpectArgs, all?: TreeNode[]) =>
      runExpectScript(session, provider, runOutput, isNode(a) ? { node: a, nodes: all } : (a ?? {})),
    'Run Expect Script',
  );
  cmd(
    'fleet.deployZip',
    (a?: TreeNode | DeployArgs, all?: TreeNode[]) =>
      deployZip(
        session,
        provider,
        isNode(a) ? {} : (a ?? {}),
        isNode(a) ? a : undefined,
        undefined,
        all,
        context.workspaceState,
        names,
      ),
    'Deploy Zip',
  );
  // a view-title button gets the focused row (and the selection) as arguments: it asks, whatever has focus
  cmd('fleet.view.runCommand', () => runCommand(session, provider, runOutput, {}), 'Run Command');
  cmd('fleet.filterHosts', async (given?: unknown) => {
    const value =
      (typeof given === 'string' ? given : undefined) ??
      (await vscode.window.showInputBox({
        title: 'Filter the Fleet view',
        prompt:
          'Words every shown host matches: part of a name or address, group:NAME, state:down|up|unknown, agent:yes|no',
        value: provider.filter?.text ?? '',
      }));
    if (value !== undefined) provider.setFilter(value);
  });
  cmd('fleet.clearFilter', () => provider.setFilter(undefined));
  cmd(
    'fleet.deployZipFromExplorer',
    (uri?: vscode.Uri) => deployZip(session, provider, {}, undefined, uri, undefined, context.workspaceState, names),
    'Deploy Zip',
  );
  cmd(
    'fleet.installAgent',
    (n?: TreeNode, all?: TreeNode[]) => installAgent(session, provider, agentJs, log, n, 'install', all),
    'Install Agent',
  );
  cmd(
    'fleet.updateAgent',
    (n?: TreeNode, all?: TreeNode[]) => installAgent(session, provider, agentJs, log, n, 'update', all),
    'Update Agent',
  );
  void agentBuildId(agentJs).then(
    (id) => provider.setBundledAgent(id),
    (e) => log.warn(`cannot read the bundled agent ${agentJs}: ${errorMessage(e)}`),
  );
  cmd(
    'fleet.openTerminal',
    async (n?: TreeNode) => {
      const node = n ?? (await pickOneHost(provider, 'Open an SSH terminal on'));
      return node && openSshTerminal(session, provider, node);
    },
    'Open SSH Terminal',
  );
  cmd(
    'fleet.scanNetwork',
    (a?: { cidr?: string; user?: string; port?: number }) => scanNetwork(session, provider, isNode(a) ? undefined : a),
    'Scan Network',
  );
  for (const op of ['start', 'stop', 'restart', 'rollback'] as const) {
    const title = `${op[0].toUpperCase()}${op.slice(1)}`;
    cmd(
      `fleet.package.${op}`,
      async (n?: TreeNode, all?: TreeNode[]) => {
        const node = n ?? (await pickPackage(provider, `${title} a package`));
        return node && packageAction(provider, op, node, all);
      },
      `${title} Package`,
    );
  }
  // a host that is down, or whose key changed: its row's menu
  cmd('fleet.retryHost', (n?: TreeNode, all?: TreeNode[]) => retryHosts(provider, n, all), 'Retry (checking the host)');
  cmd('fleet.revealHost', (n?: TreeNode) => revealInInventory(session, provider, n));
  cmd('fleet.copyAddress', (n?: TreeNode, all?: TreeNode[]) => copyAddresses(provider, n, all));
  cmd(
    'fleet.removeHost',
    (n?: TreeNode, all?: TreeNode[]) => removeHosts(session, provider, n, all),
    'Remove from fleet.json',
  );
  cmd('fleet.replaceHostKey', (n?: TreeNode) => replaceHostKey(session, provider, n), 'Replace Pinned Host Key');
  cmd('fleet.showDownHosts', () => showDownHosts(provider));
  const logs = new LogsDocuments(provider);
  context.subscriptions.push(logs);
  cmd(
    'fleet.package.logs',
    async (n?: TreeNode) => {
      const node = n ?? (await pickPackage(provider, 'Show the logs of'));
      return node?.host && node.pkg ? logs.open(node.host, node.pkg) : undefined;
    },
    'Show Logs',
  );
  cmd('fleet.logs.refresh', () => logs.refresh(), 'Refresh Logs');
  cmd('fleet.logs.follow', () => logs.toggleFollow(), 'Follow Logs');
  cmd('fleet.logs.unfollow', () => logs.toggleFollow());

  const memory = new PanelMemory(context.workspaceState);
  const rollouts = new RolloutManager(session, log, memory, names);
  // Fleet's own checks of service.json in the Problems view (and of any file a rollout panel shows)
  const serviceChecks = new ServiceDiagnostics((f) => Boolean(RolloutPanel.get(f)));
  context.subscriptions.push(rollouts, serviceChecks);
  cmd(
    'fleet.openRolloutPanel',
    (uri?: vscode.Uri) => {
      const file = uri?.fsPath ?? vscode.window.activeTextEditor?.document.uri.fsPath;
      if (!file || !file.endsWith('.json')) throw new Error('open a service.json first (or right-click one)');
      const panel = RolloutPanel.show(context, rollouts, memory, file);
      serviceChecks.checkFile(file);
      return panel;
    },
    // the panel wraps a binary Src into .fleet/packages and asks the agents and the LB what runs
    'Open Rollout Panel',
  );
  context.subscriptions.push(
    vscode.window.registerWebviewPanelSerializer(viewType, {
      async deserializeWebviewPanel(panel, state: { file?: string } | undefined) {
        // a panel left open before: in Restricted Mode it is closed, not revived (it would load and write)
        if (!isTrusted()) return panel.dispose();
        RolloutPanel.revive(context, rollouts, memory, panel, state);
      },
    }),
  );
  // rollouts this window ran when it went away (a reload, a crash): show them, waiting for Resume,
  // whether or not VS Code restores their panels
  for (const file of isTrusted() ? memory.running() : []) {
    if (existsSync(file)) RolloutPanel.show(context, rollouts, memory, file, true);
    else void memory.setRunning(file, false);
  }

  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (!e.affectsConfiguration('fleet')) return;
      if (e.affectsConfiguration('fleet.knownHostsFile') || e.affectsConfiguration('fleet.hostKeyPolicy'))
        session.reset();
      // the new source first, so the refresh below already uses it
      if (e.affectsConfiguration('fleet.prometheus')) await usePrometheus();
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

  const demo = new DemoFleet(
    context,
    rollouts,
    provider,
    log,
    (file) => RolloutPanel.show(context, rollouts, memory, file),
    (file) => {
      RolloutPanel.get(file)?.panel.dispose();
      serviceChecks.clear(file);
    },
  );
  context.subscriptions.push(demo);
  stopDemo = () => demo.stop({ quiet: true });
  cmd('fleet.tryDemo', () => demo.start(), 'Try the Demo Fleet (it starts processes on this machine)');
  cmd('fleet.stopDemo', (o?: { ask?: boolean }) => demo.stop({ ask: Boolean(o && !isNode(o) && o.ask) }));
  cmd('fleet.createInventory', () => createInventory(session), 'Create fleet.json');
  cmd(
    'fleet.importSshConfig',
    (aliases?: string[]) => importSshConfig(session, provider, aliases),
    'Import Hosts from ~/.ssh/config',
  );
  // trusting the folder (VS Code's own prompt) turns Fleet on at once, without a reload
  context.subscriptions.push(
    vscode.workspace.onDidGrantWorkspaceTrust(async () => {
      provider.restricted = false;
      await usePrometheus();
      provider.setVisible(view.visible);
    }),
  );

  const activationMs = performance.now() - started;
  log.info(`activated in ${activationMs.toFixed(1)} ms; ${provider.model.list().length} hosts`);
  return {
    provider,
    rollouts,
    session,
    demo,
    setHostKeyPrompt: (p) => (provider.prompt = p),
    setConfirm,
    activationMs,
    restrictedRefusals: refusals,
  };
}

let stopDemo: (() => Promise<unknown>) | undefined;

/** VS Code waits for this: the demo fleet's processes must not outlive the window */
export async function deactivate(): Promise<void> {
  await stopDemo?.();
  // subscriptions dispose the session (and its SSH connections)
}

function isNode(a: unknown): a is TreeNode {
  return typeof a === 'object' && a !== null && 'contextValue' in a && 'id' in a;
}
