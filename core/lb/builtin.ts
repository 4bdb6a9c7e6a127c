// The LoadBalancer adapter for Fleet's built-in LB.
import type { PoolHealthReport, TrafficReport } from '../protocol/lb';
import { LbControlClient } from './controlClient';
import { LbError, type BackendState, type LoadBalancer } from './types';

export class BuiltinLb implements LoadBalancer {
  readonly name: string;
  private readonly client: LbControlClient;

  constructor(
    readonly controlAddress: string,
    readonly pattern: string,
    token?: string,
  ) {
    this.client = new LbControlClient(controlAddress, token);
    this.name = `builtin ${controlAddress} ${pattern}`;
  }

  poolHealth(signal?: AbortSignal): Promise<PoolHealthReport> {
    return this.client.poolHealth(this.pattern, signal);
  }

  async drain(backend: string, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<void> {
    const st = await this.state(backend, opts.signal);
    if (st.lb === 'out') return; // already out: drain is idempotent
    const r = await this.client.removeBackend(
      this.pattern,
      backend,
      Math.ceil((opts.timeoutMs ?? 30_000) / 1000),
      opts.signal,
    );
    if (!r.drained)
      throw new LbError(
        this.name,
        `backend ${backend} still had ${r.inflight} request(s) in flight when the drain timed out; it is out of rotation`,
      );
  }

  async ready(backend: string, signal?: AbortSignal): Promise<void> {
    const st = await this.state(backend, signal);
    if (st.lb === 'serving') return;
    await this.client.addBackend(this.pattern, backend, signal);
  }

  stats(signal?: AbortSignal): Promise<TrafficReport> {
    return this.client.stats(this.pattern, signal);
  }

  async state(backend: string, signal?: AbortSignal): Promise<BackendState> {
    const h = await this.poolHealth(signal);
    const b = h.backends.find((x) => x.backend === backend);
    if (!b) return { backend, lb: 'out', healthy: false };
    return { backend, lb: b.draining ? 'draining' : 'serving', healthy: b.status === 'BS_HEALTHY' };
  }
}
