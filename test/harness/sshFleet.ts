// The test fleet: N real OpenSSH sshd processes on 127.0.X.Y addresses, each with its own host
// key, config, log and pid, sharing one generated client key in authorized_keys. Every later
// integration test builds on it. Runs as root (StrictModes no, UsePAM no, /run/sshd), but the hosts
// are logged into as a plain user made for the fleet (a /bin/sh login with no rc files, as real
// fleets have them), never as root unless a test asks for it: root's login shell on these machines
// runs pyenv's init (0.7 s of CPU, and a lock that serialises concurrent logins; shared/facts.md).
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { spawnTracked, stopTracked } from './processes';
import { createTestUser, type TestUser } from './testUser';

export interface FleetHost {
  index: number;
  address: string;
  port: number;
  /** user@address:port, the fleet's login user */
  target: string;
  dir: string;
  hostKeyFile: string;
  logFile: string;
  /** the `[addr]:port type base64` line for known_hosts */
  knownHostsLine: string;
  process: ChildProcess | null;
}

export interface FleetOptions {
  port?: number;
  /** extra sshd_config lines for every host */
  extraConfig?: string[];
  /**
   * extra sshd_config lines for host i (e.g. its own HOME, made with `fleet.userDir`); its host key
   * (`dir/ssh_host_ed25519_key`) exists already, so a test may sign it here (HostCertificate)
   */
  hostConfig?: (i: number, dir: string, fleet: SshFleet, address: string) => string[];
  /**
   * who logs in: a plain user made for this fleet (the default), or root, only for a test that is
   * about root (root's login runs the machine's heavy rc files)
   */
  login?: 'user' | 'root';
  /** the plain user's login shell (default /bin/sh) */
  shell?: string;
  /** addresses: 127.<b>.<c>.<first + i>; when absent, a subnet no other fleet of this process had (freshSubnet) */
  subnet?: string;
  firstHost?: number;
  /** argv put before sshd's (e.g. unshare and a mount that hides a program from the host's sessions) */
  wrapper?: string[];
  /**
   * a file where the SFTP server logs every file it opens and the bytes written (sftp-server -l INFO,
   * run through the user's shell, appending its stderr there); the logging user must be able to write it
   */
  sftpLog?: string;
}

const sshdPath = '/usr/sbin/sshd';
let fleetCounter = 0;

/** where this process's subnets start: its own second octet, and a random third */
const subnetStart = (process.pid % 100) * 250 + Math.floor(Math.random() * 250);
let subnetsHandedOut = 0;

/**
 * 127.<100-199>.<0-249>, never the same twice in one process: each fleet its own addresses. Two
 * fleets on one address and port would not both listen; the second sshd fails to bind and a check
 * that something answers there is answered by the first (a "host key changed" in a later test).
 */
export function freshSubnet(): string {
  if (subnetsHandedOut >= 25_000) throw new Error('every test subnet 127.100-199.* was handed out in this process');
  const n = (subnetStart + subnetsHandedOut++) % 25_000;
  return `127.${100 + Math.floor(n / 250)}.${n % 250}`;
}

export function requireSshd(): void {
  if (!existsSync(sshdPath))
    throw new Error(
      `${sshdPath} is missing: install the Debian package openssh-server (apt-get install -y openssh-server)`,
    );
}

