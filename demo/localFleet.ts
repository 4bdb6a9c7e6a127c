// A local fleet on loopback for `fleet demo` and the end-to-end tests: the built-in LB, and one
// agent per backend (TCP with a shared token, data in a temp dir) running the sample web app v1.
// It stops everything it started: the web programs through their agents, then the agents.
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentClient } from '../core/agentClient/client';
import { BuiltinLb } from '../core/lb/builtin';
import { LbControlClient } from '../core/lb/controlClient';
import { parseBackend } from '../core/protocol/lb';
import type { ServiceConfig } from '../core/rollout/schema';
import { serveLb, type RunningLb } from '../lb/server';
import { sleep } from '../core/sleep';

export interface LocalFleetOptions {
  /** service.json to copy (its Backends must be objects with http:// agents) */
  serviceJson: string;
  /** zips by name: web-v1, web-v2, … (examples/build.ts) */
  zips: Record<string, string>;
  agentJs: string;
  log?: (m: string) => void;
  /** proxy listener of the built-in LB (default: the control port minus one); 'none': start no LB */
  lbHttp?: string | 'none';
  /** HOST:PORT where the LB also serves GET /metrics */
  lbMetrics?: string;
  /** a directory holding `node`, put first in the PATH of the web programs (a machine without node in PATH) */
  runtimeBin?: string;
}

export class LocalFleet {
  readonly dir = mkdtempSync(join(tmpdir(), 'fleet-demo-'));
  readonly agents: Array<{ proc: ChildProcess; client: AgentClient; endpoint: string }> = [];
  lb?: RunningLb;
  serviceFile = '';
  config!: ServiceConfig;

  constructor(private readonly o: LocalFleetOptions) {}

  async start(): Promise<void> {
    const log = this.o.log ?? (() => undefined);
    const config = JSON.parse(readFileSync(this.o.serviceJson, 'utf8')) as ServiceConfig;
    this.config = config;
    const tokenFile = join(this.dir, 'agent-token');
    // the service.json, the v2 package and the token, side by side in the demo dir
    this.serviceFile = join(this.dir, 'service.json');
    const withLb = this.o.lbHttp !== 'none';
    writeFileSync(
      this.serviceFile,
      JSON.stringify(
        {
          ...config,
          $schema: undefined,
          AgentTokenFile: 'agent-token',
          ...(withLb ? { LBTokenFile: 'lb-token' } : {}),
        },
        null,
        2,
      ),
    );
    mkdirSync(join(this.dir, 'dist'));
    for (const [name, zip] of Object.entries(this.o.zips)) copyFileSync(zip, join(this.dir, 'dist', `${name}.zip`));
    const backends = config.Backends.map((b) => (typeof b === 'string' ? { Addr: b, Agent: undefined } : b));
    for (const b of backends) {
      if (!b.Agent?.startsWith('http://'))
        throw new Error(
          `${this.o.serviceJson}: the local fleet needs http:// agents, ${b.Addr} has ${b.Agent ?? 'none'}`,
        );
    }
    const httpAddr = this.httpAddr;
    await assertFree([
      ...(withLb ? [config.LB, httpAddr] : []),
      ...backends.map((b) => b.Addr),
      ...backends.map((b) => new URL(b.Agent!).host),
    ]);
    if (withLb) {
      this.lb = await serveLb({
        http: httpAddr,
        control: config.LB,
        tokenFile: join(this.dir, 'lb-token'),
        metrics: this.o.lbMetrics,
      });
      log(`LB: proxy http://${httpAddr}, control ${config.LB}`);
    }

    await Promise.all(
      backends.map(async (b, i) => {
        const url = new URL(b.Agent!);
        const proc = await this.spawnAgent(i, url.host, b.Addr);
        const client = new AgentClient(
          { kind: 'http', host: url.hostname, port: Number(url.port), text: b.Agent! },
          { token: readFileSync(tokenFile, 'utf8').trim() },
        );
        this.agents[i] = { proc, client, endpoint: b.Agent! }; // by index: agents[i] serves Backends[i]
        const { port } = parseBackend(b.Addr)!;
        await client.install('web', this.o.zips['web-v1'], {
          binary: 'web',
          args: ['--port', String(port), '--node', `node-${port}`],
        });
      }),
    );
    log(`${backends.length} agents, each running web v1`);
    if (!withLb) return;
    const control = this.lbClient();
    await control.addPool(config.Pattern, { path: '/healthz', healthyValues: ['ok'], intervalSecs: 1 });
    for (const b of backends)
      await waitUntilAsync(
        () =>
          control.addBackend(config.Pattern, b.Addr).then(
            () => true,
            () => false,
          ),
        15_000,
        `backend ${b.Addr} never passed its health check`,
      );
    log(`pool ${config.Pattern}: ${backends.length} backends`);
  }

