// The built-in LB's counters as Prometheus text (`fleet lb serve --metrics`): per backend, how each try
// ended (answers by class, the backend's errors and broken answers, the client's aborts and timeouts),
// response times, in-flight tries, tunnels, health; per pool, what the LB answered itself and what
// clients did before a backend was tried, and the queue; requests refused before any pool was found.
import { latencyBoundsMs } from '../core/protocol/lb';
import type { FrontCounters, TrafficCounters } from './stats';

export interface PoolMetrics {
  pattern: string;
  traffic: Iterable<TrafficCounters>;
  front: FrontCounters;
  queued: number;
  inflight(addr: string): number | undefined;
  tunnels(addr: string): number | undefined;
  healthy(addr: string): boolean | undefined;
}

const classes = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

export function prometheusText(pools: Iterable<PoolMetrics>, unrouted: FrontCounters): string {
  const lines: string[] = [];
  const head = (name: string, type: string, help: string) =>
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  const poolList = [...pools];
  const rows = poolList.flatMap((p) =>
    [...p.traffic].map((t) => ({ p, t, labels: `pool="${esc(p.pattern)}",backend="${esc(t.backend)}"` })),
  );
  const counter = (name: string, help: string, value: (t: TrafficCounters) => number) => {
    head(name, 'counter', help);
    for (const r of rows) lines.push(`${name}{${r.labels}} ${value(r.t)}`);
  };
  counter(
    'fleet_lb_backend_requests_total',
    'Tries routed to the backend (each try of a retried request counts).',
    (t) => t.requests,
  );
  head('fleet_lb_backend_responses_total', 'counter', 'Final answers from the backend by status class.');
  for (const r of rows)
    classes.forEach((c, i) =>
      lines.push(`fleet_lb_backend_responses_total{${r.labels},code="${c}"} ${r.t.responses[i]}`),
    );
  counter(
    'fleet_lb_backend_errors_total',
    'Tries the backend did not answer: refused, reset, timed out, or a malformed answer head.',
    (t) => t.errors,
  );
  counter(
    'fleet_lb_backend_broken_answers_total',
    'Answers (not 5xx) the backend broke off after their head: reset, timed out, malformed body.',
    (t) => t.brokenAnswers,
  );
  counter(
    'fleet_lb_backend_client_aborts_total',
    'Tries ended because the client left before its answer was whole (never counted against the backend).',
    (t) => t.clientAborts,
  );
  counter(
    'fleet_lb_backend_client_timeouts_total',
    'Tries ended because the client was too slow with its body or its answer (never counted against the backend).',
    (t) => t.clientTimeouts,
  );
  counter('fleet_lb_backend_upgrades_total', 'Tries the backend answered 101 (tunnels: WebSocket).', (t) => t.upgrades);
  head('fleet_lb_backend_response_seconds', 'histogram', 'Time to the response headers.');
  for (const r of rows) {
    let cum = 0;
    latencyBoundsMs.forEach((b, i) => {
      cum += r.t.counts[i];
      lines.push(`fleet_lb_backend_response_seconds_bucket{${r.labels},le="${b / 1000}"} ${cum}`);
    });
    cum += r.t.counts[latencyBoundsMs.length];
    lines.push(`fleet_lb_backend_response_seconds_bucket{${r.labels},le="+Inf"} ${cum}`);
    lines.push(`fleet_lb_backend_response_seconds_sum{${r.labels}} ${r.t.sumMs / 1000}`);
    lines.push(`fleet_lb_backend_response_seconds_count{${r.labels}} ${cum}`);
  }
  const gauge = (name: string, help: string, value: (r: (typeof rows)[number]) => number | undefined) => {
    head(name, 'gauge', help);
    for (const r of rows) {
      const v = value(r);
      if (v !== undefined) lines.push(`${name}{${r.labels}} ${v}`);
    }
  };
  gauge(
    'fleet_lb_backend_inflight',
    'Tries in flight to the backend, tunnels included (absent: not in the pool).',
    (r) => r.p.inflight(r.t.backend),
  );
  gauge('fleet_lb_backend_tunnels', 'Tunnels (WebSocket) open to the backend (absent: not in the pool).', (r) =>
    r.p.tunnels(r.t.backend),
  );
  gauge('fleet_lb_backend_up', '1 when the backend is in the pool and passed its last health check.', (r) =>
    r.p.healthy(r.t.backend) ? 1 : 0,
  );
  head(
    'fleet_lb_pool_refused_total',
    'counter',
    'Requests the LB answered itself without trying a backend, by status.',
  );
  for (const p of poolList)
    for (const [status, n] of p.front.refused)
      lines.push(`fleet_lb_pool_refused_total{pool="${esc(p.pattern)}",code="${status}"} ${n}`);
  head('fleet_lb_pool_client_aborts_total', 'counter', 'Clients that left before a backend was tried.');
  for (const p of poolList)
    lines.push(`fleet_lb_pool_client_aborts_total{pool="${esc(p.pattern)}"} ${p.front.clientAborts}`);
  head(
    'fleet_lb_pool_client_timeouts_total',
    'counter',
    'Clients too slow with their body before a backend was tried.',
  );
  for (const p of poolList)
    lines.push(`fleet_lb_pool_client_timeouts_total{pool="${esc(p.pattern)}"} ${p.front.clientTimeouts}`);
  head('fleet_lb_pool_queue', 'gauge', 'Requests waiting for a backend with room in its connection budget.');
  for (const p of poolList) lines.push(`fleet_lb_pool_queue{pool="${esc(p.pattern)}"} ${p.queued}`);
  head(
    'fleet_lb_refused_total',
    'counter',
    'Requests refused before a pool was found (a malformed or late head, CONNECT, no pool for the path), by status.',
  );
  for (const [status, n] of unrouted.refused) lines.push(`fleet_lb_refused_total{code="${status}"} ${n}`);
  return lines.join('\n') + '\n';
}
