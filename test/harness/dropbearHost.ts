// Dropbear hosts for tests (routers, OpenWrt, small images): Debian's dropbear-bin on a 127.x
// address with its own host key, a test user whose ~/.ssh/authorized_keys holds the fleet's client
// key, and optionally no SFTP server (sftp-server hidden from it in a mount namespace of its own).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { hidingWrapper } from './hiddenPrograms';
import { spawnTracked, stopTracked } from './processes';
import { waitForPort } from './sshFleet';
import type { TestUser } from './testUser';

const dropbear = '/usr/sbin/dropbear';

export function requireDropbear(): void {
  if (!existsSync(dropbear))
    throw new Error(
      `${dropbear} is missing: install the Debian package dropbear-bin (apt-get install -y dropbear-bin)`,
    );
}

export class DropbearHost {
  proc: ChildProcess | null = null;
  readonly knownHostsLine: string;
  private log = '';

  private constructor(
    readonly address: string,
    readonly port: number,
    readonly user: TestUser,
    private readonly hostKey: string,
    private readonly noSftp: boolean,
  ) {
    const pub = execFileSync('dropbearkey', ['-y', '-f', hostKey], { encoding: 'utf8' });
    const line = pub.split('\n').find((l) => l.startsWith('ssh-'))!;
    this.knownHostsLine = `[${address}]:${port} ${line.split(' ').slice(0, 2).join(' ')}`;
  }

  /** starts dropbear for `user`, who logs in with `clientKey` (its .pub goes into the user's authorized_keys) */
  static async start(o: {
    address: string;
    port: number;
    user: TestUser;
    clientKey: string;
    noSftp?: boolean;
  }): Promise<DropbearHost> {
    requireDropbear();
    const dir = mkdtempSync(join(tmpdir(), 'dropbear-'));
    const hostKey = join(dir, 'host_ed25519');
    execFileSync('dropbearkey', ['-t', 'ed25519', '-f', hostKey], { stdio: 'ignore' });
    o.user.authorize(o.clientKey);
    const h = new DropbearHost(o.address, o.port, o.user, hostKey, o.noSftp ?? false);
    await h.startProcess(dir);
    return h;
  }

  private async startProcess(dir: string): Promise<void> {
    const args = ['-F', '-E', '-s', '-r', this.hostKey, '-p', `${this.address}:${this.port}`, '-P', join(dir, 'pid')];
    this.proc = this.noSftp
      ? // its own mount namespace, where the sftp-server it would run is /dev/null: a host without SFTP
        spawnTracked('unshare', [...hidingWrapper(['/usr/lib/sftp-server']).slice(1), dropbear, ...args], {
          stdio: ['ignore', 'ignore', 'pipe'],
        })
      : spawnTracked(dropbear, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc.stderr!.on('data', (d) => (this.log = (this.log + d).slice(-20_000)));
    await waitForPort(this.address, this.port, 15_000);
  }

  get target(): string {
    return `${this.user.name}@${this.address}:${this.port}`;
  }

  get stderr(): string {
    return this.log;
  }

  async stop(): Promise<void> {
    if (this.proc) await stopTracked(this.proc);
    this.proc = null;
  }
}