  /** (re)starts agent i with its data dir: a restarted agent adopts the programs that still run */
  private async spawnAgent(i: number, listen: string, addr: string): Promise<ChildProcess> {
    const proc = spawn(
      process.execPath,
      [
        this.o.agentJs,
        'serve',
        '--data-dir',
        join(this.dir, `agent${i}`),
        '--listen',
        listen,
        '--token-file',
        join(this.dir, 'agent-token'),
        ...(this.o.runtimeBin ? ['--runtime-bin', this.o.runtimeBin] : []),
      ],
      // inside an editor's extension host process.execPath is Electron: this makes it a plain node
      { stdio: ['ignore', 'ignore', 'pipe'], detached: true, env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } },
    );
    await waitForLine(proc, 'listening on http', 15_000, `agent for ${addr}`);
    return proc;
  }

  /** starts agent i again after it died (kill -9 in fault tests) */
  async restartAgent(i: number): Promise<void> {
    const a = this.agents[i];
    if (a.proc.exitCode === null && a.proc.signalCode === null) return;
    const b = this.config.Backends[i] as { Addr: string; Agent: string };
    a.proc = await this.spawnAgent(i, new URL(b.Agent).host, b.Addr);
  }

  /** the LB's control API, with its token */
  lbClient(): LbControlClient {
    return new LbControlClient(this.config.LB, readFileSync(join(this.dir, 'lb-token'), 'utf8').trim());
  }

  /** the rollout's view of the LB (the pool of service.json's Pattern) */
  lbAdapter(): BuiltinLb {
    return new BuiltinLb(this.config.LB, this.config.Pattern, readFileSync(join(this.dir, 'lb-token'), 'utf8').trim());
  }

  get httpAddr(): string {
    if (this.o.lbHttp && this.o.lbHttp !== 'none') return this.o.lbHttp;
    const lbAddr = parseBackend(this.config.LB)!;
    return `${lbAddr.host}:${lbAddr.port - 1}`;
  }

  get proxyUrl(): string {
    return `http://${this.httpAddr}`;
  }

  /**
   * Stops front to back: the LB stops accepting and lets requests in flight finish, then the web
   * programs (through their agents) and the agents stop; removes the temp dir. A client sending
   * through the LB meanwhile is refused a connection, never answered 502 by a half-stopped fleet.
   */
  async stop(): Promise<void> {
    await this.lb?.close({ graceMs: 5000 });
    await Promise.all(
      this.agents.map(async (a) => {
        await a.client.remove('web').catch(() => undefined);
        try {
          process.kill(-a.proc.pid!, 'SIGTERM');
        } catch {
          // gone
        }
        await new Promise<void>((r) =>
          a.proc.exitCode !== null || a.proc.signalCode !== null ? r() : a.proc.once('exit', () => r()),
        );
      }),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function assertFree(addrs: string[]): Promise<void> {
  for (const a of addrs) {
    const i = a.lastIndexOf(':');
    const busy = await new Promise<boolean>((r) => {
      const s = connect(Number(a.slice(i + 1)), a.slice(0, i));
      s.once('connect', () => (s.destroy(), r(true)));
      s.once('error', () => r(false));
    });
    if (busy)
      throw new Error(
        `${a} is in use; the demo needs ports 7092-7099 and 9090-9099 on 127.0.0.1 free (is another demo running?)`,
      );
  }
}

/** resolves when the process writes `needle` to stderr; rejects when it exits first or after ms */
function waitForLine(proc: ChildProcess, needle: string, ms: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let err = '';
    const finish = (e?: Error) => {
      clearTimeout(t);
      proc.stderr!.off('data', onData);
      proc.stderr!.resume(); // keep draining: an agent blocked on a full pipe would hang
      proc.off('exit', onExit);
      if (e) reject(e);
      else resolve();
    };
    const onData = (d: Buffer) => {
      err += d;
      if (err.includes(needle)) finish();
    };
    const onExit = () => finish(new Error(`${what} exited: ${err.trim()}`));
    const t = setTimeout(() => finish(new Error(`${what} did not start within ${ms / 1000} s: ${err.trim()}`)), ms);
    proc.stderr!.on('data', onData);
    proc.once('exit', onExit);
  });
}

async function waitUntilAsync(ok: () => Promise<boolean>, ms: number, why: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(why);
    await sleep(100);
  }
}
