// A pool of backends for one URL prefix: picks a backend with room in its connection budget by
// power-of-two-choices on in-flight tries; when every healthy backend is at its budget, the request
// waits in the pool's queue (first come, first served) for up to the queue timeout, as HAProxy's
// `maxconn` / `timeout queue` / `maxqueue` do. Checks health on an interval, and drains backends on
// removal (closing their tunnels at the drain timeout).
import type { z } from 'zod';
import type {
  BackendReport,
  PoolHealthReport,
  PoolStatus,
  TrafficReport,
  healthCheckSchema,
} from '../core/protocol/lb';
import { Backend } from './backend';
import { FrontCounters, TrafficCounters } from './stats';

/** addresses whose counters a pool keeps; beyond it, those of addresses no longer in the pool go first */
const maxTrafficEntries = 1024;

export type HealthCheck = z.output<typeof healthCheckSchema>;

/** how many requests a pool's backends take at once, and how long others wait for room */
export interface PoolLimits {
  /** tries (and tunnels) at once per backend */
  maxConnsPerBackend: number;
  /** how long a request waits for a backend with room before the LB answers 503 */
  queueTimeoutMs: number;
  /** requests waiting at once; more are answered 503 at once */
  maxQueue: number;
}

export const defaultPoolLimits: PoolLimits = { maxConnsPerBackend: 1000, queueTimeoutMs: 5000, maxQueue: 10_000 };

/** a backend with room, or null and why none could be had */
export type Acquired = (b: Backend | null, why: string) => void;

