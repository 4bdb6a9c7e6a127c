// Extension-host tests: the real `vscode` API, the extension loaded from source, a real sshd
// fleet (started by test/vscode/run.ts, described in the workspace's test-context.json).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { NewHostKey } from '../../../core/ssh/hostKeyPolicy';
import type { HostResult } from '../../../core/ssh/fanout';
import type { FleetApi } from '../../../extension/extension';

interface TestContext {
  hosts: Array<{ name: string; address: string }>;
  zip: string;
  webPort: number;
}

function httpText(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let b = '';
      res.on('data', (d) => (b += d));
      res.on('end', () => resolve(b));
    }).on('error', reject);
  });
}

export function fleetTests(): void {
  describe('Fleet extension (real VS Code, real sshd)', () => {
    let api: FleetApi;
    let ctx: TestContext;
    const prompts: string[][] = [];

    before(async () => {
      const ws = vscode.workspace.workspaceFolders![0].uri.fsPath;
      ctx = JSON.parse(readFileSync(join(ws, 'test-context.json'), 'utf8'));
      const ext = vscode.extensions.getExtension('fleet-dev.fleet');
      assert.ok(ext, 'the extension is installed');
      api = await ext.activate();
      api.setHostKeyPrompt(async (keys: NewHostKey[]) => {
        prompts.push(keys.map((k) => k.name).sort());
        return keys.map((k) => k.name);
      });
    });

    it('asks once for every new host key, then lists the hosts with liveness and uname', async () => {
      await vscode.commands.executeCommand('fleet.refresh');
      assert.equal(prompts.length, 1, `prompts: ${JSON.stringify(prompts)}`);
      assert.equal(prompts[0].length, ctx.hosts.length);
      const nodes = api.provider.getChildren();
      assert.deepEqual(nodes.map((n) => n.label), ctx.hosts.map((h) => h.name));
      for (const n of nodes) {
        assert.equal(n.contextValue, 'host.up');
        assert.match(n.description ?? '', /^Linux /);
        assert.deepEqual(n.icon, { id: 'circle-filled', color: 'testing.iconPassed' });
        assert.deepEqual(n.children!.map((c) => c.label), ['CPU', 'Memory', 'Agent']);
      }
      const item = api.provider.getTreeItem(nodes[0]);
      assert.ok(item.iconPath instanceof vscode.ThemeIcon);
      // a second refresh asks nothing: the keys are pinned
      await vscode.commands.executeCommand('fleet.refresh');
      assert.equal(prompts.length, 1);
    });

    it('Run Command returns per-host results and writes the grouped output', async () => {
      const names = ctx.hosts.map((h) => h.name);
      const results = (await vscode.commands.executeCommand('fleet.runCommand', { hosts: names, command: 'echo "hello from $(hostname)"' })) as HostResult[];
      assert.equal(results.length, names.length);
      for (const r of results) {
        assert.equal(r.exitCode, 0, r.error?.message);
        assert.match(r.stdout, /^hello from /);
      }
    });

    it('installs the agent on a host and deploys a zip through it', async () => {
      const node = api.provider.getChildren()[0];
      const installed = (await vscode.commands.executeCommand('fleet.installAgent', node)) as string[];
      assert.deepEqual(installed, [node.label]);
      const after = api.provider.getChildren()[0];
      assert.equal(after.contextValue, 'host.up.agent');
      const results = (await vscode.commands.executeCommand('fleet.deployZip', { zip: ctx.zip, hosts: [node.label], name: 'web', binary: 'web', args: ['--port', String(ctx.webPort), '--node', 'vscode-test'] })) as Array<{ status?: { state: string }; error?: string }>;
      assert.equal(results[0].error, undefined);
      assert.equal(results[0].status?.state, 'running');
      let body = '';
      for (let i = 0; i < 50 && !body; i++) {
        body = await httpText(`http://127.0.0.1:${ctx.webPort}/`).catch(() => '');
        if (!body) await new Promise((r) => setTimeout(r, 100));
      }
      assert.match(body, /Hello web from node vscode-test \(v1\)/);
      const pkgNode = api.provider.getChildren()[0].children!.find((c) => c.label === 'web');
      assert.equal(pkgNode?.contextValue, 'package.running');
      const stopped = (await vscode.commands.executeCommand('fleet.package.stop', pkgNode)) as { state: string };
      assert.equal(stopped.state, 'stopped');
    });

    it('activates quickly (its own work)', () => {
      assert.ok(api.activationMs < 1000, `activation took ${api.activationMs} ms`);
    });
  });
}
