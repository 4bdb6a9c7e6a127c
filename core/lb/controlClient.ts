// HTTP/JSON client of the built-in LB's control API (used by `fleet lb …` and the builtin adapter),
// over the LB's unix socket (the default: its mode 0600 is the authentication) or over TCP with the
// LB's bearer token.
import { request } from 'node:http';
import { advice } from '../advice';
import { apiDeadlineMs, withDeadline } from '../protocol/httpApi';
import type { PoolHealthReport, TrafficReport } from '../protocol/lb';
import { LbError } from './types';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors';
import { formatHostPort, parseHostPort } from '../hostPort';

/** where `fleet lb serve` listens for control requests unless told otherwise, and where the verbs look */
export function defaultLbControl(): string {
  return `unix:${join(homedir(), '.fleet', 'lb', 'control.sock')}`;
}

export class LbControlClient {
  private readonly target: { socketPath: string } | { host: string; port: number };
  private readonly hostHeader: string;

  /** `address`: `unix:/path` or HOST:PORT (then `token` is the bearer token of the LB's TCP control listener) */
  constructor(
    readonly address: string,
    private readonly token?: string,
    /** how long a call waits for its answer (a drain: its timeout on top) */
    private readonly deadlineMs = apiDeadlineMs,
  ) {
    if (address.startsWith('unix:')) {
      this.target = { socketPath: address.slice('unix:'.length) };
      this.hostHeader = 'localhost';
      return;
    }
    const hp = parseHostPort(address);
    if (!hp) throw new LbError(address, 'expected the control address as unix:/path or HOST:PORT, e.g. 127.0.0.1:9091');
    if (!token) throw new UsageError(`the LB control API at ${address} (TCP) needs its token: ${advice().lbToken}`);
    this.target = hp;
    this.hostHeader = formatHostPort(hp.host, hp.port);
  }

  addPool(
    pattern: string,
    health?: { path?: string; healthyValues?: string[]; intervalSecs?: number; timeoutSecs?: number },
  ): Promise<unknown> {
    return this.call('POST', '/v1/add-pool', { pattern, ...(health ? { health } : {}) });
  }
  removePool(pattern: string): Promise<unknown> {
    return this.call('POST', '/v1/remove-pool', { pattern });
  }
  addBackend(pattern: string, backend: string, signal?: AbortSignal): Promise<PoolHealthReport> {
    return this.call('POST', '/v1/add-backend', { pattern, backend }, signal) as Promise<PoolHealthReport>;
  }
  removeBackend(
    pattern: string,
    backend: string,
    drainTimeoutSecs?: number,
    signal?: AbortSignal,
  ): Promise<{ drained: boolean; inflight: number; tunnelsClosed?: number }> {
    return this.call(
      'POST',
      '/v1/remove-backend',
      { pattern, backend, ...(drainTimeoutSecs ? { drainTimeoutSecs } : {}) },
      signal,
      // the LB answers once the drain is done or its timeout (30 s unless given) passed
      (drainTimeoutSecs ?? 30) * 1000 + this.deadlineMs,
    ) as Promise<{ drained: boolean; inflight: number; tunnelsClosed?: number }>;
  }
  stats(pattern: string, signal?: AbortSignal): Promise<TrafficReport> {
    return this.call(
      'GET',
      `/v1/stats?pattern=${encodeURIComponent(pattern)}`,
      undefined,
      signal,
    ) as Promise<TrafficReport>;
  }
  poolHealth(pattern: string, signal?: AbortSignal): Promise<PoolHealthReport> {
    return this.call(
      'GET',
      `/v1/pool-health?pattern=${encodeURIComponent(pattern)}`,
      undefined,
      signal,
    ) as Promise<PoolHealthReport>;
  }

  /**
   * One call, answered within `deadlineMs` (apiDeadlineMs; a drain waits its own timeout on top): an
   * LB that accepts and never answers fails the call instead of holding a rollout forever.
   */
  private call(
    method: string,
    path: string,
    body?: unknown,
    caller?: AbortSignal,
    deadlineMs = this.deadlineMs,
  ): Promise<unknown> {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const signal = withDeadline(deadlineMs, caller);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          ...this.target,
          method,
          path,
          signal,
          agent: false,
          headers: {
            host: this.hostHeader,
            ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
            ...(text ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } : {}),
          },
        },
        (res) => {
          let out = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (out += d));
          res.on('end', () => {
            let v: unknown;
            try {
              v = JSON.parse(out);
            } catch {
              return reject(
                new LbError(this.address, `answered ${res.statusCode} with non-JSON: ${out.slice(0, 200)}`),
              );
            }
            if ((res.statusCode ?? 500) >= 400)
              reject(new LbError(this.address, (v as { error?: string }).error ?? out, res.statusCode));
            else resolve(v);
          });
        },
      );
      req.on('error', (e: NodeJS.ErrnoException) =>
        reject(
          caller?.aborted
            ? e
            : signal.aborted
              ? new LbError(this.address, `the control API did not answer within ${deadlineMs / 1000} s`)
              : new LbError(this.address, `cannot reach the control API: ${e.code ?? e.message}`),
        ),
      );
      req.end(text);
    });
  }
}
