// `fleet lb serve`: the proxy listener, the control listener and (when asked) a read-only metrics
// listener, with timeouts against slow clients
// and a cap on connections. The control API listens on a unix socket of mode 0600 by default; on TCP
// only with a bearer token (its file made 0600 when missing, as the agent's). Closing is front to
// back: no new connection is accepted, requests in flight finish (up to a grace period), then the
// rest is cut.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type Server as NetServer } from 'node:net';
import { chmodSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { defaultLbControl } from '../core/lb/controlClient';
import { formatHostPort, parseHostPort } from '../core/hostPort';
import { sleep } from '../core/sleep';
import { ensureTokenFile } from '../core/token';
import { controlHandler } from './control';
import { createFrontServer } from './front/server';
import { prometheusText } from './metrics';
import { defaultPoolLimits, type Pool, type PoolLimits } from './pool';
import { proxyHandler } from './proxy';
import { FrontCounters } from './stats';

export interface LbOptions {
  http: string;
  /** `unix:/path` (default ~/.fleet/lb/control.sock) or HOST:PORT, which needs a token */
  control?: string;
  /**
   * bearer token file of a TCP control listener (default: `token` beside the default socket); made 0600 when missing
   */
  tokenFile?: string;
  maxBodyBytes?: number;
  /** a backend sending nothing while the LB waits on it (HAProxy's `timeout server`; default 60 s) */
  upstreamTimeoutMs?: number;
  /** a backend not accepting a connection (default 5 s) */
  connectTimeoutMs?: number;
  /** a tunnel (WebSocket) with nothing crossing it (default 1 h) */
  tunnelTimeoutMs?: number;
  /** body bytes read before a backend connection is taken (default 16 KiB) */
  bufferBodyBytes?: number;
  /** each backend's connection budget and the pools' queue (defaults: pool.ts) */
  poolLimits?: Partial<PoolLimits>;
  /** client connections to the proxy at once; more are refused (default 10,000) */
  maxConnections?: number;
  /** HOST:PORT of a read-only listener answering GET /metrics (Prometheus text) */
  metrics?: string;
  /** per-backend traffic counters (default on; off only to measure what they cost) */
  stats?: boolean;
  /** the proxy listener's limits on slow and idle clients (defaults: `timeouts` below) */
  clientTimeouts?: Partial<typeof timeouts>;
}

export interface RunningLb {
  pools: Map<string, Pool>;
  /** the control address as clients name it (`unix:/path` or HOST:PORT) */
  control: string;
  /** the token file of a TCP control listener */
  tokenFile?: string;
  /** HOST:PORT of the metrics listener, when asked for */
  metrics?: string;
  /** stops accepting, lets requests in flight finish for up to graceMs (default 5 s), then closes the rest */
  close(opts?: { graceMs?: number }): Promise<void>;
}

const timeouts = {
  headersTimeoutMs: 10_000, // a client that trickles its headers is cut off
  requestTimeoutMs: 120_000,
  keepAliveTimeoutMs: 5_000,
  clientTimeoutMs: 30_000, // an answer the client takes nothing of (HAProxy's `timeout client`)
};

export function splitHostPort(s: string, flag: string): { host: string; port: number } {
  const hp = parseHostPort(s);
  if (!hp) throw new Error(`${flag} ${s}: expected HOST:PORT, e.g. 127.0.0.1:9090`);
  return hp;
}

export async function serveLb(o: LbOptions): Promise<RunningLb> {
  const pools = new Map<string, Pool>();
  const h = splitHostPort(o.http, '--http');
  const controlAddr = o.control ?? defaultLbControl();
  const unrouted = new FrontCounters();
  const poolLimits: PoolLimits = { ...defaultPoolLimits, ...o.poolLimits };
  const front = createFrontServer(
    proxyHandler(
      pools,
      {
        maxBodyBytes: o.maxBodyBytes ?? 64 * 1024 * 1024,
        serverTimeoutMs: o.upstreamTimeoutMs ?? 60_000,
        connectTimeoutMs: o.connectTimeoutMs ?? 5_000,
        tunnelTimeoutMs: o.tunnelTimeoutMs ?? 3_600_000,
        bufferBodyBytes: o.bufferBodyBytes ?? 16 * 1024,
        stats: o.stats !== false,
      },
      unrouted,
    ),
    { maxHeadBytes: 16 * 1024, ...timeouts, ...o.clientTimeouts },
    (status) => unrouted.refuse(status),
  );
  const proxy = front.server;
  const metrics = o.metrics ? createServer(metricsHandler(pools, unrouted)) : undefined;
  proxy.maxConnections = o.maxConnections ?? 10_000;
  let control: Server;
  let tokenFile: string | undefined;
  let socketPath: string | undefined;
  if (controlAddr.startsWith('unix:')) {
    socketPath = controlAddr.slice('unix:'.length);
    control = createServer(controlHandler(pools, { allowedHosts: new Set(['localhost', 'fleet-lb']) }, poolLimits));
  } else {
    const c = splitHostPort(controlAddr, '--control');
    tokenFile = o.tokenFile ?? join(dirname(defaultLbControl().slice('unix:'.length)), 'token');
    const token = ensureTokenFile(tokenFile);
    const allowed = new Set([
      formatHostPort(c.host, c.port).toLowerCase(),
      `localhost:${c.port}`,
      `127.0.0.1:${c.port}`,
    ]);
    control = createServer(controlHandler(pools, { allowedHosts: allowed, token }, poolLimits));
  }
  const httpServers = [control, ...(metrics ? [metrics] : [])];
  for (const s of httpServers) {
    s.headersTimeout = timeouts.headersTimeoutMs;
    s.requestTimeout = timeouts.requestTimeoutMs;
    s.keepAliveTimeout = timeouts.keepAliveTimeoutMs;
  }
  const servers = [proxy, ...httpServers];
  await listen(proxy, h.host, h.port);
  if (socketPath) await listenUnix(control, socketPath);
  else {
    const c = splitHostPort(controlAddr, '--control');
    await listen(control, c.host, c.port);
  }
  if (metrics) {
    const m = splitHostPort(o.metrics!, '--metrics');
    await listen(metrics, m.host, m.port);
  }
  let closing: Promise<void> | undefined;
  return {
    pools,
    control: controlAddr,
    tokenFile,
    metrics: o.metrics,
    close(opts = {}) {
      closing ??= (async () => {
        const stopped = Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
        // idle keep-alive connections go now; busy ones when their request is done, or at the deadline
        const deadline = Date.now() + (opts.graceMs ?? 5000);
        let done = false;
        void stopped.then(() => (done = true));
        while (!done && Date.now() < deadline) {
          front.closeIdleConnections();
          for (const s of httpServers) s.closeIdleConnections();
          await sleep(20);
        }
        front.closeAllConnections();
        for (const s of httpServers) s.closeAllConnections();
        await stopped;
        for (const p of pools.values()) p.close();
        if (socketPath) rmSync(socketPath, { force: true });
      })();
      return closing;
    },
  };
}

/** GET /metrics: every pool's traffic counters as Prometheus text; read-only, nothing else */
function metricsHandler(pools: Map<string, Pool>, unrouted: FrontCounters) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('only GET /metrics here\n');
      return;
    }
    const body = prometheusText(
      [...pools.values()].map((p) => ({
        pattern: p.pattern,
        traffic: p.traffic.values(),
        front: p.front,
        queued: p.queued,
        inflight: (a: string) => p.backends.get(a)?.inflight,
        tunnels: (a: string) => p.backends.get(a)?.tunnels.size,
        healthy: (a: string) => p.backends.get(a)?.eligible,
      })),
      unrouted,
    );
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
}

function listen(s: Server | NetServer, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => s.once('error', reject).listen(port, host, () => resolve()));
}

/** a unix socket born 0600 in a 0700 directory; a stale socket (nobody answers) is replaced */
async function listenUnix(s: Server, path: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  if (existsSync(path)) {
    const live = await new Promise<boolean>((res) => {
      const c = connect(path);
      c.once('connect', () => (c.destroy(), res(true)));
      c.once('error', () => res(false));
    });
    if (live) throw new Error(`another LB already listens on ${path}; stop it first or pass --control`);
    rmSync(path, { force: true });
  }
  const oldMask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => s.once('error', reject).listen(path, () => resolve()));
  } finally {
    process.umask(oldMask);
  }
  chmodSync(path, 0o600);
}
