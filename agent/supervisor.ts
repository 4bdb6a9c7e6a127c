// One supervised program: started with an argv array (no shell) in its package dir, in its own
// process group, output appended to a log file; restarted with exponential backoff when it
// exits unasked, up to a bound; stopped with SIGTERM to the group, then SIGKILL after a grace.
// Its pid and start time go to a pid file so a restarted agent adopts it instead of starting
// it twice.
import { spawn } from 'node:child_process';
import { closeSync, copyFileSync, openSync, readFileSync, rmSync, statSync, truncateSync } from 'node:fs';
import type { PackageState } from '../core/protocol/agent';
import { writeFileDurable } from './dataDir';
import { isSameProcess, processStartTime } from '../core/local/procfs';

export interface ProgramSpec {
  name: string;
  cwd: string;
  /** absolute path of the binary inside the package */
  file: string;
  args: string[];
  logFile: string;
  pidFile: string;
}

export interface SupervisorOptions {
  graceMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** quick crashes in a row before giving up (state crashed) */
  maxRestarts: number;
  /** a run this long resets the crash streak */
  stableMs: number;
  logMaxBytes: number;
}

export const defaultSupervisorOptions: SupervisorOptions = {
  graceMs: 5000,
  backoffBaseMs: 500,
  backoffMaxMs: 30_000,
  maxRestarts: 8,
  stableMs: 10_000,
  logMaxBytes: 10 * 1024 * 1024,
};

export class Supervisor {
  state: PackageState = 'stopped';
  pid: number | null = null;
  restarts = 0;
  startedAt: Date | null = null;
  lastExit: { code: number | null; signal: string | null; at: Date } | null = null;
  private streak = 0;
  private wanted = false;
  private restartTimer?: NodeJS.Timeout;
  private pollTimer?: NodeJS.Timeout;
  private exitWaiters: Array<() => void> = [];

  constructor(
    readonly spec: ProgramSpec,
    private readonly opts: SupervisorOptions,
  ) {}

  /** starts the program; throws when it cannot be spawned at all (missing, not executable) */
  async start(): Promise<void> {
    this.wanted = true;
    this.streak = 0;
    clearTimeout(this.restartTimer);
    if (this.pid !== null) return;
    await this.spawnOnce();
  }

  /** takes over a program a previous agent started, if the pid file names a live one */
  adopt(): boolean {
    let rec: { pid: number; startTime: number };
    try {
      rec = JSON.parse(readFileSync(this.spec.pidFile, 'utf8'));
    } catch {
      return false;
    }
    if (!Number.isInteger(rec.pid) || rec.pid <= 1 || !isSameProcess(rec.pid, rec.startTime)) return false;
    this.wanted = true;
    this.pid = rec.pid;
    this.state = 'running';
    this.startedAt = new Date();
    // not our child: watch /proc for its end
    this.pollTimer = setInterval(() => {
      if (!isSameProcess(rec.pid, rec.startTime)) {
        clearInterval(this.pollTimer);
        this.onExit(null, null);
      }
    }, 250);
    this.pollTimer.unref();
    return true;
  }

  async stop(): Promise<void> {
    this.wanted = false;
    clearTimeout(this.restartTimer);
    if (this.pid === null) {
      this.state = 'stopped';
      return;
    }
    const exited = new Promise<void>((resolve) => this.exitWaiters.push(resolve));
    this.signal('SIGTERM');
    const kill = setTimeout(() => this.signal('SIGKILL'), this.opts.graceMs);
    await exited;
    clearTimeout(kill);
  }

  /** copy-truncate the log when it passes its cap (the program keeps its O_APPEND fd) */
  capLog(): void {
    try {
      if (statSync(this.spec.logFile).size <= this.opts.logMaxBytes) return;
      copyFileSync(this.spec.logFile, this.spec.logFile + '.1');
      truncateSync(this.spec.logFile, 0);
    } catch {
      // no log yet
    }
  }

  private async spawnOnce(): Promise<void> {
    this.capLog();
    const out = openSync(this.spec.logFile, 'a', 0o600);
    this.state = 'starting';
    const child = spawn(this.spec.file, this.spec.args, {
      cwd: this.spec.cwd,
      detached: true,
      stdio: ['ignore', out, out],
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? '/',
        LANG: process.env.LANG ?? 'C.UTF-8',
      },
    });
    closeSync(out);
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (e) => {
        this.state = 'crashed';
        reject(e);
      });
    });
    child.unref();
    const pid = child.pid!;
    this.pid = pid;
    this.state = 'running';
    this.startedAt = new Date();
    writeFileDurable(this.spec.pidFile, JSON.stringify({ pid, startTime: processStartTime(pid) }));
    child.once('exit', (code, signal) => this.onExit(code, signal));
  }

  private onExit(code: number | null, signal: string | null): void {
    const ranMs = this.startedAt ? Date.now() - this.startedAt.getTime() : 0;
    this.pid = null;
    this.lastExit = { code, signal, at: new Date() };
    rmSync(this.spec.pidFile, { force: true });
    const waiters = this.exitWaiters.splice(0);
    waiters.forEach((w) => w());
    if (!this.wanted) {
      this.state = 'stopped';
      return;
    }
    this.streak = ranMs >= this.opts.stableMs ? 1 : this.streak + 1;
    if (this.streak > this.opts.maxRestarts) {
      this.state = 'crashed';
      return;
    }
    const delay = Math.min(this.opts.backoffMaxMs, this.opts.backoffBaseMs * 2 ** (this.streak - 1));
    this.state = 'backoff';
    this.restartTimer = setTimeout(() => {
      if (!this.wanted) return;
      this.restarts++;
      this.spawnOnce().catch(() => this.onExit(null, null));
    }, delay);
    this.restartTimer.unref();
  }

  private signal(sig: NodeJS.Signals): void {
    if (this.pid === null) return;
    try {
      process.kill(-this.pid, sig);
    } catch {
      try {
        process.kill(this.pid, sig);
      } catch {
        // already gone
      }
    }
  }

  /** ends timers (agent shutdown); the program keeps running, to be adopted */
  detach(): void {
    clearTimeout(this.restartTimer);
    clearInterval(this.pollTimer);
  }
}
