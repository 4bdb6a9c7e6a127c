// Fleet: Run Expect Script… — the expect engine of `fleet expect` on hosts of the view: a script
// file (JSON), hosts, and each host's transcript (secrets masked) in the "Fleet: Run" output.
import * as vscode from 'vscode';
import { errorMessage } from '../../core/errors';
import type { TreeNode } from '../../core/fleetView/treeModel';
import { readJsonFile } from '../../core/jsonFile';
import { mapLimit } from '../../core/limit';
import { expectScriptSchema, ExpectError, runExpect } from '../../core/ssh/expect';
import type { HostsProvider } from '../hostsProvider';
import type { Session } from '../session';
import { targetHosts } from './pickHosts';

export interface ExpectArgs {
  node?: TreeNode;
  nodes?: readonly TreeNode[];
  script?: string;
  hosts?: string[];
}

export async function runExpectScript(
  session: Session,
  provider: HostsProvider,
  output: vscode.OutputChannel,
  args: ExpectArgs = {},
): Promise<Array<{ host: string; ok: boolean; transcript: string; error?: string }>> {
  const file =
    args.script ??
    (
      await vscode.window.showOpenDialog({
        canSelectMany: false,
        filters: { 'Expect scripts': ['json'] },
        title: 'Expect script',
      })
    )?.[0]?.fsPath;
  if (!file) return [];
  const script = readJsonFile(file, expectScriptSchema);
  const names = args.hosts ?? (await targetHosts(provider, 'Run the expect script on', args.node, args.nodes));
  if (!names?.length) return [];
  const results = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Fleet: expect ${vscode.workspace.asRelativePath(file)}` },
    () =>
      mapLimit(names, 8, async (n) => {
        const h = provider.model.host(n);
        if (!h) return { host: n, ok: false, transcript: '', error: 'not in the Fleet view' };
        try {
          const r = await session.pool.withClient(h.endpoint, (c) => runExpect(c, script, { host: n }));
          return { host: n, ok: true, transcript: r.transcript };
        } catch (e) {
          return {
            host: n,
            ok: false,
            transcript: e instanceof ExpectError ? e.transcript : '',
            error: errorMessage(e),
          };
        }
      }),
  );
  for (const r of results) {
    output.appendLine(`── ${r.host}: ${r.ok ? 'ok' : `FAILED: ${r.error}`}`);
    if (r.transcript) output.append(r.transcript.endsWith('\n') ? r.transcript : r.transcript + '\n');
  }
  output.show(true);
  return results;
}
