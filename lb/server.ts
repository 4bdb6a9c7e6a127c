// `fleet lb serve`: the proxy listener and the control listener, with timeouts against slow clients.
import { createServer, type Server } from 'node:http';
import { controlHandler } from './control';
import { type Pool } from './pool';
import { proxyHandler } from './proxy';
import { formatHostPort, parseHostPort } from '../core/hostPort';

export interface LbOptions {
  http: string;
  control: string;
  maxBodyBytes?: number;
  upstreamTimeoutMs?: number;
}

export interface RunningLb {
  pools: Map<string, Pool>;
  close(): Promise<void>;
}

export function splitHostPort(s: string, flag: string): { host: string; port: number } {
  const hp = parseHostPort(s);
  if (!hp) throw new Error(`${flag} ${s}: expected HOST:PORT, e.g. 127.0.0.1:9090`);
  return hp;
}

export async function serveLb(o: LbOptions): Promise<RunningLb> {
  const pools = new Map<string, Pool>();
  const h = splitHostPort(o.http, '--http');
  const c = splitHostPort(o.control, '--control');
  const proxy = createServer(
    proxyHandler(pools, {
      maxBodyBytes: o.maxBodyBytes ?? 64 * 1024 * 1024,
      upstreamTimeoutMs: o.upstreamTimeoutMs ?? 60_000,
    }),
  );
  const allowed = new Set([formatHostPort(c.host, c.port).toLowerCase(), `localhost:${c.port}`, `127.0.0.1:${c.port}`]);
  const control = createServer(controlHandler(pools, allowed));
  for (const s of [proxy, control]) {
    s.headersTimeout = 10_000; // a client that trickles its headers is cut off
    s.requestTimeout = 120_000;
    s.keepAliveTimeout = 5_000;
  }
  await listen(proxy, h.host, h.port);
  await listen(control, c.host, c.port);
  return {
    pools,
    async close() {
      for (const p of pools.values()) p.close();
      proxy.closeAllConnections();
      control.closeAllConnections();
      await Promise.all([proxy, control].map((s) => new Promise<void>((r) => s.close(() => r()))));
    },
  };
}

function listen(s: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => s.once('error', reject).listen(port, host, () => resolve()));
}
