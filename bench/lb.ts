// Benchmark: requests per second and p99 latency of GET / on the sample web app, direct to a
// backend, through the built-in LB and through HAProxy (2 backends each), with wrk, side by side.
import { spawnSync } from 'node:child_process';
import { BuiltinLbProcess, HaproxyProcess, startWebApps } from '../test/harness/webApps';
import { requireTool, table } from './util';

function wrk(url: string, secs: number): { rps: number; p50: string; p99: string } {
  const bin = requireTool('wrk', 'wrk');
  const p = spawnSync(bin, ['-t2', '-c32', `-d${secs}s`, '--latency', url], { encoding: 'utf8' });
  if (p.status !== 0) throw new Error(`wrk failed: ${p.stderr}`);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(p.stdout)?.[1]);
  const p50 = /^\s+50%\s+(\S+)/m.exec(p.stdout)?.[1] ?? '?';
  const p99 = /^\s+99%\s+(\S+)/m.exec(p.stdout)?.[1] ?? '?';
  const errors = /Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)/.exec(p.stdout);
  if (errors) throw new Error(`wrk saw errors against ${url}: ${errors[0]}`);
  return { rps, p50, p99 };
}

export async function benchLb(secs = 10, rounds = 2): Promise<string> {
  const apps = await startWebApps(2, 'bench');
  const builtin = await BuiltinLbProcess.start();
  const c = builtin.client();
  await c.addPool('/', { path: '/healthz', healthyValues: ['ok'], intervalSecs: 1 });
  for (const a of apps) await c.addBackend('/', a.addr);
  const haproxy = await HaproxyProcess.start(apps.map((a) => a.addr));
  try {
    const targets: Array<[string, string]> = [
      ['direct to one backend', `http://${apps[0].addr}/`],
      ['built-in LB (2 backends)', `${builtin.url}/`],
      ['HAProxy 2.6 (2 backends)', `${haproxy.url}/`],
    ];
    const rows: string[][] = [];
    for (let r = 0; r < rounds; r++) {
      for (const [name, url] of targets) {
        const m = wrk(url, secs);
        rows.push([name, String(r + 1), m.rps.toFixed(0), m.p50, m.p99]);
      }
    }
    return [
      `### GET / through each LB (wrk -t2 -c32 -d${secs}s, ${rounds} rounds interleaved)`,
      '',
      table(['target', 'round', 'req/s', 'p50', 'p99'], rows),
    ].join('\n');
  } finally {
    await haproxy.stop();
    await builtin.stop();
    await Promise.all(apps.map((a) => a.stop()));
  }
}