interface Waiter {
  exclude: Backend | undefined;
  cb: Acquired;
  timer: NodeJS.Timeout;
}

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
  /** what the pool's clients did that no backend is to blame for */
  readonly front = new FrontCounters();
  private timer?: NodeJS.Timeout;
  private queue: Waiter[] = [];
  private readonly usable: Backend[] = [];

  constructor(
    readonly pattern: string,
    readonly health: HealthCheck | undefined,
    readonly limits: PoolLimits = defaultPoolLimits,
  ) {
    if (health) {
      this.timer = setInterval(() => void this.checkAll(), health.intervalSecs * 1000);
      this.timer.unref();
    }
  }

  /** power of two choices: two random eligible backends with room, the one with fewer tries in flight */
  pick(exclude?: Backend): Backend | undefined {
    const ok = this.usable;
    ok.length = 0;
    for (const b of this.backends.values()) if (b !== exclude && b.eligible && b.hasRoom) ok.push(b);
    if (ok.length <= 1) return ok[0];
    const a = ok[Math.floor(Math.random() * ok.length)];
    let b = ok[Math.floor(Math.random() * (ok.length - 1))];
    if (b === a) b = ok[ok.length - 1];
    return a.inflight <= b.inflight ? a : b;
  }

  /**
   * A backend for a try: one with room now (cb called at once), or the first to have room within the
   * queue timeout. Returns a function that takes the request out of the queue (its client left).
   */
  acquire(exclude: Backend | undefined, cb: Acquired): () => void {
    const b = this.pick(exclude);
    if (b) {
      cb(b, '');
      return noop;
    }
    const healthy = [...this.backends.values()].filter((x) => x.eligible);
    const others = healthy.filter((x) => x !== exclude);
    if (others.length === 0) {
      cb(
        null,
        healthy.length
          ? `no other healthy backend in pool ${this.pattern} to try`
          : `no healthy backend in pool ${this.pattern}`,
      );
      return noop;
    }
    if (this.queue.length >= this.limits.maxQueue) {
      cb(
        null,
        `pool ${this.pattern} is full: its ${others.length} backend(s) each have ${this.limits.maxConnsPerBackend} requests in flight and ${this.queue.length} wait`,
      );
      return noop;
    }
    const w: Waiter = {
      exclude,
      cb,
      timer: setTimeout(() => {
        this.dequeue(w);
        const left = [...this.backends.values()].some((x) => x.eligible && x !== exclude);
        cb(
          null,
          left
            ? `no backend of pool ${this.pattern} had room within ${this.limits.queueTimeoutMs} ms (each takes ${this.limits.maxConnsPerBackend} requests at once)`
            : `no healthy backend left in pool ${this.pattern} after ${this.limits.queueTimeoutMs} ms in its queue`,
        );
      }, this.limits.queueTimeoutMs),
    };
    this.queue.push(w);
    return () => {
      clearTimeout(w.timer);
      this.dequeue(w);
    };
  }

  /** another healthy backend than `b` serves the pool (a try that failed on `b` could go there) */
  hasOther(b: Backend): boolean {
    for (const x of this.backends.values()) if (x !== b && x.eligible) return true;
    return false;
  }

  /** requests waiting for room */
  get queued(): number {
    return this.queue.length;
  }

  /** a backend has room again (a try ended, it was added or became healthy): the queue moves */
  private freed(): void {
    while (this.queue.length > 0) {
      const w = this.queue[0];
      const b = this.pick(w.exclude);
      if (!b) return;
      this.queue.shift();
      clearTimeout(w.timer);
      w.cb(b, '');
    }
  }

  private dequeue(w: Waiter): void {
    const i = this.queue.indexOf(w);
    if (i >= 0) this.queue.splice(i, 1);
  }

  /** adds a backend once it passes its health check (the seed's rule) */
  async add(addr: string, host: string, port: number): Promise<void> {
    const existing = this.backends.get(addr);
    if (existing && !existing.draining)
      throw new ControlError(409, `backend ${addr} is already in pool ${this.pattern}`);
    const b = new Backend(addr, host, port, this.counters(addr), this.limits.maxConnsPerBackend);
    b.onFree = () => this.queue.length > 0 && this.freed();
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
    this.freed();
  }

  /**
   * Stops sending new requests to the backend, waits for its in-flight requests, removes it. Its
   * tunnels (WebSocket) never end by themselves: they are closed at the timeout, and the drain counts
   * as done when nothing else was left.
   */
  async drain(addr: string, timeoutMs: number): Promise<{ drained: boolean; inflight: number; tunnelsClosed: number }> {
    const b = this.backends.get(addr);
    if (!b) throw new ControlError(404, `backend ${addr} is not in pool ${this.pattern}`);
    b.draining = true;
    let drained = await b.idle(timeoutMs);
    const tunnelsClosed = drained ? 0 : b.closeTunnels();
    if (!drained && b.inflight === 0) drained = true;
    if (this.backends.get(addr) === b) this.backends.delete(addr);
    const left = b.inflight;
    // its keep-alive sockets close once nothing is in flight (destroying them earlier would cut requests)
    void b.idle(10 * 60_000).then(() => b.close());
    return { drained, inflight: left, tunnelsClosed };
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
    return {
      pattern: this.pattern,
      at: Date.now(),
      backends: [...this.traffic.values()].map((t) => t.report(this.backends.get(t.backend)?.tunnels.size)),
      front: this.front.report(this.queue.length),
    };
  }

  report(): PoolHealthReport {
    const backends: BackendReport[] = [...this.backends.values()].map((b) => ({
      backend: b.addr,
      status: b.health,
      ...(b.draining ? { draining: true } : {}),
      inflight: b.inflight,
      ...(b.tunnels.size ? { tunnels: b.tunnels.size } : {}),
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
    this.freed();
  }

  close(): void {
    clearInterval(this.timer);
    for (const w of this.queue.splice(0)) {
      clearTimeout(w.timer);
      w.cb(null, `pool ${this.pattern} was removed`);
    }
    for (const b of this.backends.values()) b.close();
  }
}

function noop(): void {}

/** the pool whose pattern is the longest prefix of path */
export function matchPool(pools: Map<string, Pool>, path: string): Pool | undefined {
  let best: Pool | undefined;
  for (const p of pools.values())
    if (path.startsWith(p.pattern) && (!best || p.pattern.length > best.pattern.length)) best = p;
  return best;
}
