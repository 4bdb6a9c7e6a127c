// Canary analysis from the load balancer's own counters: what the canary served during its soak
// against what the baseline (the backends still on the old version) served in the same window.
// Pure: windows are deltas of two TrafficReports; the verdict is a function of the config and the
// two windows. The workflow takes the reports; the Prometheus provider (prometheus.ts) gives a
// number to compare instead.
import { latencyBoundsMs, type BackendTraffic, type TrafficReport } from '../protocol/lb';
import type { ServiceConfig } from './schema';

export type AnalysisConfig = NonNullable<ServiceConfig['Analysis']>;

/** what a set of backends served in a window */
export interface TrafficWindow {
  /** tries the backends were judged on: answered, or not answered through their fault (never what a client ended) */
  requests: number;
  /** 5xx answers, tries the backend failed to answer, and answers it broke off */
  errors: number;
  /** histogram counts (built-in LB) summed over the backends, or a request-weighted mean (HAProxy) */
  latency: { kind: 'histogram'; counts: number[] } | { kind: 'mean'; meanMs: number | null };
}

export interface WindowSummary {
  requests: number;
  errors: number;
  /** errors / requests; null without requests */
  errorRate: number | null;
  /** p95 from the histogram (built-in LB) or the mean (HAProxy); null without answers */
  latencyMs: number | null;
  latencyKind: 'p95' | 'mean';
}

export type Verdict = 'pass' | 'fail' | 'pending' | 'warn';

export interface AnalysisResult {
  verdict: Verdict;
  canary: WindowSummary;
  baseline: WindowSummary;
  /** why it failed or warned, in words with the numbers */
  reasons: string[];
}

function errorsOf(t: BackendTraffic): number {
  return t.responses['5xx'] + t.errors + (t.brokenAnswers ?? 0);
}

/**
 * Tries the backend's own doing decided: its answers and its failures to answer. A try the client
 * ended (it left, reset, or was too slow) before an answer is in neither, so no client can move a
 * canary's error rate either way.
 */
function judgedOf(t: BackendTraffic): number {
  const r = t.responses;
  return r['1xx'] + r['2xx'] + r['3xx'] + r['4xx'] + r['5xx'] + t.errors;
}

/**
 * What `backends` served between two reports (a counter that went down was reset, by an LB restart:
 * the later value is the window then). A backend absent from `before` counts from zero.
 */
export function windowOf(
  before: TrafficReport | undefined,
  after: TrafficReport,
  backends: readonly string[],
): TrafficWindow {
  let requests = 0;
  let errors = 0;
  let counts: number[] | null = null;
  let meanWeighted = 0;
  let meanWeight = 0;
  let anyMean = false;
  for (const addr of backends) {
    const a = after.backends.find((b) => b.backend === addr);
    if (!a) continue;
    const b = before?.backends.find((x) => x.backend === addr);
    const reset = b !== undefined && a.requests < b.requests;
    const base = reset ? undefined : b;
    const dReq = judgedOf(a) - (base ? judgedOf(base) : 0);
    requests += dReq;
    errors += errorsOf(a) - (base ? errorsOf(base) : 0);
    if (a.latency.kind === 'histogram') {
      const prev = base?.latency.kind === 'histogram' ? base.latency.counts : undefined;
      counts ??= new Array<number>(a.latency.counts.length).fill(0);
      a.latency.counts.forEach((c, i) => (counts![i] += c - (prev?.[i] ?? 0)));
    } else {
      anyMean = true;
      if (dReq > 0) {
        meanWeighted += a.latency.meanMs * dReq;
        meanWeight += dReq;
      }
    }
  }
  const latency: TrafficWindow['latency'] =
    counts && !anyMean
      ? { kind: 'histogram', counts }
      : { kind: 'mean', meanMs: meanWeight > 0 ? meanWeighted / meanWeight : null };
  return { requests, errors, latency };
}

/**
 * The q-quantile (0..1) of a histogram over latencyBoundsMs, interpolated inside its bucket as
 * Prometheus' histogram_quantile does; the open last bucket answers its lower bound. Null when empty.
 */
