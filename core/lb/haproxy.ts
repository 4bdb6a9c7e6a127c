// The LoadBalancer adapter for HAProxy: a backend (IP:PORT) is found by address among the servers
// of one HAProxy backend. Drain = `state drain`, wait until `scur` is 0, then `state maint`;
// ready = `state ready`. A reload without a server-state file forgets these: state() always asks
// HAProxy, so callers see a drain that a reload undid instead of trusting a memory of it.
import type { PoolHealthReport, TrafficReport } from '../protocol/lb';
import { adminDrain, adminMaint, HaproxyRuntime, type ServerState } from './haproxyRuntime';
import { LbError, type BackendState, type LoadBalancer } from './types';
import { sleep } from '../sleep';

export class HaproxyLb implements LoadBalancer {
  readonly name: string;
  readonly runtime: HaproxyRuntime;

  constructor(
    readonly socketPath: string,
    readonly backend: string,
    private readonly pollMs = 100,
  ) {
    this.runtime = new HaproxyRuntime(socketPath);
    this.name = `haproxy ${socketPath} ${backend}`;
  }

  async poolHealth(): Promise<PoolHealthReport> {
    const servers = await this.runtime.serversState(this.backend);
    const scur = await this.sessions();
    const inRotation = servers.filter((s) => (s.adminState & adminMaint) === 0);
    const backends = inRotation.map((s) => ({
      backend: s.addr,
      status: s.opState === 2 ? ('BS_HEALTHY' as const) : ('BS_SICK' as const),
      ...((s.adminState & adminDrain) !== 0 ? { draining: true } : {}),
      inflight: scur.get(s.server) ?? 0,
    }));
    const serving = backends.filter((b) => !b.draining);
    const healthy = serving.filter((b) => b.status === 'BS_HEALTHY').length;
    return {
      pattern: this.backend,
      status: healthy === 0 ? 'PS_EMPTY' : healthy === serving.length ? 'PS_FULL' : 'PS_DEGRADED',
      backends,
    };
  }

  async drain(backend: string, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<void> {
    const s = await this.server(backend);
    if ((s.adminState & adminMaint) !== 0) return; // already out
    await this.runtime.set(`set server ${this.backend}/${s.server} state drain`);
    const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
    for (;;) {
      const cur = (await this.sessions()).get(s.server) ?? 0;
      if (cur === 0) break;
      if (opts.signal?.aborted) throw opts.signal.reason;
      if (Date.now() > deadline)
        throw new LbError(
          this.name,
          `server ${s.server} (${backend}) still has ${cur} session(s) after the drain timeout; it stays in drain`,
        );
      await sleep(this.pollMs, opts.signal);
    }
    await this.runtime.set(`set server ${this.backend}/${s.server} state maint`);
  }

  async ready(backend: string): Promise<void> {
    const s = await this.server(backend);
    await this.runtime.set(`set server ${this.backend}/${s.server} state ready`);
  }

  async state(backend: string): Promise<BackendState> {
    const s = await this.server(backend);
    const lb = (s.adminState & adminMaint) !== 0 ? 'out' : (s.adminState & adminDrain) !== 0 ? 'draining' : 'serving';
    return { backend, lb, healthy: s.opState === 2 };
  }

  /**
   * From `show stat`: req_tot, hrsp_1xx…5xx, econ + eresp (no answer), cli_abrt, and rtime, HAProxy's mean
   * response time over a server's last 1024 requests (it keeps no histogram: the analysis compares
   * means then). Servers are named by their address, as everywhere in Fleet.
   */
  async stats(): Promise<TrafficReport> {
    const rows = (await this.runtime.stat()).filter(
      (r) => r.pxname === this.backend && r.svname !== 'BACKEND' && r.svname !== 'FRONTEND' && r.addr,
    );
    const n = (v: string | undefined) => Number(v) || 0;
    return {
      pattern: this.backend,
      at: Date.now(),
      backends: rows.map((r) => ({
        backend: r.addr,
        requests: Math.max(
          n(r.req_tot),
          n(r.hrsp_1xx) +
            n(r.hrsp_2xx) +
            n(r.hrsp_3xx) +
            n(r.hrsp_4xx) +
            n(r.hrsp_5xx) +
            n(r.hrsp_other) +
            n(r.econ) +
            n(r.eresp),
        ),
        responses: {
          '1xx': n(r.hrsp_1xx),
          '2xx': n(r.hrsp_2xx),
          '3xx': n(r.hrsp_3xx),
          '4xx': n(r.hrsp_4xx),
          '5xx': n(r.hrsp_5xx),
        },
        errors: n(r.econ) + n(r.eresp),
        // requests its clients abandoned: never counted against the server (the canary's error rate reads econ + eresp)
        clientAborts: n(r.cli_abrt),
        latency: { kind: 'mean' as const, meanMs: n(r.rtime) },
      })),
    };
  }

  private async server(addr: string): Promise<ServerState> {
    const servers = await this.runtime.serversState(this.backend);
    const s = servers.find((x) => x.addr === addr);
    if (!s)
      throw new LbError(
        this.name,
        `no server with address ${addr} in backend ${this.backend} (servers: ${servers.map((x) => `${x.server}=${x.addr}`).join(', ') || 'none'})`,
      );
    return s;
  }

  private async sessions(): Promise<Map<string, number>> {
    const rows = await this.runtime.stat();
    return new Map(
      rows
        .filter((r) => r.pxname === this.backend && r.svname !== 'BACKEND' && r.svname !== 'FRONTEND')
        .map((r) => [r.svname, Number(r.scur)]),
    );
  }
}
