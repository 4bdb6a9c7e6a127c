// A bounded load loop for zero-failure tests: a few workers GET a URL until stopped, or until
// maxRequests or maxMs is reached, whichever comes first. Counts 2xx, non-2xx and errors, and
// which node answered (the sample web app's x-fleet-node header).
import { Agent, get } from 'node:http';

export interface LoadResult {
  ok: number;
  non2xx: number;
  errors: number;
  failures: string[];
  byNode: Map<string, number>;
  byVersion: Map<string, number>;
}

export function startLoad(
  url: string,
  /** paceMs: each worker waits this long between requests (a steady rate instead of as fast as it can) */
  opts: { workers?: number; maxRequests?: number; maxMs?: number; paceMs?: number } = {},
): { stop: () => Promise<LoadResult>; current: () => LoadResult } {
  const agent = new Agent({ keepAlive: true, maxSockets: opts.workers ?? 4 });
  const r: LoadResult = { ok: 0, non2xx: 0, errors: 0, failures: [], byNode: new Map(), byVersion: new Map() };
  const maxRequests = opts.maxRequests ?? 20_000;
  const deadline = Date.now() + (opts.maxMs ?? 120_000);
  let stopped = false;
  let sent = 0;
  const one = () =>
    new Promise<void>((resolve) => {
      const req = get(url, { agent }, (res) => {
        res.resume();
        res.on('end', () => {
          if ((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300) {
            r.ok++;
            const n = String(res.headers['x-fleet-node'] ?? '?');
            const v = String(res.headers['x-fleet-version'] ?? '?');
            r.byNode.set(n, (r.byNode.get(n) ?? 0) + 1);
            r.byVersion.set(v, (r.byVersion.get(v) ?? 0) + 1);
          } else {
            r.non2xx++;
            if (r.failures.length < 20) r.failures.push(`HTTP ${res.statusCode}`);
          }
          resolve();
        });
      });
      req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
      req.on('error', (e: NodeJS.ErrnoException) => {
        r.errors++;
        if (r.failures.length < 20) r.failures.push(e.code ?? e.message);
        resolve();
      });
    });
  const worker = async () => {
    while (!stopped && sent < maxRequests && Date.now() < deadline) {
      sent++;
      await one();
      if (opts.paceMs) await new Promise((r) => setTimeout(r, opts.paceMs));
    }
  };
  const workers = Array.from({ length: opts.workers ?? 4 }, worker);
  return {
    current: () => r,
    async stop() {
      stopped = true;
      await Promise.all(workers);
      agent.destroy();
      return r;
    },
  };
}
