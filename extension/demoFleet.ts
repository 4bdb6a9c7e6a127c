// Try the demo fleet: `npm run demo`'s local fleet (the built-in LB on 127.0.0.1:9090/9091 and 8
// agents running web v1 on 9092-9099) started from the editor, with steady traffic through the LB,
// its service.json opened beside the rollout panel, and a "Demo fleet" node in the Fleet view that
// shows each backend's version as the rollout goes. Stop Demo, or closing the window, stops it all.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import * as vscode from 'vscode';
import type { TreeNode } from '../core/fleetView/treeModel';
import { inventoryTemplate } from '../core/inventory/editInventory';
import { startDemoLoad, type DemoLoad } from '../demo/load';
import { LocalFleet } from '../demo/localFleet';
import { sleep } from '../core/sleep';
import { buildExamples } from '../examples/build';
import { confirm } from './confirm';
import type { HostsProvider } from './hostsProvider';
import type { RolloutManager } from './rollout/rolloutManager';

const readme = `# The Fleet demo

Started by **Fleet: Try the Demo Fleet**: a load balancer on http://127.0.0.1:9090 (control API on 9091)
and 8 agents on 127.0.0.1:7092-7099, each running the sample web app v1 on 9092-9099, with steady traffic
through the load balancer. \`service.json\` rolls web v2 out to them, a canary first, judged by the traffic it
serves. Click **Start** in the rollout panel.

To watch a canary fail, point \`Src\` at \`dist/web-v2-flaky.zip\` (healthy, but every 4th request fails), save,
and click **Start**: the canary analysis stops it and rolls the canary back to web v1.

**Fleet: Stop Demo** (or closing the window) stops it all, closes what it opened and removes this folder.
`;

