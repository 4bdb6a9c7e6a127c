// Fleet: Run Command… — on the rows it was invoked on (hosts, a group, a multi-selection) or hosts
// picked from the list (the view's selection preselected): an input box, progress with cancel,
// each line streamed into the "Fleet: Run" output as it arrives (`host | line`, as `fleet run
// --stream` prints it: a `tail -f` runs until Cancel), then identical outputs grouped per host list.
import * as vscode from 'vscode';
import type { TreeNode } from '../../core/fleetView/treeModel';
import { runOnHosts, type HostResult } from '../../core/ssh/fanout';
import { formatGroups } from '../../core/ssh/group';
import type { HostsProvider } from '../hostsProvider';
import type { Session } from '../session';
import { targetHosts } from './pickHosts';

export interface RunArgs {
  node?: TreeNode;
  /** every selected row, when invoked on a multi-selection */
  nodes?: readonly TreeNode[];
  /** for tests and other callers: skip the prompts */
  command?: string;
  hosts?: string[];
}

export async function runCommand(
  session: Session,
  provider: HostsProvider,
  output: vscode.OutputChannel,
  args: RunArgs = {},
): Promise<HostResult[] | undefined> {
  const names = args.hosts ?? (await targetHosts(provider, 'Run a command on', args.node, args.nodes));
  if (!names?.length) return undefined;
  const command =
    args.command ??
    (await vscode.window.showInputBox({
      prompt: `Command to run on ${names.length === 1 ? names[0] : `${names.length} hosts`} (run by the remote shell)`,
      placeHolder: 'uname -a',
      ignoreFocusOut: true,
    }));
  if (!command) return undefined;
  const endpoints = names.map((n) => provider.model.host(n)?.endpoint).filter((e) => e !== undefined);
  const timeout = vscode.workspace.getConfiguration('fleet').get<number>('commandTimeoutSeconds', 300);
  const concurrency = vscode.workspace.getConfiguration('fleet').get<number>('concurrency', 50);
  output.appendLine(`$ ${command}    # on ${names.join(', ')}  (${new Date().toLocaleTimeString()})`);
  output.show(true);
  const width = Math.min(24, Math.max(...names.map((n) => n.length)));
  const results = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Fleet: ${command}`, cancellable: true },
    async (progress, token) => {
      const ac = new AbortController();
      token.onCancellationRequested(() => ac.abort(new Error('cancelled')));
      let done = 0;
      return runOnHosts(session.pool, endpoints, command, {
        concurrency,
        timeoutMs: timeout * 1000,
        signal: ac.signal,
        hostKeys: { checker: session.checker, ask: provider.prompt },
        onLine: (host, _stream, line) => output.appendLine(`${host.padEnd(width)} | ${line}`),
        // each host once, with its final outcome (a host asked about its key is counted after the answer)
        onResult: () =>
          progress.report({ message: `${++done}/${endpoints.length} hosts`, increment: 100 / endpoints.length }),
      });
    },
  );
  output.appendLine(`── summary ──`);
  output.append(formatGroups(results));
  output.appendLine('');
  return results;
}
