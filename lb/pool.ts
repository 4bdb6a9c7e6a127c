// A pool of backends for one URL prefix: picks a backend by power-of-two-choices on in-flight
// requests, checks health on an interval, and drains backends on removal.
import type { z } from 'zod';
import type {
  BackendReport,
  PoolHealthReport,
  PoolStatus,
  TrafficReport,
  healthCheckSchema,
} from '../core/protocol/lb';
import { Backend } from './backend';
import { TrafficCounters } from './stats';

/** addresses whose counters a pool keeps; beyond it, those of addresses no longer in the pool go first */
const maxTrafficEntries = 1024;

export type HealthCheck = z.output<typeof healthCheckSchema>;

/** a refused control request, with the HTTP status the control API answers */
export class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class Pool {
  readonly backends = new Map<string, Backend>();
  /** traffic per address, for the pool's life (a drained and re-added backend keeps its counters) */
  readonly traffic = new Map<string, TrafficCounters>();
  private timer?: NodeJS.Timeout;

  constructor(
    readonly pattern: string,
    readonly health: HealthCheck | undefined,
  ) {
    if (health) {
      this.timer = setInterval(() => void this.checkAll(), health.intervalSecs * 1000);
      this.timer.unref();
    }
  }

  /** power of two choices: two random eligible backends, the one with fewer requests in flight */
  pick(exclude?: Backend): Backend | undefined {
    const ok = [...this.backends.values()].filter((b) => b.eligible && b !== exclude);
    if (ok.length <= 1) return ok[0];
    const a = ok[Math.floor(Math.random() * ok.length)];
    let b = ok[Math.floor(Math.random() * (ok.length - 1))];
    if (b === a) b = ok[ok.length - 1];
    return a.inflight <= b.inflight ? a : b;
  }

  /** adds a backend once it passes its health check (the seed's rule) */
  async add(addr: string, host: string, port: number): Promise<void> {
    const existing = this.backends.get(addr);
    if (existing && !existing.draining)
      throw new ControlError(409, `backend ${addr} is already in pool ${this.pattern}`);
    const b = new Backend(addr, host, port, this.counters(addr));
    if (this.health) {
      const r = await b.check(this.health.path, this.health.healthyValues, this.health.timeoutSecs * 1000);
      if (!r.ok) {
        b.close();
        throw new ControlError(
          422,
          `backend ${addr} failed its health check (${r.why}); not added to pool ${this.pattern}`,
        );
      }
    }
    // re-adding a backend that is still draining replaces it: new requests go to the new entry,
    // the old one finishes its requests and closes its sockets in drain()
    this.backends.set(addr, b);
  }

  /** stops sending new requests to the backend, waits for its in-flight requests, removes it */
  async drain(addr: string, timeoutMs: number): Promise<{ drained: boolean; inflight: number }> {
    const b = this.backends.get(addr);
    if (!b) throw new ControlError(404, `backend ${addr} is not in pool ${this.pattern}`);
    b.draining = true;
    const drained = await b.idle(timeoutMs);
    if (this.backends.get(addr) === b) this.backends.delete(addr);
    const left = b.inflight;
    // its keep-alive sockets close once nothing is in flight (destroying them earlier would cut requests)
    void b.idle(10 * 60_000).then(() => b.close());
    return { drained, inflight: left };
  }

  private counters(addr: string): TrafficCounters {
    let t = this.traffic.get(addr);
    if (t) return t;
    if (this.traffic.size >= maxTrafficEntries)
      for (const old of this.traffic.keys()) {
        if (this.traffic.size < maxTrafficEntries) break;
        if (!this.backends.has(old)) this.traffic.delete(old);
      }
    t = new TrafficCounters(addr);
    this.traffic.set(addr, t);
    return t;
  }

  trafficReport(): TrafficReport {
    return { pattern: this.pattern, at: Date.now(), backends: [...this.traffic.values()].map((t) => t.report()) };
  }

  report(): PoolHealthReport {
    const backends: BackendReport[] = [...this.backends.values()].map((b) => ({
      backend: b.addr,
      status: b.health,
      ...(b.draining ? { draining: true } : {}),
      inflight: b.inflight,
    }));
    const serving = backends.filter((b) => !b.draining);
    const healthy = serving.filter((b) => b.status === 'BS_HEALTHY').length;
    const status: PoolStatus = healthy === 0 ? 'PS_EMPTY' : healthy === serving.length ? 'PS_FULL' : 'PS_DEGRADED';
    return { pattern: this.pattern, status, backends };
  }

  async checkAll(): Promise<void> {
    const h = this.health;
    if (!h) return;
    await Promise.all(
      [...this.backends.values()].map(async (b) => {
        const r = await b.check(h.path, h.healthyValues, h.timeoutSecs * 1000);
        b.health = r.ok ? 'BS_HEALTHY' : 'BS_SICK';
        b.lastError = r.why;
      }),
    );
  }

  close(): void {
    clearInterval(this.timer);
    for (const b of this.backends.values()) b.close();
  }
}

/** the pool whose pattern is the longest prefix of path */
export function matchPool(pools: Map<string, Pool>, path: string): Pool | undefined {
  let best: Pool | undefined;
  for (const p of pools.values())
    if (path.startsWith(p.pattern) && (!best || p.pattern.length > best.pattern.length)) best = p;
  return best;
}
