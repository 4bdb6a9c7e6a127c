// Benchmark: requests per second and p99 latency of GET / on the sample web app, direct to a
// backend, through the built-in LB and through HAProxy (2 backends each), with wrk, side by side.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { BuiltinLbProcess, HaproxyProcess, startWebApps } from '../test/harness/webApps';
import { median, requireTool, table } from './util';

/** CPU seconds (user + system) a process has used, from /proc/PID/stat */
function cpuSecs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

/** wrk's latency (`812.00us`, `3.17ms`, `1.02s`) in ms */
function ms(text: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text);
  if (!m) return NaN;
  return Number(m[1]) * (m[2] === 'us' ? 1e-3 : m[2] === 's' ? 1e3 : 1);
}

function wrk(url: string, secs: number): { rps: number; p50: string; p99: string; requests: number } {
  const bin = requireTool('wrk', 'wrk');
  const p = spawnSync(bin, ['-t2', '-c32', `-d${secs}s`, '--latency', url], { encoding: 'utf8' });
  if (p.status !== 0) throw new Error(`wrk failed: ${p.stderr}`);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(p.stdout)?.[1]);
  const requests = Number(/(\d+) requests in/.exec(p.stdout)?.[1]);
  const p50 = /^\s+50%\s+(\S+)/m.exec(p.stdout)?.[1] ?? '?';
  const p99 = /^\s+99%\s+(\S+)/m.exec(p.stdout)?.[1] ?? '?';
  const errors = /Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)/.exec(p.stdout);
  if (errors) throw new Error(`wrk saw errors against ${url}: ${errors[0]}`);
  return { rps, p50, p99, requests };
}

export async function benchLb(secs = 8, rounds = 4): Promise<string> {
  const apps = await startWebApps(2, 'bench');
  // the same LB with its per-backend traffic counters on (the default) and off, to see what they cost
  const builtin = await BuiltinLbProcess.start();
  const noStats = await BuiltinLbProcess.start(['--no-stats']);
  for (const lb of [builtin, noStats]) {
    const c = lb.client();
    await c.addPool('/', { path: '/healthz', healthyValues: ['ok'], intervalSecs: 1 });
    for (const a of apps) await c.addBackend('/', a.addr);
  }
  const haproxy = await HaproxyProcess.start(apps.map((a) => a.addr));
  // HAProxy runs one thread per CPU by default (2 here); one thread is the per-core peer of the Node LB
  const haproxy1 = await HaproxyProcess.start(
    apps.map((a) => a.addr),
    'web',
    { threads: 1 },
  );
  try {
    const targets: Array<[string, string]> = [
      ['direct to one backend', `http://${apps[0].addr}/`],
      ['built-in LB (2 backends), stats on', `${builtin.url}/`],
      ['built-in LB (2 backends), --no-stats', `${noStats.url}/`],
      ['HAProxy 2.6 (2 backends)', `${haproxy.url}/`],
      ['HAProxy 2.6 (2 backends), nbthread 1', `${haproxy1.url}/`],
    ];
    const rows: string[][] = [];
    // the LB process's own CPU per request: steadier than throughput on a shared machine
    const pidOf = new Map([
      [targets[1][0], builtin.proc!.pid!],
      [targets[2][0], noStats.proc!.pid!],
      [targets[3][0], haproxy.proc!.pid!],
      [targets[4][0], haproxy1.proc!.pid!],
    ]);
    const cpuPerReq = new Map<string, number[]>([...pidOf.keys()].map((n) => [n, []]));
    const paired: number[] = [];
    const rps = new Map<string, number[]>();
    const p99s = new Map<string, number[]>();
    // every target warmed first, unmeasured: a proxy in service is warm (the Node LB's JIT compiles its hot
    // paths in its first seconds; HAProxy has nothing to warm)
    for (const [, url] of targets) wrk(url, 2);
    for (let r = 0; r < rounds; r++) {
      const round = new Map<string, number>();
      for (const [name, url] of targets) {
        const pid = pidOf.get(name);
        const cpu0 = pid ? cpuSecs(pid) : 0;
        const m = wrk(url, secs);
        if (pid) {
          const us = ((cpuSecs(pid) - cpu0) * 1e6) / m.requests;
          cpuPerReq.get(name)!.push(us);
          round.set(name, us);
        }
        rps.set(name, [...(rps.get(name) ?? []), m.rps]);
        p99s.set(name, [...(p99s.get(name) ?? []), ms(m.p99)]);
        rows.push([
          name,
          String(r + 1),
          m.rps.toFixed(0),
          m.p50,
          m.p99,
          pid ? `${cpuPerReq.get(name)!.at(-1)!.toFixed(1)} µs` : '',
        ]);
      }
      paired.push(round.get(targets[1][0])! / round.get(targets[2][0])! - 1);
    }
    const on = median(cpuPerReq.get(targets[1][0])!);
    const off = median(cpuPerReq.get(targets[2][0])!);
    const ratioLine = (a: string, b: string) =>
      `req/s ${(median(rps.get(a)!) / median(rps.get(b)!)).toFixed(2)}×, p99 ${(median(p99s.get(a)!) / median(p99s.get(b)!)).toFixed(1)}×, CPU per request ${(median(cpuPerReq.get(a)!) / median(cpuPerReq.get(b)!)).toFixed(1)}×`;
    return [
      `### GET / through each LB (wrk -t2 -c32 -d${secs}s, ${rounds} rounds interleaved, after 2 s of warm-up each)`,
      '',
      table(['target', 'round', 'req/s', 'p50', 'p99', 'LB CPU per request'], rows),
      '',
      `Built-in LB (stats on) against HAProxy, medians of the rounds: ${ratioLine(targets[1][0], targets[3][0])}; against HAProxy with one thread: ${ratioLine(targets[1][0], targets[4][0])}.`,
      '',
      `Per-backend traffic counters: the LB's CPU per request is ${on.toFixed(1)} µs with them and ${off.toFixed(1)} µs without (medians); round by round, with them costs ${paired.map((x) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %`).join(', ')}.`,
    ].join('\n');
  } finally {
    await haproxy.stop();
    await haproxy1.stop();
    await builtin.stop();
    await noStats.stop();
    await Promise.all(apps.map((a) => a.stop()));
  }
}
