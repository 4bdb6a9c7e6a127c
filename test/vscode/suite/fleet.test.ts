// Extension-host tests: the real `vscode` API, the extension loaded from source, a real sshd
// fleet (started by test/vscode/run.ts, described in the workspace's test-context.json).
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { NewHostKey } from '../../../core/ssh/hostKeyPolicy';
import type { HostResult } from '../../../core/ssh/fanout';
import type { FleetApi } from '../../../extension/extension';
import type { PanelState } from '../../../webviews/rollout/protocol';

interface TestContext {
  hosts: Array<{ name: string; address: string }>;
  zip: string;
  webPort: number;
  /** service.json of a local fleet (3 agents + built-in LB) */
  service: string;
  proxy: string;
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

interface PanelHandle {
  lastPosted?: { state: PanelState };
  panel: vscode.WebviewPanel;
}

/** opens the rollout panel of a file and waits until its webview said ready and got a state that passes `until` */
async function openPanel(file: string, until: (s: PanelState) => boolean = () => true): Promise<PanelHandle> {
  const panel = (await vscode.commands.executeCommand('fleet.openRolloutPanel', vscode.Uri.file(file))) as PanelHandle;
  for (let i = 0; i < 300 && !(panel.lastPosted && until(panel.lastPosted.state)); i++)
    await new Promise((r) => setTimeout(r, 100));
  assert.ok(panel.lastPosted, `the webview of ${file} never said ready within 30 s`);
  return panel;
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
      console.log(`  (the extension's activate() took ${api.activationMs.toFixed(1)} ms: measured, not asserted)`);
      api.setHostKeyPrompt(async (keys: NewHostKey[]) => {
        prompts.push(keys.map((k) => k.name).sort());
        return keys.map((k) => k.name);
      });
    });

    it("a workspace's settings cannot weaken host-key checking (machine-scoped settings)", () => {
      const cfg = vscode.workspace.getConfiguration('fleet');
      assert.equal(cfg.get('hostKeyPolicy'), 'ask', 'the workspace asked for accept-new');
      assert.match(cfg.get<string>('knownHostsFile') ?? '', /[/]known_hosts$/);
      assert.doesNotMatch(cfg.get<string>('knownHostsFile') ?? '', /elsewhere/);
    });

    it('asks once for every new host key, then lists the hosts with liveness and uname', async () => {
      await vscode.commands.executeCommand('fleet.refresh');
      assert.equal(prompts.length, 1, `prompts: ${JSON.stringify(prompts)}`);
      assert.equal(prompts[0].length, ctx.hosts.length);
      const nodes = api.provider.getChildren();
      assert.deepEqual(
        nodes.map((n) => n.label),
        ctx.hosts.map((h) => h.name),
      );
      for (const n of nodes) {
        assert.equal(n.contextValue, 'host.up');
        assert.match(n.description ?? '', /^Linux /);
        assert.deepEqual(n.icon, { id: 'circle-filled', color: 'testing.iconPassed' });
        assert.deepEqual(
          n.children!.map((c) => c.label),
          ['CPU', 'Memory', 'Agent'],
        );
      }
      const item = api.provider.getTreeItem(nodes[0]);
      assert.ok(item.iconPath instanceof vscode.ThemeIcon);
      // a second refresh asks nothing: the keys are pinned
      await vscode.commands.executeCommand('fleet.refresh');
      assert.equal(prompts.length, 1);
    });

    it('Run Command returns per-host results and writes the grouped output', async () => {
      const names = ctx.hosts.map((h) => h.name);
      const results = (await vscode.commands.executeCommand('fleet.runCommand', {
        hosts: names,
        command: 'echo "hello from $(hostname)"',
      })) as HostResult[];
      assert.equal(results.length, names.length);
      for (const r of results) {
        assert.equal(r.exitCode, 0, r.error?.message);
        assert.match(r.stdout, /^hello from /);
      }
    });

    it('Run Expect Script answers a prompt on a host, with the secret masked', async () => {
      const dir = vscode.workspace.workspaceFolders![0].uri.fsPath;
      writeFileSync(join(dir, 'ask.sh'), 'printf "Token: "; read t; [ "$t" = hunter2-secret ] && echo accepted\n');
      writeFileSync(
        join(dir, 'ask.json'),
        JSON.stringify({
          command: `sh ${join(dir, 'ask.sh')}`,
          steps: [{ expect: 'Token: ', send: 'hunter2-secret\n', secret: true }, { expect: 'accepted' }],
        }),
      );
      const [r] = (await vscode.commands.executeCommand('fleet.runExpect', {
        script: join(dir, 'ask.json'),
        hosts: [ctx.hosts[1].name],
      })) as Array<{ ok: boolean; transcript: string; error?: string }>;
      assert.equal(r.ok, true, r.error);
      assert.match(r.transcript, /accepted/);
      assert.ok(!r.transcript.includes('hunter2-secret'), r.transcript);
    });

    it('installs the agent on a host and deploys a zip through it', async () => {
      const node = api.provider.getChildren()[0];
      const installed = (await vscode.commands.executeCommand('fleet.installAgent', node)) as string[];
      assert.deepEqual(installed, [node.label]);
      const after = api.provider.getChildren()[0];
      assert.equal(after.contextValue, 'host.up.agent', 'the agent runs the bundled build: nothing to update');
      const agentRow = after.children!.find((c) => c.label === 'Agent')!;
      assert.match(agentRow.description ?? '', /^running \d+\.\d+\.\d+$/);
      // Update Agent on a current host goes through the same deploy and finds it up to date
      const updated = (await vscode.commands.executeCommand('fleet.updateAgent', after)) as string[];
      assert.deepEqual(updated, [node.label]);
      const results = (await vscode.commands.executeCommand('fleet.deployZip', {
        zip: ctx.zip,
        hosts: [node.label],
        name: 'web',
        binary: 'web',
        args: ['--port', String(ctx.webPort), '--node', 'vscode-test'],
      })) as Array<{ status?: { state: string }; error?: string }>;
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

    it('the rollout panel runs service.json to ESSuccess and shows every backend done', async () => {
      const panel = await openPanel(ctx.service, (st) => Boolean(st.summary));
      const before = panel.lastPosted!.state;
      assert.equal(before.summary?.backends, 3);
      assert.equal(before.plan?.canaries.length, 1);
      assert.deepEqual(before.can, { start: true, pause: false, resume: false, abort: false });
      await api.rollouts.start(ctx.service);
      await api.rollouts.settled(ctx.service);
      const after = panel.lastPosted!.state;
      assert.equal(after.progress?.endState, 'ESSuccess');
      assert.ok(after.progress!.rows.every((r) => r.phase === 'done' && r.lb === 'in'));
      assert.match(await httpText(`${ctx.proxy}/`), /\(v2\)/);
    });

    it('a broken package ends in ESCanaryFailure with the error on the canary row', async () => {
      const broken = ctx.service.replace(/service\.json$/, 'broken.json');
      const svc = JSON.parse(readFileSync(ctx.service, 'utf8'));
      writeFileSync(
        broken,
        JSON.stringify({
          ...svc,
          Src: 'dist/web-v2-broken.zip',
          Health: { ...svc.Health, TimeoutSecs: 2 },
          Retries: 0,
          RollbackOnFailure: true,
        }),
      );
      const panel = await openPanel(broken, (st) => Boolean(st.summary));
      await api.rollouts.start(broken);
      await api.rollouts.settled(broken);
      const st = panel.lastPosted!.state;
      assert.equal(st.progress?.endState, 'ESCanaryFailure');
      const canary = st.progress!.rows.find((r) => r.canary)!;
      assert.equal(canary.phase, 'failed');
      assert.match(canary.error ?? '', /did not become healthy within 2s: GET \/healthz answered HTTP 500/);
      assert.ok(
        st.progress!.rows.filter((r) => !r.canary).every((r) => r.phase === 'pending'),
        'the others were not touched',
      );
    });

    it('shows an invalid service.json with the field to fix', async () => {
      const bad = ctx.service.replace(/service\.json$/, 'invalid.json');
      writeFileSync(bad, JSON.stringify({ Concurrency: 0 }));
      const st = (await openPanel(bad, (s) => Boolean(s.invalid))).lastPosted!.state;
      assert.match(st.invalid!.message, /invalid\.json: Concurrency: expected at least 1/);
      assert.equal(st.invalid!.field, 'Concurrency');
      assert.equal(st.can.start, false);
    });
  });
}
