// One host as agent deploy and uninstall see it: SSH calls that must succeed (each error names the
// host and the step), the facts, an upload, the host-wide deploy lock, and the agent's own answer
// about which build it is.
import { errorMessage, FleetError } from '../errors';
import type { SshEndpoint } from '../ssh/endpoint';
import type { SshPool } from '../ssh/pool';
import { shellQuote as q } from '../ssh/quote';
import { uploadFile } from '../ssh/sftpPush';
import { sleep } from '../sleep';
import { AgentClient } from '../agentClient/client';
import { factsCommand, parseFacts, type HostFacts } from './hostFacts';
import { agentLayout, type AgentLayout } from './layout';
import { aliveFunction, type ServiceMode } from './service';

/** an agent deploy, rollback or uninstall failed on a host; the message names the host and the step */
export class InstallError extends FleetError {}

/** a deploy lock older than this was left by a deploy that died; it is broken */
const staleLockMinutes = 10;

/** one host's SSH calls, each labelled for its errors */
export class InstallHost {
  readonly label: string;
  constructor(
    private readonly pool: SshPool,
    private readonly ep: SshEndpoint,
    private readonly signal?: AbortSignal,
  ) {
    this.label = ep.label;
  }

  exec(command: string, timeoutMs = 120_000) {
    return this.pool.exec(this.ep, command, { timeoutMs, signal: this.signal });
  }

  /** runs a command that must succeed; its stdout */
  async sh(command: string): Promise<string> {
    const r = await this.exec(command);
    if (r.exitCode !== 0)
      throw new InstallError(`host ${this.label}: ${command.split('\n')[0]} exited ${r.exitCode}: ${r.stderr.trim()}`);
    return r.stdout;
  }

  /** runs a script that must succeed; its stdout */
  async script(script: string, what: string): Promise<string> {
    const r = await this.exec(script);
    if (r.exitCode !== 0)
      throw new InstallError(
        `host ${this.label}: ${what} failed (exit ${r.exitCode ?? r.signal}): ${r.stderr.trim() || r.stdout.trim()}`,
      );
    return r.stdout;
  }

  async facts(): Promise<HostFacts> {
    return this.parse(await this.exec(factsCommand, 60_000));
  }

  /**
   * One round trip for a deploy's start: takes the host-wide deploy lock (`mkdir` is atomic; a lock
   * older than 10 minutes was left by a deploy that died and is broken), makes Fleet's directories
   * (0700), and reads the facts under the lock.
   */
  async lockAndFacts(): Promise<HostFacts> {
    const l = agentLayout('$HOME');
    const lock = `"${l.fleetDir}/.deploy-lock"`;
    const r = await this.exec(
      [
        'umask 077',
        `mkdir -p "${l.agentsDir}" "${l.runtimesDir}" "${l.dataDir}" && chmod 700 "${l.fleetDir}" "${l.dataDir}" || exit 1`,
        `if mkdir ${lock} 2>/dev/null; then :; elif [ -n "$(find ${lock} -maxdepth 0 -mmin +${staleLockMinutes} 2>/dev/null)" ] && rm -rf ${lock} && mkdir ${lock}; then :; else echo lock=busy; exit 0; fi`,
        factsCommand,
      ].join('\n'),
      60_000,
    );
    if (r.stdout.includes('lock=busy'))
      throw new InstallError(
        `host ${this.label}: another agent deploy is running there (~/.fleet/.deploy-lock exists); wait for it, or remove that directory if no deploy runs`,
      );
    if (r.exitCode !== 0)
      throw new InstallError(
        `host ${this.label}: cannot make Fleet's directories in the home directory: ${r.stderr.trim()}`,
      );
    return this.parse(r);
  }

  private parse(r: { stdout: string; stderr: string }): HostFacts {
    try {
      return parseFacts(r.stdout);
    } catch (e) {
      throw new InstallError(`host ${this.label}: ${errorMessage(e)}${r.stderr.trim() ? `: ${r.stderr.trim()}` : ''}`);
    }
  }