export function quantileMs(counts: readonly number[], q: number): number | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    if (seen + counts[i] >= rank && counts[i] > 0) {
      if (i >= latencyBoundsMs.length) return latencyBoundsMs[latencyBoundsMs.length - 1];
      const lo = i === 0 ? 0 : latencyBoundsMs[i - 1];
      const hi = latencyBoundsMs[i];
      return lo + ((hi - lo) * (rank - seen)) / counts[i];
    }
    seen += counts[i];
  }
  return latencyBoundsMs[latencyBoundsMs.length - 1];
}

export function summarize(w: TrafficWindow): WindowSummary {
  return {
    requests: w.requests,
    errors: w.errors,
    errorRate: w.requests > 0 ? w.errors / w.requests : null,
    latencyMs: w.latency.kind === 'histogram' ? quantileMs(w.latency.counts, 0.95) : w.latency.meanMs,
    latencyKind: w.latency.kind === 'histogram' ? 'p95' : 'mean',
  };
}

const pct = (r: number | null) => (r === null ? '-' : `${(r * 100).toFixed(1)} %`);
const ms = (x: number | null) => (x === null ? '-' : `${x < 10 ? x.toFixed(1) : Math.round(x)} ms`);

/** `201 requests, 21.4 % errors (43), p95 12 ms` */
export function describeWindow(s: WindowSummary): string {
  return `${s.requests} requests, ${pct(s.errorRate)} errors (${s.errors}), ${s.latencyKind} ${ms(s.latencyMs)}`;
}

/**
 * The verdict on the canary's window against the baseline's. Before the soak ends (`final` false) it
 * fails as soon as the canary has MinRequests and breaks a limit, else stays pending; at the end, too
 * little traffic is TooLittleTraffic's verdict ('fail', or 'pass' with a warning).
 */
export function judge(
  cfg: AnalysisConfig,
  canaryW: TrafficWindow,
  baselineW: TrafficWindow,
  final: boolean,
): AnalysisResult {
  const canary = summarize(canaryW);
  const baseline = summarize(baselineW);
  const reasons: string[] = [];
  if (canary.requests < cfg.MinRequests) {
    if (!final) return { verdict: 'pending', canary, baseline, reasons };
    reasons.push(
      `only ${canary.requests} request(s) reached the canary during the soak, fewer than MinRequests ${cfg.MinRequests}`,
    );
    return { verdict: cfg.TooLittleTraffic === 'pass' ? 'warn' : 'fail', canary, baseline, reasons };
  }
  if (canary.errorRate! > cfg.MaxErrorRate)
    reasons.push(
      `canary error rate ${pct(canary.errorRate)} (${canary.errors} of ${canary.requests}) is over MaxErrorRate ${pct(cfg.MaxErrorRate)}; baseline ${pct(baseline.errorRate)} (${baseline.errors} of ${baseline.requests})`,
    );
  if (cfg.MaxLatencyRatio !== undefined && canary.latencyMs !== null) {
    if (baseline.requests >= cfg.MinRequests && baseline.latencyMs !== null) {
      // below the first bucket's bound nothing is told apart: a floor keeps 0.2 ms vs 0.6 ms from being "3x"
      const floor = latencyBoundsMs[0];
      const ratio = Math.max(canary.latencyMs, floor) / Math.max(baseline.latencyMs, floor);
      if (ratio > cfg.MaxLatencyRatio)
        reasons.push(
          `canary ${canary.latencyKind} ${ms(canary.latencyMs)} is ${ratio.toFixed(2)}x the baseline's ${ms(baseline.latencyMs)}, over MaxLatencyRatio ${cfg.MaxLatencyRatio}`,
        );
    } else if (final) reasons.push(`latency not compared: the baseline served ${baseline.requests} request(s)`);
  }
  const failed = reasons.some((r) => !r.startsWith('latency not compared'));
  if (failed) return { verdict: 'fail', canary, baseline, reasons };
  if (!final) return { verdict: 'pending', canary, baseline, reasons: [] };
  return { verdict: reasons.length ? 'warn' : 'pass', canary, baseline, reasons };
}
