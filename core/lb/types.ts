// What a rollout needs of a load balancer, whatever balancer it is.
import { FleetError } from '../errors';
import type { PoolHealthReport, TrafficReport } from '../protocol/lb';

export type BackendLbState = 'serving' | 'draining' | 'out';

export interface BackendState {
  backend: string;
  lb: BackendLbState;
  healthy: boolean;
}

export interface LoadBalancer {
  /** human name for messages: `builtin 127.0.0.1:9091 /` or `haproxy /run/admin.sock web` */
  readonly name: string;
  /** the pool's status and its backends (those in rotation or draining) */
  poolHealth(signal?: AbortSignal): Promise<PoolHealthReport>;
  /** takes the backend out of rotation and resolves once its in-flight requests are done */
  drain(backend: string, opts?: { timeoutMs?: number; signal?: AbortSignal }): Promise<void>;
  /** puts the backend back into rotation (the built-in LB health-checks it first) */
  ready(backend: string, signal?: AbortSignal): Promise<void>;
  state(backend: string, signal?: AbortSignal): Promise<BackendState>;
  /** per-backend traffic counters, cumulative (canary analysis, the panel, `fleet lb stats`) */
  stats(signal?: AbortSignal): Promise<TrafficReport>;
}

export class LbError extends FleetError {
  constructor(
    readonly lb: string,
    message: string,
    readonly status?: number,
  ) {
    super(`load balancer ${lb}: ${message}`);
  }
}
