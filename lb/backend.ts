// One backend of a pool: where it is, how many requests it has in flight, whether its last health
// check passed, and whether it is draining (no new requests; removed once in-flight reach 0).
import { Pool } from 'undici';
import { checkHealth, type HealthResult } from '../core/healthCheck';
import type { BackendHealth } from '../core/protocol/lb';
import type { TrafficCounters } from './stats';

export class Backend {
  inflight = 0;
  health: BackendHealth = 'BS_HEALTHY';
  draining = false;
  lastError = '';
  /**
   * Kept-alive connections to this backend (undici: its HTTP/1.1 client parses an answer with far
   * less work per request than node:http's ClientRequest; see BENCHMARKS.md). No pipelining: one
   * request per connection at a time, as a backend that answers out of order cannot hurt anyone.
   */
  readonly pool: Pool;
  private idleWaiters: Array<() => void> = [];

  constructor(
    readonly addr: string,
    readonly host: string,
    readonly port: number,
    /** this address's traffic counters, kept by the pool across drains and re-adds */
    readonly traffic: TrafficCounters,
    upstreamTimeoutMs = 60_000,
  ) {
    this.pool = new Pool(`http://${host.includes(':') ? `[${host}]` : host}:${port}`, {
      connections: 256,
      pipelining: 1,
      headersTimeout: upstreamTimeoutMs,
      bodyTimeout: upstreamTimeoutMs,
      keepAliveTimeout: 60_000,
    });
  }

  get eligible(): boolean {
    return !this.draining && this.health === 'BS_HEALTHY';
  }

  begin(): void {
    this.inflight++;
  }

  end(): void {
    this.inflight--;
    if (this.inflight === 0) this.idleWaiters.splice(0).forEach((w) => w());
  }

  /** resolves when no request is in flight, or after timeoutMs (false then) */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.inflight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      const done = () => (clearTimeout(t), resolve(true));
      this.idleWaiters.push(done);
    });
  }

  /** one health check: GET path, 2xx, and (when given) a trimmed body among healthyValues */
  check(path: string, healthyValues: readonly string[], timeoutMs: number): Promise<HealthResult> {
    return checkHealth(this.host, this.port, path, healthyValues, timeoutMs);
  }

  close(): void {
    void this.pool.destroy().catch(() => undefined);
  }
}
