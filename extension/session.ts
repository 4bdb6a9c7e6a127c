// The SSH side of one VS Code window: a connection pool shared by refreshes and commands, the
// host-key checker (unknown keys are collected and asked about once, in a modal), the key
// store (passphrases asked in a password box), and the hosts from fleet.json and ~/.ssh/config.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import * as vscode from 'vscode';
import { errorMessage } from '../core/errors';
import type { FleetHost } from '../core/hosts/fleetModel';
import { inventoryHosts, loadInventory } from '../core/inventory/fleetFile';
import { SshConfig } from '../core/ssh/sshConfig';
import { KeyStore } from '../core/ssh/auth';
import { resolveInventoryHost, resolveTarget } from '../core/targets/resolve';
import { HostKeyChecker, type HostKeyPolicy } from '../core/ssh/hostKeyPolicy';
import { KnownHosts } from '../core/ssh/knownHosts';
import { SshPool } from '../core/ssh/pool';

export class Session implements vscode.Disposable {
  pool!: SshPool;
  checker!: HostKeyChecker;
  private sshConfig: SshConfig | null = null;

  constructor(
    private readonly log: vscode.LogOutputChannel,
    private readonly secrets: vscode.SecretStorage,
  ) {
    this.reset();
  }

  /** rebuilds the pool and checker from the settings (on start and when they change) */
  reset(): void {
    this.pool?.close();
    const cfg = vscode.workspace.getConfiguration('fleet');
    const knownHosts = cfg.get<string>('knownHostsFile') || join(homedir(), '.ssh', 'known_hosts');
    // as the CLI's flags: a policy the user set is made stricter by a host's StrictHostKeyChecking,
    // never looser (left at its default, the config's applies); a file the user named replaces the
    // config's UserKnownHostsFile (core/ssh/hostKeyPolicy.ts)
    this.checker = new HostKeyChecker(new KnownHosts(knownHosts), cfg.get<HostKeyPolicy>('hostKeyPolicy', 'ask'), {
      policyGiven: cfg.inspect<HostKeyPolicy>('hostKeyPolicy')?.globalValue !== undefined,
      knownHostsGiven: !!cfg.get<string>('knownHostsFile'),
    });
    const keys = new KeyStore({
      passphrase: (q) => this.secret(`passphrase:${q}`, q),
      // asked only when no key worked and the server takes passwords (core/ssh/auth.ts); one per user@host
      password: (user, host, role) =>
        this.secret(`password:${user}@${host}`, `Password for ${user}@${host}${role === 'jump' ? ' (jump host)' : ''}`),
      debug: (m) => this.log.debug(m),
    });
    // the view asks every host again every few seconds: a kept shell per connection (core/ssh/shellSession.ts)
    this.pool = new SshPool({
      hostKeys: this.checker,
      keys,
      idleMs: 5 * 60_000,
      keepShell: true,
      log: (m) => this.log.debug(m),
    });
  }

  /**
   * A secret from VS Code's SecretStorage, else asked in a password box; kept in SecretStorage only
   * when the user says so. Never logged, never in settings or files.
   */
  private async secret(key: string, prompt: string): Promise<string | undefined> {
    const stored = await this.secrets.get(`fleet.${key}`);
    if (stored !== undefined) return stored;
    const value = await vscode.window.showInputBox({ prompt, password: true, ignoreFocusOut: true });
    if (value === undefined) return undefined;
    const remember = await vscode.window.showQuickPick(['Use once', "Remember in VS Code's secret storage"], {
      title: `${prompt}: remember it?`,
      ignoreFocusOut: true,
    });
    if (remember?.startsWith('Remember')) await this.secrets.store(`fleet.${key}`, value);
    return value;
  }

  /** the inventory file named by fleet.inventoryFile, resolved against the first workspace folder */
  inventoryPath(): string | undefined {
    const p = vscode.workspace.getConfiguration('fleet').get<string>('inventoryFile', 'fleet.json');
    if (isAbsolute(p)) return p;
    const ws = vscode.workspace.workspaceFolders?.[0];
    return ws ? join(ws.uri.fsPath, p) : undefined;
  }

  /**
   * hosts from fleet.json (and ~/.ssh/config when enabled); problems are logged and shown once. A
   * host its ssh_config refuses (a keyword Fleet cannot honour, a jump loop) is left out, named;
   * the others are listed
   */
  hosts(): FleetHost[] {
    const out: FleetHost[] = [];
    const refused: string[] = [];
    const add = (name: string, groups: string[], endpoint: () => FleetHost['endpoint']) => {
      try {
        out.push({ name, groups, endpoint: endpoint() });
      } catch (e) {
        refused.push(`${name}: ${errorMessage(e)}`);
      }
    };
    try {
      this.sshConfig = SshConfig.load();
    } catch (e) {
      this.log.warn(errorMessage(e));
      this.sshConfig = null;
    }
    const file = this.inventoryPath();
    if (file && existsSync(file)) {
      try {
        const inv = loadInventory(file);
        for (const h of inventoryHosts(inv)) add(h.name, h.groups, () => resolveInventoryHost(h, inv, this.sshConfig));
      } catch (e) {
        this.log.error(errorMessage(e));
        void vscode.window.showErrorMessage(`Fleet: ${errorMessage(e)}`);
      }
    }
    if (vscode.workspace.getConfiguration('fleet').get<boolean>('includeSshConfigHosts', false) && this.sshConfig) {
      for (const alias of this.sshConfig.aliases()) {
        if (!out.some((h) => h.name === alias)) add(alias, ['ssh-config'], () => resolveTarget(alias, this.sshConfig));
      }
    }
    for (const r of refused) this.log.error(r);
    if (refused.length)
      void vscode.window.showErrorMessage(
        `Fleet: ${refused.length === 1 ? 'a host is' : `${refused.length} hosts are`} left out of the view: ${refused[0]}${refused.length > 1 ? ' (the others: see the Fleet log)' : ''}`,
      );
    for (const w of this.sshConfig?.warnings ?? []) this.log.warn(w);
    return out;
  }

  /** an SSH endpoint for a target named in service.json (ssh:// agents), with ~/.ssh/config */
  endpointFor(target: string, defaults: { user?: string; port?: number } = {}) {
    return resolveTarget(target, this.sshConfig, defaults);
  }

  dispose(): void {
    this.pool.close();
  }
}
