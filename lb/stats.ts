// Per-backend traffic counters of the built-in LB: requests, answers by class, tries without an
// answer, and a response-time histogram. Cumulative per address for the pool's life (a backend
// drained and added again keeps counting), read as deltas by whoever wants rates. The hot path is
// a few increments and one loop over 13 bounds.
import { latencyBoundsMs, type BackendTraffic } from '../core/protocol/lb';

const classes = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

export class TrafficCounters {
  requests = 0;
  errors = 0;
  readonly responses = [0, 0, 0, 0, 0];
  readonly counts = new Array<number>(latencyBoundsMs.length + 1).fill(0);
  sumMs = 0;

  constructor(readonly backend: string) {}

  /** an answer with `status` whose headers came `ms` after the try started */
  answered(status: number, ms: number): void {
    const c = Math.floor(status / 100) - 1;
    if (c >= 0 && c < 5) this.responses[c]++;
    let i = 0;
    while (i < latencyBoundsMs.length && ms > latencyBoundsMs[i]) i++;
    this.counts[i]++;
    this.sumMs += ms;
  }

  report(): BackendTraffic {
    return {
      backend: this.backend,
      requests: this.requests,
      responses: Object.fromEntries(classes.map((k, i) => [k, this.responses[i]])) as BackendTraffic['responses'],
      errors: this.errors,
      latency: { kind: 'histogram', counts: [...this.counts], sumMs: Math.round(this.sumMs * 1000) / 1000 },
    };
  }
}

/** the Prometheus text of every pool's counters (and in-flight and health gauges) */
export function prometheusText(
  pools: Iterable<{
    pattern: string;
    traffic: Iterable<TrafficCounters>;
    inflight(addr: string): number | undefined;
    healthy(addr: string): boolean | undefined;
  }>,
): string {
  const lines: string[] = [];
  const head = (name: string, type: string, help: string) =>
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  const rows: Array<{ labels: string; t: TrafficCounters; inflight?: number; healthy?: boolean }> = [];
  for (const p of pools)
    for (const t of p.traffic)
      rows.push({
        labels: `pool="${esc(p.pattern)}",backend="${esc(t.backend)}"`,
        t,
        inflight: p.inflight(t.backend),
        healthy: p.healthy(t.backend),
      });
  head('fleet_lb_backend_requests_total', 'counter', 'Requests routed to the backend (each try counts).');
  for (const r of rows) lines.push(`fleet_lb_backend_requests_total{${r.labels}} ${r.t.requests}`);
  head('fleet_lb_backend_responses_total', 'counter', 'Answers from the backend by status class.');
  for (const r of rows)
    classes.forEach((c, i) =>
      lines.push(`fleet_lb_backend_responses_total{${r.labels},code="${c}"} ${r.t.responses[i]}`),
    );
  head(
    'fleet_lb_backend_errors_total',
    'counter',
    'Tries that got no answer from the backend (refused, reset, timeout).',
  );
  for (const r of rows) lines.push(`fleet_lb_backend_errors_total{${r.labels}} ${r.t.errors}`);
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
  head('fleet_lb_backend_inflight', 'gauge', 'Requests in flight to the backend (absent: not in the pool).');
  for (const r of rows)
    if (r.inflight !== undefined) lines.push(`fleet_lb_backend_inflight{${r.labels}} ${r.inflight}`);
  head('fleet_lb_backend_up', 'gauge', '1 when the backend is in the pool and passed its last health check.');
  for (const r of rows) lines.push(`fleet_lb_backend_up{${r.labels}} ${r.healthy ? 1 : 0}`);
  return lines.join('\n') + '\n';
}
