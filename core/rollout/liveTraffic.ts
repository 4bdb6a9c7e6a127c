// Live traffic per backend for the rollout panel: rates over the window between two readings of
// the LB's counters (requests a second, error share, p95 or HAProxy's mean).
import type { TrafficReport } from '../protocol/lb';
import { summarize, windowOf } from './analysis';

export interface BackendRate {
  backend: string;
  reqPerSec: number;
  /** 5xx answers and failed tries, in percent of the window's requests; null without requests */
  errorPct: number | null;
  latencyMs: number | null;
  latencyKind: 'p95' | 'mean';
}

export interface LiveTraffic {
  windowSecs: number;
  backends: BackendRate[];
}

export function liveTraffic(prev: TrafficReport, now: TrafficReport): LiveTraffic {
  const secs = Math.max((now.at - prev.at) / 1000, 0.001);
  return {
    windowSecs: Math.round(secs * 10) / 10,
    backends: now.backends.map((b) => {
      const s = summarize(windowOf(prev, now, [b.backend]));
      return {
        backend: b.backend,
        reqPerSec: Math.round((s.requests / secs) * 10) / 10,
        errorPct: s.errorRate === null ? null : Math.round(s.errorRate * 1000) / 10,
        latencyMs: s.latencyMs === null ? null : Math.round(s.latencyMs * 10) / 10,
        latencyKind: s.latencyKind,
      };
    }),
  };
}
