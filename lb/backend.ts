// One backend of a pool: where it is, its connections, how many tries it has in flight (tunnels
// included) against its connection budget, whether its last health check passed, and whether it is
// draining (no new requests; removed once in-flight reach 0, its tunnels closed at the drain timeout).
import { checkHealth, type HealthResult } from '../core/healthCheck';
import type { BackendHealth } from '../core/protocol/lb';
import type { TrafficCounters } from './stats';
import type { Tunnel } from './tunnel';
import { SocketPool } from './upstream/socketPool';

export class Backend {
  inflight = 0;
  health: BackendHealth = 'BS_HEALTHY';
  draining = false;
  lastError = '';
  /** its kept-alive connections: one request on each at a time, never more than the budget open in use */
  readonly sockets: SocketPool;
  readonly tunnels = new Set<Tunnel>();
  /** told when a try ends: a request waiting in the pool's queue may take its place */
  onFree: ((b: Backend) => void) | null = null;
  private idleWaiters: Array<() => void> = [];

  constructor(
    readonly addr: string,
    readonly host: string,
    readonly port: number,
    /** this address's traffic counters, kept by the pool across drains and re-adds */
    readonly traffic: TrafficCounters,
    /** tries (and tunnels) at once: HAProxy's `maxconn` of a server */
    readonly maxConns: number,
  ) {
    this.sockets = new SocketPool(host, port);
  }

  get eligible(): boolean {
    return !this.draining && this.health === 'BS_HEALTHY';
  }

  get hasRoom(): boolean {
    return this.inflight < this.maxConns;
  }

  begin(): void {
    this.inflight++;
  }

  end(): void {
    this.inflight--;
    if (this.inflight === 0) this.idleWaiters.splice(0).forEach((w) => w());
    this.onFree?.(this);
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

  /** closes its tunnels (a drain's timeout); returns how many */
  closeTunnels(): number {
    const n = this.tunnels.size;
    for (const t of [...this.tunnels]) t.close();
    return n;
  }

  /** one health check: GET path, 2xx, and (when given) a trimmed body among healthyValues */
  check(path: string, healthyValues: readonly string[], timeoutMs: number): Promise<HealthResult> {
    return checkHealth(this.host, this.port, path, healthyValues, timeoutMs);
  }

  close(): void {
    this.sockets.close();
  }
}
