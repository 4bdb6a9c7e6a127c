// Sample web backends (examples/web/web.js) and LBs as real processes for tests.
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { LbControlClient } from '../../core/lb/controlClient';
import { cliPath } from './cli';
import { freePort, httpGet, waitFor } from './net';
import { spawnTracked, stopTracked } from './processes';
import { waitForPort } from './sshFleet';

const webJs = resolve(__dirname, '../../examples/web/web.js');

export class WebApp {
  proc: ChildProcess | null = null;
  constructor(
    readonly port: number,
    readonly node: string,
    public version = 'v1',
    public broken = false,
  ) {}

  get addr(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), 'web-'));
    copyFileSync(webJs, join(dir, 'web'));
    writeFileSync(join(dir, 'build.json'), JSON.stringify({ version: this.version, broken: this.broken }));
    this.proc = spawnTracked(process.execPath, [join(dir, 'web'), '--port', String(this.port), '--node', this.node]);
    await waitForPort('127.0.0.1', this.port, 10_000);
  }

  async stop(): Promise<void> {
    if (this.proc) await stopTracked(this.proc);
    this.proc = null;
  }
}

export async function startWebApps(n: number, prefix: string): Promise<WebApp[]> {
  const apps: WebApp[] = [];
  for (let i = 0; i < n; i++) apps.push(new WebApp(await freePort(), `${prefix}-${i}`));
  await Promise.all(apps.map((a) => a.start()));
  return apps;
}

export class BuiltinLbProcess {
  proc: ChildProcess | null = null;
  constructor(
    readonly httpPort: number,
    readonly controlPort: number,
    readonly tokenFile: string,
  ) {}

  /** `fleet lb serve` with a TCP control API and its token file in a scratch dir (`extra`: more flags) */
  static async start(extra: string[] = []): Promise<BuiltinLbProcess> {
    if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: run npm run build`);
    const dir = mkdtempSync(join(tmpdir(), 'lb-'));
    const lb = new BuiltinLbProcess(await freePort(), await freePort(), join(dir, 'token'));
    lb.proc = spawnTracked(process.execPath, [
      cliPath,
      'lb',
      'serve',
      '--http',
      `127.0.0.1:${lb.httpPort}`,
      '--control',
      `127.0.0.1:${lb.controlPort}`,
      '--token-file',
      lb.tokenFile,
      ...extra,
    ]);
    await waitForPort('127.0.0.1', lb.controlPort, 10_000);
    return lb;
  }
  get control(): string {
    return `127.0.0.1:${this.controlPort}`;
  }
  get token(): string {
    return readFileSync(this.tokenFile, 'utf8').trim();
  }
  client(): LbControlClient {
    return new LbControlClient(this.control, this.token);
  }
  get url(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }
  async stop(): Promise<void> {
    if (this.proc) await stopTracked(this.proc);
  }
}

export class HaproxyProcess {
  proc: ChildProcess | null = null;
  readonly dir = mkdtempSync(join(tmpdir(), 'haproxy-'));
  constructor(
    readonly httpPort: number,
    readonly backends: string[],
  ) {}

  get socket(): string {
    return join(this.dir, 'admin.sock');
  }
  get url(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  /** threads: HAProxy's nbthread (default: one per CPU, as HAProxy itself chooses) */
  static async start(
    backends: string[],
    backendName = 'web',
    opts: { threads?: number } = {},
  ): Promise<HaproxyProcess> {
    const bin = '/usr/sbin/haproxy';
    if (!existsSync(bin))
      throw new Error(`${bin} is missing: install the Debian package haproxy (apt-get install -y haproxy)`);
    const h = new HaproxyProcess(await freePort(), backends);
    const cfg = join(h.dir, 'haproxy.cfg');
    writeFileSync(
      cfg,
      [
        'global',
        ...(opts.threads ? [`  nbthread ${opts.threads}`] : []),
        `  stats socket ${h.socket} mode 600 level admin`,
        `  server-state-file ${join(h.dir, 'server-state')}`,
        'defaults',
        '  mode http',
        '  timeout connect 2s',
        '  timeout client 30s',
        '  timeout server 30s',
        '  retries 3',
        '  option redispatch',
        '  load-server-state-from-file global',
        'frontend fe',
        `  bind 127.0.0.1:${h.httpPort}`,
        `  default_backend ${backendName}`,
        `backend ${backendName}`,
        '  balance leastconn',
        '  option httpchk GET /healthz',
        '  http-check expect string ok',
        '  default-server inter 200ms fall 2 rise 1',
        ...backends.map((b, i) => `  server s${i} ${b} check`),
        '',
      ].join('\n'),
    );
    await h.launch();
    return h;
  }

  /**
   * HAProxy in front of `backends` with no health check, the given timeouts (ms) and retries, reading
   * request bodies before it connects (`option http-buffer-request`) and adding X-Forwarded-For: the
   * peer of the built-in LB in the differential suite (test/integration/lbHaproxyDifferential.test.ts).
   */
  static async startPlain(
    backends: string[],
    t: { connect: number; client: number; server: number; httpRequest: number; retries: number },
  ): Promise<HaproxyProcess> {
    const h = new HaproxyProcess(await freePort(), backends);
    writeFileSync(
      join(h.dir, 'haproxy.cfg'),
      [
        'global',
        `  stats socket ${h.socket} mode 600 level admin`,
        'defaults',
        '  mode http',
        `  timeout connect ${t.connect}ms`,
        `  timeout client ${t.client}ms`,
        `  timeout server ${t.server}ms`,
        `  timeout http-request ${t.httpRequest}ms`,
        `  retries ${t.retries}`,
        '  option http-buffer-request',
        '  option forwardfor',
        'frontend fe',
        `  bind 127.0.0.1:${h.httpPort}`,
        '  default_backend be',
        'backend be',
        ...backends.map((b, i) => `  server s${i} ${b}`),
        '',
      ].join('\n'),
    );
    await h.launch();
    return h;
  }

  get stateFile(): string {
    return join(this.dir, 'server-state');
  }

  private async launch(): Promise<void> {
    this.proc = spawnTracked('/usr/sbin/haproxy', ['-f', join(this.dir, 'haproxy.cfg'), '-db'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    this.proc.stderr!.on('data', (d) => (err += d));
    await waitFor(async () => {
      if (this.proc!.exitCode !== null) throw new Error(`haproxy exited: ${err}`);
      await waitForPort('127.0.0.1', this.httpPort, 200);
      if (!existsSync(this.socket)) throw new Error('no admin socket yet');
    }, 10_000);
  }

  /** stops HAProxy and starts it again with the same config (what a reload does to runtime state) */
  async restart(): Promise<void> {
    await this.stop();
    rmSync(this.socket, { force: true });
    await this.launch();
  }

  async stop(): Promise<void> {
    if (this.proc) await stopTracked(this.proc);
  }
}

export { httpGet };
