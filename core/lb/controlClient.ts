// HTTP/JSON client of the built-in LB's control API (used by `fleet lb …` and the builtin adapter).
import { request } from 'node:http';
import type { PoolHealthReport } from '../protocol/lb';
import { LbError } from './types';
import { formatHostPort, parseHostPort } from '../hostPort';

export class LbControlClient {
  readonly host: string;
  readonly port: number;

  constructor(readonly address: string) {
    const hp = parseHostPort(address);
    if (!hp) throw new LbError(address, 'expected the control address as HOST:PORT, e.g. 127.0.0.1:9091');
    this.host = hp.host;
    this.port = hp.port;
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
  ): Promise<{ drained: boolean; inflight: number }> {
    return this.call(
      'POST',
      '/v1/remove-backend',
      { pattern, backend, ...(drainTimeoutSecs ? { drainTimeoutSecs } : {}) },
      signal,
    ) as Promise<{ drained: boolean; inflight: number }>;
  }
  poolHealth(pattern: string, signal?: AbortSignal): Promise<PoolHealthReport> {
    return this.call(
      'GET',
      `/v1/pool-health?pattern=${encodeURIComponent(pattern)}`,
      undefined,
      signal,
    ) as Promise<PoolHealthReport>;
  }

  private call(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<unknown> {
    const text = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: this.host,
          port: this.port,
          method,
          path,
          signal,
          agent: false,
          headers: {
            host: formatHostPort(this.host, this.port),
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
          e.name === 'AbortError'
            ? e
            : new LbError(this.address, `cannot reach the control API: ${e.code ?? e.message}`),
        ),
      );
      req.end(text);
    });
  }
}