export class DemoFleet implements vscode.Disposable {
  private local?: LocalFleet;
  private load?: DemoLoad;
  private timer?: NodeJS.Timeout;
  private rows: TreeNode[] = [];
  private stopping?: Promise<void>;
  /** folders this demo made besides the fleet's own (its zips, the node wrapper): removed at stop */
  private temp: string[] = [];
  private readonly status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 8);

  constructor(
    private readonly ctx: vscode.ExtensionContext,
    private readonly rollouts: RolloutManager,
    private readonly provider: HostsProvider,
    private readonly log: vscode.LogOutputChannel,
    private readonly openPanel: (file: string) => unknown,
    /** closes the rollout panel of a file (the demo's, whose folder goes away) */
    private readonly closePanel: (file: string) => void = () => undefined,
  ) {
    provider.extraRoots = () => this.roots();
  }

  get serviceFile(): string | undefined {
    return this.local?.serviceFile;
  }

  /** starts the demo (or shows it, when it runs); resolves its service.json */
  async start(): Promise<string> {
    if (this.local) {
      await this.show();
      return this.local.serviceFile;
    }
    await this.stopping;
    const local = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Fleet: starting the demo fleet' },
      async (progress) => {
        const zipsDir = mkdtempSync(join(tmpdir(), 'fleet-demo-zips-'));
        const nodeDir = nodeForPrograms();
        this.temp = [zipsDir, nodeDir];
        const zips = await buildExamples(zipsDir, this.ctx.asAbsolutePath('examples'));
        const fleet = new LocalFleet({
          serviceJson: this.ctx.asAbsolutePath(join('examples', 'service.json')),
          zips,
          agentJs: this.ctx.asAbsolutePath(join('dist', 'agent.js')),
          runtimeBin: nodeDir,
          log: (m) => {
            this.log.info(`demo: ${m}`);
            progress.report({ message: m });
          },
        });
        try {
          await fleet.start();
        } catch (e) {
          await fleet.stop().catch(() => undefined);
          this.removeTemp();
          throw e;
        }
        return fleet;
      },
    );
    this.local = local;
    writeFileSync(
      join(local.dir, 'fleet.json'),
      inventoryTemplate.replace(
        '{\n',
        '// The demo fleet needs no SSH: its agents answer on 127.0.0.1 and the Fleet view shows them under "Demo fleet".\n// Add your own hosts here to see them too.\n{\n',
      ),
    );
    writeFileSync(join(local.dir, 'README.md'), readme);
    this.load = startDemoLoad(local.proxyUrl);
    void vscode.commands.executeCommand('setContext', 'fleet.demoRunning', true);
    this.status.text = '$(beaker) Fleet demo';
    this.status.tooltip = 'The demo fleet runs on 127.0.0.1: click to stop it (asks first)';
    this.status.command = { command: 'fleet.stopDemo', title: 'Stop Demo', arguments: [{ ask: true }] };
    this.status.show();
    this.timer = setInterval(() => void this.poll(), 2000);
    await this.poll();
    await this.show();
    return local.serviceFile;
  }

  private async show(): Promise<void> {
    const file = this.local!.serviceFile;
    await vscode.window.showTextDocument(vscode.Uri.file(file), { viewColumn: vscode.ViewColumn.One, preview: false });
    this.openPanel(file);
  }

  /**
   * stops the traffic, any rollout of the demo, the LB, the agents and their programs; closes the
   * editors and the panel it opened on its folder and removes every folder it made. `ask`: a
   * question first (the status bar item's click); resolves false when the person said no.
   */
  async stop(opts: { ask?: boolean; quiet?: boolean } = {}): Promise<boolean> {
    const local = this.local;
    if (!local) {
      await this.stopping;
      return true;
    }
    if (
      opts.ask &&
      !(await confirm(
        'Fleet: stop the demo fleet?',
        `Its load balancer (${local.proxyUrl}), the 8 agents and their web programs, and the traffic stop${
          this.rollouts.state(local.serviceFile).can.abort ? ', the rollout running is aborted' : ''
        }; its folder ${local.dir} is deleted.`,
        'Stop Demo',
      ))
    )
      return false;
    if (this.local !== local) return true; // stopped meanwhile
    this.local = undefined;
    clearInterval(this.timer);
    this.rows = [];
    this.provider.repaint();
    this.status.hide();
    void vscode.commands.executeCommand('setContext', 'fleet.demoRunning', false);
    this.stopping = (async () => {
      this.rollouts.abort(local.serviceFile);
      await this.rollouts.settled(local.serviceFile).catch(() => undefined);
      // what it opened on its folder goes before the folder does: no panel on a deleted file. Not when
      // the window closes (quiet): then nothing is left to close, and the processes must stop whatever the UI does
      if (!opts.quiet) {
        this.closePanel(local.serviceFile);
        await Promise.race([closeEditorsUnder(local.dir).catch(() => undefined), sleep(3000)]);
      }
      this.rollouts.forget(local.serviceFile);
      await this.load?.stop();
      await local.stop();
      this.removeTemp();
      this.log.info('demo: stopped the LB, the agents and their programs; removed its folders');
    })();
    await this.stopping;
    return true;
  }

  private removeTemp(): void {
    for (const d of this.temp) rmSync(d, { recursive: true, force: true });
    this.temp = [];
  }

  private roots(): TreeNode[] {
    if (!this.local) return [];
    return [
      {
        id: 'demo',
        label: 'Demo fleet',
        description: `${this.rows.filter((r) => r.contextValue === 'demo.backend.up').length}/${this.rows.length} serving`,
        tooltip: `The demo fleet on 127.0.0.1: LB ${this.local.proxyUrl}, 8 agents. Fleet: Stop Demo ends it.`,
        icon: { id: 'beaker' },
        contextValue: 'demo',
        expanded: true,
        children: this.rows,
      },
    ];
  }

  /** each backend's package state (its agent) and version (its answer) */
  private async poll(): Promise<void> {
    const local = this.local;
    if (!local) return;
    this.rows = await Promise.all(
      local.agents.map(async (a, i) => {
        const addr = (local.config.Backends[i] as { Addr: string }).Addr;
        const [pkgs, body] = await Promise.all([
          a.client.list().catch(() => []),
          text(`http://${addr}/`).catch(() => ''),
        ]);
        const web = pkgs.find((p) => p.name === 'web');
        const version = /\((v\d)\)/.exec(body)?.[1];
        return {
          id: `demo/${addr}`,
          label: addr,
          description: web ? `web ${version ?? '?'} · ${web.state}${web.pid ? ` (pid ${web.pid})` : ''}` : 'no package',
          icon: web?.state === 'running' ? { id: 'play-circle', color: 'testing.iconPassed' } : { id: 'debug-stop' },
          contextValue: web?.state === 'running' && version ? 'demo.backend.up' : 'demo.backend',
        };
      }),
    );
    this.provider.repaint();
  }

  dispose(): void {
    void this.stop({ quiet: true });
    this.status.dispose();
  }
}

/**
 * A directory whose `node` runs this editor's own Node: the web programs are `#!/usr/bin/env node`
 * scripts, and a person trying the demo may have no node in PATH. Inside Electron it needs
 * ELECTRON_RUN_AS_NODE, which the agent does not pass on: the wrapper sets it.
 */
function nodeForPrograms(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-demo-node-'));
  mkdirSync(dir, { recursive: true });
  const node = join(dir, 'node');
  writeFileSync(node, `#!/bin/sh\nELECTRON_RUN_AS_NODE=1 exec '${process.execPath.replace(/'/g, `'\\''`)}' "$@"\n`);
  chmodSync(node, 0o755);
  return dir;
}

/** closes the editor tabs of files under `dir` (unsaved changes there are dropped: the folder is going away) */
async function closeEditorsUnder(dir: string): Promise<void> {
  const under = (u: vscode.Uri) => u.scheme === 'file' && u.fsPath.startsWith(dir + sep);
  for (const doc of vscode.workspace.textDocuments)
    if (under(doc.uri) && doc.isDirty) {
      await vscode.window.showTextDocument(doc, { preview: false });
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    }
  const tabs = vscode.window.tabGroups.all
    .flatMap((g) => g.tabs)
    .filter((t) => t.input instanceof vscode.TabInputText && under(t.input.uri));
  if (tabs.length) await vscode.window.tabGroups.close(tabs, true);
}

function text(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false, timeout: 2000 }, (res) => {
      let b = '';
      res.on('data', (d) => (b += d));
      res.on('end', () => resolve(b));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}
