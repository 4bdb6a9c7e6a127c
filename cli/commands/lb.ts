// `fleet lb serve` and the seed's LB verbs: add-pool, remove-pool, add-backend, remove-backend, pool-health;
// and `fleet lb stats`, the pool's traffic per backend.
import type { Command } from 'commander';
import { defaultLbControl, LbControlClient } from '../../core/lb/controlClient';
import { loadToken } from '../../core/token';
import type { BackendTraffic, PoolFrontTraffic, PoolHealthReport, TrafficReport } from '../../core/protocol/lb';
import { quantileMs, windowOf } from '../../core/rollout/analysis';
import { sleep } from '../../core/sleep';
import { positiveInt } from '../sshOptions';
import { formatColumns } from '../columns';
import type { CliIO } from '../io';

const controlFlag = [
  '--control <address>',
  'the LB control API: unix:/path (its mode 0600 is the check) or HOST:PORT (with the LB token)',
  defaultLbControl(),
] as const;
const tokenFlag = ['--token-file <file>', 'bearer token of a TCP control API (or FLEET_LB_TOKEN)'] as const;

type ControlFlags = { control: string; tokenFile?: string };
type ServeFlags = ControlFlags & {
  http: string;
  maxConnections: number;
  metrics?: string;
  stats: boolean;
  backendMaxConn: number;
  queueTimeout: number;
  clientTimeout: number;
  serverTimeout: number;
};

export function printPoolHealth(h: PoolHealthReport): string {
  const rows = [`Pool\tStatus`, `${h.pattern}\t${h.status}`, ``, `Backend\tStatus`];
  for (const b of h.backends) rows.push(`${b.backend}\t${b.status}${b.draining ? ' (draining)' : ''}`);
  return rows.join('\n') + '\n';
}

