// Runs the built agent (dist/agent.js) as a real process for tests: its own data dir, a unix
// socket, optionally TCP with a token; kill -9 and restart on demand. Runs as root, or as the
// user `runAs` names (an agent of the plain user a test fleet logs in as).
import { chmodSync, chownSync, copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { AgentClient } from '../../core/agentClient/client';
import { spawnTracked, stopTracked } from './processes';

/**
 * FLEET_TEST_AGENT_JS runs the tests against another build (an older agent: what a regression test did before its fix)
 */
export const agentJs = process.env.FLEET_TEST_AGENT_JS || resolve(__dirname, '../../dist/agent.js');

export interface AgentProcessOptions {
  listen?: string;
  flags?: string[];
  nodeFlags?: string[];
  /** the user the agent runs as (root when absent) */
  runAs?: { uid: number; gid: number };
}

export class AgentProcess {
  proc: ChildProcess | null = null;
  readonly socket: string;
  readonly tokenFile: string;
  /** the read-only token of the TCP listener (metrics and status) */
  readonly readTokenFile: string;
  /** the TCP listener's TLS certificate (made at first start) */
  readonly certFile: string;
  private stderr = '';

  constructor(
    readonly dataDir: string,
    readonly opts: AgentProcessOptions = {},
  ) {
    this.socket = join(dataDir, 'agent.sock');
    this.tokenFile = join(dataDir, 'token');
    this.readTokenFile = join(dataDir, 'read-token');
    this.certFile = join(dataDir, 'tls-cert.pem');
  }

  /** nodeFlags: V8/Node flags before agent.js (as deploy runs it: core/agentInstall/layout.ts agentNodeFlags) */
  static async start(opts: AgentProcessOptions & { dataDir?: string } = {}): Promise<AgentProcess> {
    const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'fleet-agent-'));
    if (opts.runAs) {
      chownSync(dataDir, opts.runAs.uid, opts.runAs.gid);
      chmodSync(dataDir, 0o700);
    }
    const a = new AgentProcess(dataDir, opts);
    await a.start();
    return a;
  }

  async start(): Promise<void> {
    if (!existsSync(agentJs)) throw new Error(`${agentJs} is missing: run npm run build first`);
    // another user may not reach the checkout (a clone in a 0700 directory): it runs its own copy
    const script = this.opts.runAs ? join(this.dataDir, 'agent.js') : agentJs;
    if (this.opts.runAs) copyFileSync(agentJs, script);
    const args = [
      ...(this.opts.nodeFlags ?? []),
      script,
      'serve',
      '--data-dir',
      this.dataDir,
      ...(this.opts.listen ? ['--listen', this.opts.listen] : []),
      ...(this.opts.flags ?? []),
    ];
    this.stderr = '';
    const as = this.opts.runAs ? { uid: this.opts.runAs.uid, gid: this.opts.runAs.gid } : {};
    this.proc = spawnTracked(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], ...as });
    this.proc.stderr!.on('data', (b) => (this.stderr += b));
    const want = this.opts.listen ? 'listening on http' : 'listening on unix';
    const deadline = Date.now() + 15_000;
    while (!this.stderr.includes(want)) {
      if (this.proc.exitCode !== null) throw new Error(`agent exited ${this.proc.exitCode}: ${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`agent did not start: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  get log(): string {
    return this.stderr;
  }

  get token(): string {
    return readFileSync(this.tokenFile, 'utf8').trim();
  }

  get readToken(): string {
    return readFileSync(this.readTokenFile, 'utf8').trim();
  }

  /** SHA-256 fingerprint of the TLS certificate, as the agent's clients pin it */
  get fingerprint(): string {
    return new X509Certificate(readFileSync(this.certFile)).fingerprint256;
  }

  /** a client over TLS to --listen, pinned to this agent's certificate, with the full token unless told */
  httpsClient(token = this.token): AgentClient {
    const [host, port] = [this.opts.listen!.replace(/:\d+$/, ''), Number(/:(\d+)$/.exec(this.opts.listen!)![1])];
    const text = `https://${this.opts.listen}`;
    return new AgentClient({ kind: 'https', host, port, text }, { token, fingerprint: this.fingerprint });
  }

  get pid(): number {
    return this.proc!.pid!;
  }

  /** a client over the unix socket */
  client(): AgentClient {
    return new AgentClient({ kind: 'unix', path: this.socket, text: `unix:${this.socket}` });
  }

  /** kill -9 the agent alone (its supervised programs are in their own groups and live on) */
  async kill9(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    process.kill(p.pid!, 'SIGKILL');
    await gone;
  }

  async stop(): Promise<void> {
    if (this.proc) await stopTracked(this.proc);
  }
}

/** every pid whose command line contains `needle` (from /proc; no pgrep needed) */
export function pidsMatching(needle: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').join(' ');
      const state = readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1]?.[0];
      if (cmd.includes(needle) && state !== 'Z') out.push(Number(d));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** kills every process whose command line contains needle (test cleanup of supervised programs) */
export function killMatching(needle: string): void {
  for (const p of pidsMatching(needle)) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // gone
    }
  }
}
