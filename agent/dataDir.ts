// The agent's data dir: where everything lives (durable writes are core/durable.ts).
import { mkdirSync, rmSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export class DataDir {
  constructor(readonly root: string) {}

  get socket(): string {
    return join(this.root, 'agent.sock');
  }
  get tokenFile(): string {
    return join(this.root, 'token');
  }
  /** the read-only token of the TCP listener (metrics and status) */
  get readTokenFile(): string {
    return join(this.root, 'read-token');
  }
  get tlsKeyFile(): string {
    return join(this.root, 'tls-key.pem');
  }
  get tlsCertFile(): string {
    return join(this.root, 'tls-cert.pem');
  }
  /** HOST:PORT of the TCP listener when no --listen is given (fleet agent deploy --listen writes it) */
  get listenFile(): string {
    return join(this.root, 'listen');
  }
  get stateFile(): string {
    return join(this.root, 'state.json');
  }
  /** the leases of its packages (agent/leases.ts) */
  get leasesFile(): string {
    return join(this.root, 'leases.json');
  }
  /** each package's history, `<name>.jsonl` (agent/history.ts) */
  get historyDir(): string {
    return join(this.root, 'history');
  }
  /** each package's latest rollout as recorded by its controller, `<name>.jsonl` */
  get rolloutsDir(): string {
    return join(this.root, 'rollouts');
  }
  get packagesRoot(): string {
    return join(this.root, 'packages');
  }
  packageDir(name: string): string {
    return join(this.root, 'packages', name);
  }
  versionDir(name: string, version: string): string {
    return join(this.root, 'packages', name, version);
  }
  get staging(): string {
    return join(this.root, 'staging');
  }
  get tmp(): string {
    return join(this.root, 'tmp');
  }
  pidFile(name: string): string {
    return join(this.root, 'run', `${name}.pid`);
  }
  logFile(name: string): string {
    return join(this.root, 'logs', `${name}.log`);
  }

  /** creates the layout (0700) and empties staging/ and tmp/ of an earlier, interrupted run */
  prepare(): void {
    for (const d of ['', 'packages', 'run', 'logs']) mkdirSync(join(this.root, d), { recursive: true, mode: 0o700 });
    for (const d of [this.staging, this.tmp]) {
      rmSync(d, { recursive: true, force: true });
      mkdirSync(d, { recursive: true, mode: 0o700 });
    }
  }
}

export function listDirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  } catch {
    return [];
  }
}