  /** the lock of a host that had Fleet on it (uninstall): never creates anything else */
  async lock(l: AgentLayout): Promise<void> {
    const lock = q(`${l.fleetDir}/.deploy-lock`);
    const r = await this.exec(
      `umask 077; if [ ! -d ${q(l.fleetDir)} ] || mkdir ${lock} 2>/dev/null; then echo locked; ` +
        `elif [ -n "$(find ${lock} -maxdepth 0 -mmin +${staleLockMinutes} 2>/dev/null)" ] && rm -rf ${lock} && mkdir ${lock}; then echo locked; else echo busy; fi`,
    );
    if (r.stdout.trim() !== 'locked')
      throw new InstallError(
        `host ${this.label}: another agent deploy is running there (${l.fleetDir}/.deploy-lock exists); wait for it, or remove that directory if no deploy runs`,
      );
  }

  /** releases the lock, after `before` (pruning) if given; never fails the deploy */
  async unlock(l: AgentLayout, before?: string): Promise<void> {
    const release = `rmdir ${q(`${l.fleetDir}/.deploy-lock`)} 2>/dev/null || true`;
    const script = before ? `(\n${before}\n) >/dev/null 2>&1\n${release}` : release;
    await this.exec(script, 60_000).catch(() => undefined);
  }

  /** copies a file to a temporary path on the host; the caller's next command checks and places it */
  async upload(local: string, remote: string): Promise<'sftp' | 'exec'> {
    try {
      return await uploadFile(this.pool, this.ep, local, remote, { mode: 0o600, signal: this.signal });
    } catch (e) {
      throw new InstallError(errorMessage(e));
    }
  }

  client(l: AgentLayout): AgentClient {
    return new AgentClient(
      { kind: 'ssh', target: this.label, socketPath: l.socket, text: `ssh://${this.label}` },
      { pool: this.pool, sshEndpoint: this.ep, timeoutMs: 5000 },
    );
  }

  /** the build the agent on the socket reports, or undefined when none answers */
  async agentBuild(l: AgentLayout): Promise<string | undefined> {
    try {
      return (await this.client(l).info()).build;
    } catch {
      return undefined;
    }
  }

  /**
   * Waits until the agent on the socket reports `build` (an old agent still answering does not
   * count). Every second it also asks whether the agent process still runs, so a build that dies
   * at start fails the deploy at once, not at the deadline.
   */
  async waitForBuild(
    l: AgentLayout,
    mode: ServiceMode,
    build: string,
    timeoutMs: number,
    progress: (m: string) => void,
  ): Promise<void> {
    progress('waiting for the agent to answer');
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer';
    for (let i = 1; ; i++) {
      try {
        const info = await this.client(l).info();
        if (info.build === build) return;
        last = `the agent answering is build ${info.build}, not ${build}`;
      } catch (e) {
        last = errorMessage(e);
      }
      if (i % 5 === 0) {
        const dead = await this.agentDied(l, mode);
        if (dead) throw new InstallError(dead);
      }
      if (Date.now() > deadline)
        throw new InstallError(`no answer from build ${build} within ${timeoutMs / 1000} s (${last})`);
      await sleep(200, this.signal);
    }
  }

  /** why the agent is not running (it exited; systemd keeps restarting it), or undefined */
  private async agentDied(l: AgentLayout, mode: ServiceMode): Promise<string | undefined> {
    if (mode === 'detached') {
      const r = await this.exec(
        `${aliveFunction}; p=$(cat ${q(l.pidFile)} 2>/dev/null) && fleet_alive "$p" && echo alive`,
        30_000,
      );
      return r.stdout.trim() === 'alive' ? undefined : 'the agent exited right after it started';
    }
    const r = await this.exec(
      `systemctl ${mode === 'user' ? '--user ' : ''}show fleet-agent.service -p NRestarts --value`,
      30_000,
    );
    const n = Number(r.stdout.trim());
    return n > 0 ? `the agent keeps exiting (systemd restarted it ${n} times)` : undefined;
  }

  /** the agent's last log lines: its log file when detached, else the journal */
  async logTail(l: AgentLayout, mode: ServiceMode): Promise<string> {
    const cmd =
      mode === 'detached'
        ? `tail -n 5 ${q(l.logFile)}`
        : `journalctl ${mode === 'user' ? '--user ' : ''}-u fleet-agent.service -n 5 --no-pager -o cat`;
    const r = await this.exec(`${cmd} 2>/dev/null`, 30_000).catch(() => undefined);
    const tail = r?.stdout.trim();
    return tail ? `; its log ends: ${tail}` : '';
  }
}
