// Agent-side commands: Install Agent on a host, Deploy Zip… to hosts (from a host row or a .zip
// in the Explorer), and a package's Start/Stop/Restart/Rollback/Logs.
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { loadAgentBundle } from '../../core/agentInstall/agentBundle';
import { deploySummary, deployToHosts } from '../../core/agentInstall/fanout';
import { runtimeSourceFor } from '../../core/agentInstall/runtimeCache';
import { defaultCacheDir } from '../../core/cacheDir';
import { errorMessage } from '../../core/errors';
import type { TreeNode } from '../../core/fleetView/treeModel';
import { mapLimit } from '../../core/limit';
import type { PackageStatus } from '../../core/protocol/agent';
import type { HostsProvider } from '../hostsProvider';
import type { Session } from '../session';
import type { PackageNames } from '../rollout/packageNames';
import { agentMark, askAnswers, remember } from './deployPicks';
import { targetHosts } from './pickHosts';

/**
 * Install Agent and Update Agent: the CLI's `fleet agent deploy` on the chosen hosts (the runtime
 * fetched once into the user's cache), with a progress notification that names each host's step.
 * Resolves the hosts where the agent now runs the bundled build.
 */
export async function installAgent(
  session: Session,
  provider: HostsProvider,
  agentJs: string,
  log: vscode.LogOutputChannel,
  node?: TreeNode,
  verb: 'install' | 'update' = 'install',
  nodes?: readonly TreeNode[],
): Promise<string[]> {
  const names = await targetHosts(
    provider,
    verb === 'install' ? 'Install the Fleet agent on' : 'Update the Fleet agent on',
    node,
    nodes,
  );
  if (!names?.length) return [];
  const hosts = names.map((n) => provider.model.host(n)).filter((h) => h !== undefined);
  const done: string[] = [];
  await vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: `Fleet: ${verb === 'install' ? 'installing' : 'updating'} the agent`,
      cancellable: true,
    },
    async (progress, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      const runtime = runtimeSourceFor({ log: (m) => (log.info(m), progress.report({ message: m })) });
      const bundle = loadAgentBundle(agentJs, defaultCacheDir());
      const results = await deployToHosts(
        session.pool,
        hosts.map((h) => h.endpoint),
        bundle,
        {
          runtime,
          concurrency: vscode.workspace.getConfiguration('fleet').get<number>('concurrency', 50),
          signal: abort.signal,
          onProgress: (host, m) => {
            log.info(`${host}: ${m}`);
            progress.report({ message: `${host}: ${m}` });
          },
          hostKeys: { checker: session.checker, ask: provider.prompt },
          onOutcome: (r) => {
            if (r.ok) {
              done.push(r.host);
              log.info(`${r.host}: ${r.value.outcome} ${r.value.agent}${r.value.notes.map((n) => `; ${n}`).join('')}`);
            } else log.error(`${r.host}: ${errorMessage(r.error)}`);
          },
        },
      );
      const failed = results.filter((r) => !r.ok);
      const summary = deploySummary(results);
      if (failed.length)
        void vscode.window.showErrorMessage(
          `Fleet: ${summary}. ${failed.map((r) => `${r.host}: ${r.ok ? '' : errorMessage(r.error)}`).join(' ')}`,
        );
      else void vscode.window.showInformationMessage(`Fleet: ${summary}`);
    },
  );
  await provider.refresh({ names });
  // the hosts' names in the order picked, not the order they finished
  return names.filter((n) => done.includes(n));
}

export interface DeployArgs {
  zip?: string;
  hosts?: string[];
  name?: string;
  binary?: string;
  args?: string[];
}

/**
 * Deploys a zip through the hosts' agents: the zip, the hosts (marked by their agent), then the
 * package name, the program and its arguments as pick lists (deployPicks.ts), remembered per zip.
 * Resolves each host's status or error.
 */
export async function deployZip(
  session: Session,
  provider: HostsProvider,
  given: DeployArgs = {},
  node?: TreeNode,
  uri?: vscode.Uri,
  nodes?: readonly TreeNode[],
  memento?: vscode.Memento,
  names?: PackageNames,
): Promise<Array<{ host: string; status?: PackageStatus; error?: string }>> {
  const zip =
    given.zip ??
    uri?.fsPath ??
    (
      await vscode.window.showOpenDialog({
        canSelectMany: false,
        filters: { 'Zip packages': ['zip'] },
        title: 'Package to deploy',
      })
    )?.[0]?.fsPath;
  if (!zip) return [];
  const hosts =
    given.hosts ?? (await targetHosts(provider, `Deploy ${basename(zip)} to`, node, nodes, (h) => agentMark(h)));
  if (!hosts?.length) return [];
  const answers = await askAnswers(provider, zip, hosts, memento, given);
  if (!answers) return [];
  const { name, binary, args } = answers;
  await remember(memento, zip, answers);
  void names?.learnFile(zip).catch(() => undefined);
  const results = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Fleet: deploying ${name}` },
    (progress) =>
      mapLimit(hosts, 8, async (host) => {
        const h = provider.model.host(host);
        if (!h) return { host, error: 'not in the Fleet view' };
        try {
          const status = await provider.model.agent(h).install(name, zip, { binary, args });
          progress.report({ message: `${host}: ${status.state}` });
          return { host, status };
        } catch (e) {
          return { host, error: errorMessage(e) };
        }
      }),
  );
  const failed = results.filter((r) => r.error);
  if (failed.length)
    void vscode.window.showErrorMessage(
      `Fleet: deploy of ${name} failed on ${failed.map((f) => `${f.host} (${f.error})`).join('; ')}`,
    );
  else
    void vscode.window.showInformationMessage(
      `Fleet: ${name} running on ${results.length} host${results.length === 1 ? '' : 's'}`,
    );
  await provider.refresh({ names: hosts });
  return results;
}

/** start/stop/restart/rollback on the package rows it was invoked on (several with a multi-selection) */
export async function packageAction(
  provider: HostsProvider,
  op: 'start' | 'stop' | 'restart' | 'rollback',
  node: TreeNode,
  nodes?: readonly TreeNode[],
): Promise<PackageStatus | undefined> {
  const rows = (nodes && nodes.length > 1 ? nodes : [node]).filter((n) => n.host && n.pkg);
  let last: PackageStatus | undefined;
  await mapLimit(rows, 8, async (n) => {
    const h = provider.model.host(n.host!);
    if (!h) return;
    try {
      const s = await provider.model.agent(h).action(n.pkg!, op);
      if (s.note) void vscode.window.showInformationMessage(`Fleet: ${n.pkg} on ${h.name}: ${s.note}`);
      if (n === node) last = s;
      else last ??= s;
    } catch (e) {
      void vscode.window.showErrorMessage(`Fleet: ${op} ${n.pkg} on ${h.name}: ${errorMessage(e)}`);
    }
  });
  await provider.refresh({ names: [...new Set(rows.map((n) => n.host!))] });
  return last;
}

export { splitArgs } from './deployPicks';
