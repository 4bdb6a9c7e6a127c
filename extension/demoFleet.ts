// Try the demo fleet: `npm run demo`'s local fleet (the built-in LB on 127.0.0.1:9090/9091 and 8
// agents running web v1 on 9092-9099) started from the editor, with steady traffic through the LB,
// its service.json opened beside the rollout panel, and a "Demo fleet" node in the Fleet view that
// shows each backend's version as the rollout goes. Stop Demo, or closing the window, stops it all.
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { TreeNode } from '../core/fleetView/treeModel';
import { inventoryTemplate } from '../core/inventory/editInventory';
import { startDemoLoad, type DemoLoad } from '../demo/load';
import { LocalFleet } from '../demo/localFleet';
import { buildExamples } from '../examples/build';
import type { HostsProvider } from './hostsProvider';
import type { RolloutManager } from './rollout/rolloutManager';

const readme = `# The Fleet demo

Started by **Fleet: Try the Demo Fleet**: a load balancer on http://127.0.0.1:9090 (control API on 9091)
and 8 agents on 127.0.0.1:7092-7099, each running the sample web app v1 on 9092-9099, with steady traffic
through the load balancer. \`service.json\` rolls web v2 out to them, a canary first, judged by the traffic it
serves. Click **Start** in the rollout panel. **Fleet: Stop Demo** (or closing the window) stops it all and
removes this folder.
`;

export class DemoFleet implements vscode.Disposable {
  private local?: LocalFleet;
  private load?: DemoLoad;
  private timer?: NodeJS.Timeout;
  private rows: TreeNode[] = [];
  private stopping?: Promise<void>;
  private readonly status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 8);

  constructor(
    private readonly ctx: vscode.ExtensionContext,
    private readonly rollouts: RolloutManager,
    private readonly provider: HostsProvider,
    private readonly log: vscode.LogOutputChannel,
    private readonly openPanel: (file: string) => unknown,
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
        const zips = await buildExamples(
          mkdtempSync(join(tmpdir(), 'fleet-demo-zips-')),
          this.ctx.asAbsolutePath('examples'),
        );
        const fleet = new LocalFleet({
          serviceJson: this.ctx.asAbsolutePath(join('examples', 'service.json')),
          zips,
          agentJs: this.ctx.asAbsolutePath(join('dist', 'agent.js')),
          runtimeBin: nodeForPrograms(),
          log: (m) => {
            this.log.info(`demo: ${m}`);
            progress.report({ message: m });
          },
        });
        try {
          await fleet.start();
        } catch (e) {
          await fleet.stop().catch(() => undefined);
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
    this.status.tooltip = 'The demo fleet runs on 127.0.0.1: click to stop it';
    this.status.command = 'fleet.stopDemo';
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

  /** stops the traffic, any rollout of the demo, the LB, the agents and their programs */
  stop(): Promise<void> {
    const local = this.local;
    if (!local) return this.stopping ?? Promise.resolve();
    this.local = undefined;
    clearInterval(this.timer);
    this.rows = [];
    this.provider.repaint();
    this.status.hide();
    void vscode.commands.executeCommand('setContext', 'fleet.demoRunning', false);
    this.stopping = (async () => {
      this.rollouts.abort(local.serviceFile);
      await this.rollouts.settled(local.serviceFile).catch(() => undefined);
      await this.load?.stop();
      await local.stop();
      this.log.info('demo: stopped the LB, the agents and their programs');
    })();
    return this.stopping;
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
    void this.stop();
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
