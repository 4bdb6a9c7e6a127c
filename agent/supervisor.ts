// One supervised program: started with an argv array (no shell) in its package dir, as the leader
// of its own session and process group, output appended to a log file; restarted with exponential
// backoff when it exits unasked, up to a bound; stopped as `timeout -k` stops: SIGTERM to all of
// its processes (processTree.ts: its session and group, what carries its cookie, their
// descendants: also what called setsid or double-forked), then SIGKILL to whatever of them still
// lives at the end of the grace period (a wrapper that exits on TERM must not leave a child holding
// the port). The same processes are ended before a restart after a crash. Its pid, start time and
// cookie go to a pid file so a restarted agent adopts it instead of starting it twice.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, copyFileSync, openSync, readFileSync, rmSync, statSync, truncateSync } from 'node:fs';
import type { PackageState } from '../core/protocol/agent';
import { writeFileDurable } from '../core/durable';
import { isSameProcess, processStartTime } from '../core/local/procfs';
import { sleep } from '../core/sleep';
import { cookieVariable, programProcesses, signalAll, type ProgramIdentity } from './processTree';

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
  /** put at the front of the programs' PATH: the agent's runtime `bin/` (its `node`) on a node-less host */
  programPathPrefix?: string;
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
  /** the program's first process (its session and group id) and cookie; stays after that process exits */
  private identity: ProgramIdentity | null = null;
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
    let rec: { pid: number; startTime: number; cookie?: string };
    try {
      rec = JSON.parse(readFileSync(this.spec.pidFile, 'utf8'));
    } catch {
      return false;
    }
    // a pid file without a start time (written for a zombie, or damaged) names no process for sure
    if (!Number.isInteger(rec.pid) || rec.pid <= 1 || typeof rec.startTime !== 'number') return false;
    if (!isSameProcess(rec.pid, rec.startTime)) return false;
    this.wanted = true;
    this.pid = rec.pid;
    this.identity = {
      pid: rec.pid,
      startTime: rec.startTime,
      cookie: typeof rec.cookie === 'string' ? rec.cookie : undefined,
    };
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

  /**
   * SIGTERM to every process of the program; at the end of the grace period SIGKILL to whatever of
   * them lives (processes started meanwhile get TERM as they are found)
   */
  async stop(): Promise<void> {
    this.wanted = false;
    clearTimeout(this.restartTimer);
    if (this.pid === null && !this.processes().length) {
      this.state = 'stopped';
      return;
    }
    const deadline = Date.now() + this.opts.graceMs;
    const exited =
      this.pid === null ? Promise.resolve() : new Promise<void>((resolve) => this.exitWaiters.push(resolve));
    const termed = new Set<string>();
    const term = () => {
      const fresh = this.processes().filter((p) => !termed.has(`${p.pid}/${p.startTime}`));
      fresh.forEach((p) => termed.add(`${p.pid}/${p.startTime}`));
      signalAll(fresh, 'SIGTERM');
    };
    term();
    for (let alive = true; alive && Date.now() < deadline;) {
      await Promise.race([exited, sleep(100)]);
      alive = this.pid !== null || this.processes().length > 0;
      if (alive) term();
    }
    await this.killAll();
    await exited;
    this.state = 'stopped';
  }

  /** SIGKILL to what is left of the program, until nothing is (bounded) */
  private async killAll(): Promise<void> {
    for (let i = 0; i < 200; i++) {
      const left = this.processes();
      if (!left.length) return;
      signalAll(left, 'SIGKILL');
      await sleep(10);
    }
  }

  /** the program's live processes (none before it first started) */
  private processes() {
    return this.identity ? programProcesses(this.identity) : [];
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
    const cookie = `${this.spec.name}.${randomBytes(8).toString('hex')}`;
    // detached: setsid(), so the program leads its own session and process group
    const child = spawn(this.spec.file, this.spec.args, {
      cwd: this.spec.cwd,
      detached: true,
      stdio: ['ignore', out, out],
      env: {
        PATH: programPath(this.opts.programPathPrefix, process.env.PATH),
        HOME: process.env.HOME ?? '/',
        LANG: process.env.LANG ?? 'C.UTF-8',
        [cookieVariable]: cookie,
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
    const startTime = processStartTime(pid);
    this.pid = pid;
    this.identity = { pid, startTime, cookie };
    this.state = 'running';
    this.startedAt = new Date();
    child.once('exit', (code, signal) => this.onExit(code, signal));
    try {
      writeFileDurable(this.spec.pidFile, JSON.stringify({ pid, startTime, cookie }));
    } catch (e) {
      // without its pid file a restarted agent would start a second copy: this one does not run
      this.wanted = false;
      const gone = new Promise<void>((resolve) => this.exitWaiters.push(resolve));
      await this.killAll();
      await gone;
      this.state = 'crashed';
      throw e;
    }
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
      // what the crashed program left behind (a child still holding the port) goes first
      void this.killAll()
        .then(() => (this.wanted ? this.spawnOnce() : undefined))
        .catch(() => this.onExit(null, null));
    }, delay);
    this.restartTimer.unref();
  }

  /** ends timers (agent shutdown); the program keeps running, to be adopted */
  detach(): void {
    clearTimeout(this.restartTimer);
    clearInterval(this.pollTimer);
  }
}

/** the PATH the supervised programs get: the runtime's bin first when there is one */
export function programPath(prefix: string | undefined, inherited: string | undefined): string {
  const base = inherited || '/usr/bin:/bin';
  return prefix ? `${prefix}:${base}` : base;
}