export function registerLb(program: Command, io: CliIO): void {
  const client = (o: ControlFlags) =>
    new LbControlClient(
      o.control,
      o.control.startsWith('unix:') ? undefined : loadToken(o.tokenFile, 'FLEET_LB_TOKEN', io.env),
    );
  const lb = program.command('lb').description("the built-in load balancer and the seed's LB verbs");
  lb.command('serve')
    .description('run the built-in LB: proxy on --http, control API on --control')
    .option('--http <host:port>', 'proxy listener', '127.0.0.1:9090')
    .option(...controlFlag)
    .option('--token-file <file>', 'with a TCP --control: the bearer token file (made 0600 when missing)')
    .option(
      '--max-connections <n>',
      'client connections to the proxy at once',
      positiveInt('--max-connections'),
      10_000,
    )
    .option(
      '--backend-max-conn <n>',
      "requests in flight to one backend at once (tunnels included); more wait in the pool's queue",
      positiveInt('--backend-max-conn'),
      1000,
    )
    .option(
      '--queue-timeout <secs>',
      'how long a request waits for a backend with room before it is answered 503',
      positiveInt('--queue-timeout'),
      5,
    )
    .option(
      '--client-timeout <secs>',
      'an answer the client takes nothing of for this long is cut (HAProxy: timeout client)',
      positiveInt('--client-timeout'),
      30,
    )
    .option(
      '--server-timeout <secs>',
      'a backend sending nothing for this long while the LB waits on it: 504 (HAProxy: timeout server)',
      positiveInt('--server-timeout'),
      60,
    )
    .option('--metrics <host:port>', 'also serve GET /metrics (Prometheus text: per-backend traffic) there, read-only')
    .option('--no-stats', 'do not count per-backend traffic (only to measure what counting costs)')
    .action(async (o: ServeFlags) => {
      // loaded when the LB runs: every other `fleet` command starts without the proxy's code
      const { serveLb } = await import('../../lb/server');
      const running = await serveLb({
        http: o.http,
        control: o.control,
        tokenFile: o.tokenFile,
        maxConnections: o.maxConnections,
        metrics: o.metrics,
        stats: o.stats,
        upstreamTimeoutMs: o.serverTimeout * 1000,
        poolLimits: { maxConnsPerBackend: o.backendMaxConn, queueTimeoutMs: o.queueTimeout * 1000 },
        clientTimeouts: { clientTimeoutMs: o.clientTimeout * 1000 },
      });
      io.err(
        `fleet lb: proxy on http://${o.http}, control API on ${running.control}${running.tokenFile ? ` (bearer token in ${running.tokenFile})` : ''}${o.metrics ? `, metrics on http://${o.metrics}/metrics` : ''}\n`,
      );
      const stop = () => void running.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  lb.command('add-pool')
    .argument('<pattern>', 'URL path prefix, e.g. /')
    .option(...controlFlag)
    .option(...tokenFlag)
    .option('--health-path <path>', 'health check path (omit for no health checks)')
    .option('--healthy-values <values>', 'comma-separated bodies that mean healthy', 'ok')
    .option('--interval <secs>', 'health check interval', positiveInt('--interval'), 1)
    .action(
      async (pattern: string, o: ControlFlags & { healthPath?: string; healthyValues: string; interval: number }) => {
        const health = o.healthPath
          ? { path: o.healthPath, healthyValues: o.healthyValues.split(',').filter(Boolean), intervalSecs: o.interval }
          : undefined;
        await client(o).addPool(pattern, health);
      },
    );
  lb.command('remove-pool')
    .argument('<pattern>')
    .option(...controlFlag)
    .option(...tokenFlag)
    .action(async (pattern: string, o: ControlFlags) => {
      await client(o).removePool(pattern);
    });
  lb.command('add-backend')
    .description('add a backend once it passes the pool health check')
    .argument('<pattern>')
    .argument('<backend>', 'IP:PORT')
    .option(...controlFlag)
    .option(...tokenFlag)
    .action(async (pattern: string, backend: string, o: ControlFlags) => {
      await client(o).addBackend(pattern, backend);
    });
  lb.command('remove-backend')
    .description('drain a backend: no new requests, returns when its in-flight requests are done')
    .argument('<pattern>')
    .argument('<backend>', 'IP:PORT')
    .option(...controlFlag)
    .option(...tokenFlag)
    .option(
      '--drain-timeout <secs>',
      'give up waiting for in-flight requests after this long',
      positiveInt('--drain-timeout'),
      30,
    )
    .action(async (pattern: string, backend: string, o: ControlFlags & { drainTimeout: number }) => {
      const r = await client(o).removeBackend(pattern, backend, o.drainTimeout);
      if (r.tunnelsClosed)
        io.err(
          `fleet lb: ${backend}: closed ${r.tunnelsClosed} tunnel(s) (WebSocket) still open after ${o.drainTimeout}s\n`,
        );
      if (!r.drained) {
        io.err(
          `fleet lb: ${backend} is out of rotation but ${r.inflight} request(s) were still in flight after ${o.drainTimeout}s\n`,
        );
        io.exitCode = 1;
      }
    });
  lb.command('pool-health')
    .argument('<pattern>')
    .option(...controlFlag)
    .option(...tokenFlag)
    .option('--json', 'print the JSON report')
    .action(async (pattern: string, o: ControlFlags & { json?: boolean }) => {
      const h = await client(o).poolHealth(pattern);
      io.out(o.json ? JSON.stringify(h) + '\n' : printPoolHealth(h));
    });
  lb.command('stats')
    .description('per-backend traffic of a pool: requests, answers by class, errors, response times')
    .argument('<pattern>')
    .option(...controlFlag)
    .option(...tokenFlag)
    .option(
      '--over <secs>',
      'what the last SECS seconds served (two readings) instead of totals',
      positiveInt('--over'),
    )
    .option('--json', 'print the JSON report')
    .action(async (pattern: string, o: ControlFlags & { over?: number; json?: boolean }) => {
      const c = client(o);
      const first = o.over ? await c.stats(pattern) : undefined;
      if (o.over) await sleep(o.over * 1000);
      const now = await c.stats(pattern);
      if (o.json) return io.out(JSON.stringify(first ? { from: first, to: now } : now) + '\n');
      io.out(formatTraffic(first, now));
    });
}

/**
 * One row per backend: tries (totals, or over the window between `first` and `now`), answers by class,
 * the backend's errors (no answer, or an answer broken off) and their share of what it was judged on,
 * p50/p95/p99, and the tries its clients ended; then what the LB answered itself for the pool.
 */
export function formatTraffic(first: TrafficReport | undefined, now: TrafficReport): string {
  const secs = first ? (now.at - first.at) / 1000 : 0;
  const head = [
    'backend',
    'requests',
    ...(first ? ['req/s'] : []),
    '2xx',
    '3xx',
    '4xx',
    '5xx',
    'errors',
    'error %',
    'p50',
    'p95',
    'p99',
    'client aborts',
    'client timeouts',
  ];
  const ms = (x: number | null) => (x === null ? '-' : `${x < 10 ? x.toFixed(1) : Math.round(x)}ms`);
  const rows = now.backends.map((a) => {
    const b = first?.backends.find((x) => x.backend === a.backend);
    const base = b && b.requests <= a.requests ? b : undefined;
    const w = windowOf(first, now, [a.backend]);
    const d = (k: keyof BackendTraffic['responses']) => a.responses[k] - (base?.responses[k] ?? 0);
    const dn = (k: 'requests' | 'clientAborts' | 'clientTimeouts') => (a[k] ?? 0) - (base?.[k] ?? 0);
    const q = (p: number) =>
      w.latency.kind === 'histogram' ? ms(quantileMs(w.latency.counts, p)) : p === 0.5 ? ms(w.latency.meanMs) : '-';
    return [
      a.backend,
      String(dn('requests')),
      ...(first ? [(dn('requests') / Math.max(secs, 0.001)).toFixed(1)] : []),
      String(d('2xx')),
      String(d('3xx')),
      String(d('4xx')),
      String(d('5xx')),
      String(w.errors - d('5xx')),
      w.requests ? `${((w.errors / w.requests) * 100).toFixed(1)}` : '-',
      q(0.5),
      q(0.95),
      q(0.99),
      String(dn('clientAborts')),
      String(dn('clientTimeouts')),
    ];
  });
  const title = first
    ? `pool ${now.pattern}: the last ${secs.toFixed(1)} s`
    : `pool ${now.pattern}: totals since the LB started`;
  return [title, ...formatColumns(head, rows), ...frontLine(first?.front, now.front)].join('\n') + '\n';
}

/** what the LB answered itself for the pool, and what its clients did before a backend was tried */
function frontLine(before: PoolFrontTraffic | undefined, now: PoolFrontTraffic | undefined): string[] {
  if (!now) return [];
  const refused = Object.entries(now.refused)
    .map(([status, n]) => [status, n - (before?.refused[status] ?? 0)] as const)
    .filter(([, n]) => n > 0)
    .map(([status, n]) => `${n} × ${status}`);
  return [
    `answered by the LB itself (no backend tried): ${refused.length ? refused.join(', ') : 'none'}; ` +
      `clients gone before a backend was tried: ${now.clientAborts - (before?.clientAborts ?? 0)}, ` +
      `too slow: ${now.clientTimeouts - (before?.clientTimeouts ?? 0)}; waiting for a backend now: ${now.queued}`,
  ];
}