export class SshFleet {
  readonly hosts: FleetHost[] = [];
  readonly clientKey: string;
  readonly knownHostsFile: string;
  /** the plain user the hosts are logged into as, or null when they log in as root */
  user: TestUser | null = null;

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly opts: FleetOptions,
  ) {
    this.clientKey = join(dir, 'client_ed25519');
    this.knownHostsFile = join(dir, 'known_hosts');
  }

  static async start(n: number, opts: FleetOptions = {}): Promise<SshFleet> {
    requireSshd();
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    const dir = mkdtempSync(join(tmpdir(), 'fleet-sshd-'));
    const fleet = new SshFleet(dir, opts.port ?? 2222, opts);
    keygen(fleet.clientKey, 'fleet-test-client');
    const authorized = join(dir, 'authorized_keys');
    writeFileSync(authorized, readFileSync(fleet.clientKey + '.pub'), { mode: 0o600 });
    if ((opts.login ?? 'user') === 'user') {
      fleet.user = createTestUser(`fleet${fleetCounter++}u`, opts.shell ?? '/bin/sh');
      // sshd reads authorized_keys as the user logging in: the user must reach it
      chmodSync(dir, 0o755);
      chownSync(authorized, fleet.user.uid, fleet.user.gid);
    }
    const subnet = opts.subnet ?? freshSubnet();
    const first = opts.firstHost ?? 10;
    for (let i = 0; i < n; i++) fleet.hosts.push(fleet.makeHost(i, `${subnet}.${first + i}`));
    // start in parallel batches: 50 sshd on 2 cores start in a few seconds
    for (let i = 0; i < n; i += 10) await Promise.all(fleet.hosts.slice(i, i + 10).map((h) => fleet.startHost(h)));
    fleet.writeKnownHosts();
    return fleet;
  }

  private makeHost(index: number, address: string): FleetHost {
    const hdir = join(this.dir, `host${index}`);
    mkdirSync(hdir);
    const hostKeyFile = join(hdir, 'ssh_host_ed25519_key');
    keygen(hostKeyFile, `host${index}`);
    const h: FleetHost = {
      index,
      address,
      port: this.port,
      target: `${this.loginName}@${address}:${this.port}`,
      dir: hdir,
      hostKeyFile,
      logFile: join(hdir, 'sshd.log'),
      knownHostsLine: '',
      process: null,
    };
    h.knownHostsLine = knownLine(h);
    writeFileSync(join(hdir, 'sshd_config'), this.config(h));
    return h;
  }

  /** the name the hosts are logged into as */
  get loginName(): string {
    return this.user?.name ?? 'root';
  }

  /** the login user's home directory (one for every host, as root's /root was) */
  get home(): string {
    return this.user?.home ?? '/root';
  }

  /** makes directory `path` (and its parents) and gives it to the login user: a host's own HOME, say */
  userDir(path: string): string {
    mkdirSync(path, { recursive: true });
    if (this.user) chownSync(path, this.user.uid, this.user.gid);
    return path;
  }

  private config(h: FleetHost): string {
    return [
      // sshd keeps the first value of a keyword: a test's own lines come first, so they win
      ...(this.opts.extraConfig ?? []),
      ...(this.opts.hostConfig?.(h.index, h.dir, this, h.address) ?? []),
      `ListenAddress ${h.address}:${h.port}`,
      `HostKey ${h.hostKeyFile}`,
      `PidFile ${join(h.dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(this.dir, 'authorized_keys')}`,
      'StrictModes no',
      'UsePAM no',
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'AllowTcpForwarding yes',
      'AllowStreamLocalForwarding yes',
      this.opts.sftpLog
        ? `Subsystem sftp /usr/lib/openssh/sftp-server -e -l INFO 2>>${this.opts.sftpLog}`
        : 'Subsystem sftp internal-sftp',
      `LogLevel ${process.env.FLEET_SSHD_LOGLEVEL ?? 'DEBUG1'}`,
      '',
    ].join('\n');
  }

  /** starts (or restarts) host i's sshd and waits until it accepts connections */
  async startHost(h: FleetHost): Promise<void> {
    if (h.process && h.process.exitCode === null) return;
    const [file, ...args] = [
      ...(this.opts.wrapper ?? []),
      sshdPath,
      '-D',
      '-f',
      join(h.dir, 'sshd_config'),
      '-E',
      h.logFile,
    ];
    if (await answers(h.address, h.port))
      throw new Error(`something already listens on ${h.address}:${h.port}: sshd for ${h.target} cannot start there`);
    const logFrom = this.log(h).length;
    h.process = spawnTracked(file, args);
    await waitForPort(h.address, h.port, 15_000, h);
    // what answers is this sshd, not one that took the address between the check and the spawn
    if (this.logsListening)
      await this.waitLog(
        h,
        logFrom,
        new RegExp(`Server listening on ${h.address.replace(/\./g, '\\.')} port ${h.port}\\.`),
      );
  }

  /** sshd says "Server listening on" at LogLevel VERBOSE and above */
  private get logsListening(): boolean {
    const levels = (this.opts.extraConfig ?? []).filter((l) => /^LogLevel\s/i.test(l));
    const level = (levels[0]?.split(/\s+/)[1] ?? process.env.FLEET_SSHD_LOGLEVEL ?? 'DEBUG1').toUpperCase();
    return /^(VERBOSE|DEBUG[123]?)$/.test(level);
  }

  async stopHost(h: FleetHost): Promise<void> {
    if (h.process) await stopTracked(h.process);
    h.process = null;
  }

  /** gives host h a new host key and restarts it; the fleet's known_hosts keeps the old one */
  async rekey(h: FleetHost): Promise<void> {
    await this.stopHost(h);
    rmSync(h.hostKeyFile, { force: true });
    rmSync(h.hostKeyFile + '.pub', { force: true });
    keygen(h.hostKeyFile, `host${h.index}-rekeyed`);
    h.knownHostsLine = knownLine(h);
    await this.startHost(h);
  }

  /** a known_hosts file holding every host's current key */
  writeKnownHosts(file = this.knownHostsFile): string {
    writeFileSync(file, this.hosts.map((h) => h.knownHostsLine + '\n').join(''), { mode: 0o600 });
    return file;
  }

  log(h: FleetHost): string {
    return existsSync(h.logFile) ? readFileSync(h.logFile, 'utf8') : '';
  }

  /**
   * Host h's log from `offset` on, read once the log provably holds everything before this call: a
   * probe connection is made and its own "Connection from … port P" line awaited. A test that asserts
   * something is absent from the log reads it this way, never after a bare sleep.
   */
  async logSince(h: FleetHost, offset: number, timeoutMs = 10_000): Promise<string> {
    const localPort = await new Promise<number>((resolve, reject) => {
      const s = connect({ host: h.address, port: h.port });
      s.once('connect', () => {
        const p = s.localPort!;
        s.end('SSH-2.0-fleet-log-barrier\r\n');
        resolve(p);
      });
      s.once('error', reject);
    });
    const marker = new RegExp(`Connection from \\S+ port ${localPort} on `);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = this.log(h).slice(offset);
      const m = marker.exec(text);
      if (m) return text.slice(0, m.index);
      if (Date.now() > deadline)
        throw new Error(
          `sshd ${h.target} never logged the probe connection from port ${localPort}: ${text.slice(-500)}`,
        );
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** waits until host h's log from `offset` on matches `re` (bounded), and returns that part */
  async waitLog(h: FleetHost, offset: number, re: RegExp, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = this.log(h).slice(offset);
      if (re.test(text)) return text;
      if (Date.now() > deadline) throw new Error(`sshd ${h.target} never logged ${re}: ${text.slice(-500)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.hosts.map((h) => this.stopHost(h)));
    this.user?.remove(); // ends what the user still runs (a test that failed midway), then the user
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function keygen(file: string, comment: string): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file], { stdio: 'ignore' });
}

function knownLine(h: FleetHost): string {
  const [type, b64] = readFileSync(h.hostKeyFile + '.pub', 'utf8')
    .trim()
    .split(/\s+/);
  return `[${h.address}]:${h.port} ${type} ${b64}`;
}

/** whether a TCP connection to host:port is accepted */
function answers(host: string, port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const s = connect({ host, port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

export async function waitForPort(host: string, port: number, timeoutMs: number, h?: FleetHost): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (h?.process && h.process.exitCode !== null) {
      throw new Error(
        `sshd for ${host}:${port} exited with ${h.process.exitCode}: ${existsSync(h.logFile) ? readFileSync(h.logFile, 'utf8').slice(-500) : ''}`,
      );
    }
    if (await answers(host, port)) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
