// Steady traffic through the demo's LB while the rollout runs, so its canaries have something to be
// judged by (service.json's Analysis): a few workers, one request each every `paceMs`, until stopped
// (or 10 minutes at most). Counts answers by class for the summary line.
import { Agent, get } from 'node:http';

export interface DemoLoad {
  stop(): Promise<{ requests: number; ok: number; failed: number }>;
}

export function startDemoLoad(url: string, opts: { workers?: number; paceMs?: number } = {}): DemoLoad {
  const agent = new Agent({ keepAlive: true, maxSockets: opts.workers ?? 4 });
  const counts = { requests: 0, ok: 0, failed: 0 };
  const deadline = Date.now() + 10 * 60_000;
  let stopped = false;
  const one = () =>
    new Promise<void>((resolve) => {
      counts.requests++;
      const req = get(url, { agent }, (res) => {
        res.resume();
        res.on('end', () => {
          if ((res.statusCode ?? 500) < 400) counts.ok++;
          else counts.failed++;
          resolve();
        });
      });
      req.setTimeout(10_000, () => req.destroy());
      req.on('error', () => (counts.failed++, resolve()));
    });
  const worker = async () => {
    while (!stopped && Date.now() < deadline) {
      await one();
      await new Promise((r) => setTimeout(r, opts.paceMs ?? 10));
    }
  };
  const workers = Array.from({ length: opts.workers ?? 4 }, worker);
  return {
    async stop() {
      stopped = true;
      await Promise.all(workers);
      agent.destroy();
      return counts;
    },
  };
}
