// Traffic counters of the built-in LB. Per backend, each try ends one way: the backend answered (by
// class, with its time to the head), it failed to answer (refused, reset, timed out, malformed: an
// error), it broke an answer off, or the client ended it (left, or too slow). Per pool, what the LB
// answered itself without trying a backend, and clients that left or timed out before a try. Only
// what a backend did counts against it: canary analysis reads `errors`, `brokenAnswers` and 5xx, never
// what a client did. Cumulative per address for the pool's life (a backend drained and added again
// keeps counting), read as deltas by whoever wants rates. The hot path is a few increments.
import { latencyBoundsMs, type BackendTraffic, type PoolFrontTraffic } from '../core/protocol/lb';

const classes = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

export class TrafficCounters {
  requests = 0;
  errors = 0;
  brokenAnswers = 0;
  clientAborts = 0;
  clientTimeouts = 0;
  upgrades = 0;
  readonly responses = [0, 0, 0, 0, 0];
  readonly counts = new Array<number>(latencyBoundsMs.length + 1).fill(0);
  sumMs = 0;

  constructor(readonly backend: string) {}

  /** an answer with `status` whose head came `ms` after the try started */
  answered(status: number, ms: number): void {
    const c = Math.floor(status / 100) - 1;
    if (c >= 0 && c < 5) this.responses[c]++;
    let i = 0;
    while (i < latencyBoundsMs.length && ms > latencyBoundsMs[i]) i++;
    this.counts[i]++;
    this.sumMs += ms;
  }

  report(tunnels?: number): BackendTraffic {
    return {
      backend: this.backend,
      requests: this.requests,
      responses: Object.fromEntries(classes.map((k, i) => [k, this.responses[i]])) as BackendTraffic['responses'],
      errors: this.errors,
      brokenAnswers: this.brokenAnswers,
      clientAborts: this.clientAborts,
      clientTimeouts: this.clientTimeouts,
      upgrades: this.upgrades,
      ...(tunnels !== undefined ? { tunnels } : {}),
      latency: { kind: 'histogram', counts: [...this.counts], sumMs: Math.round(this.sumMs * 1000) / 1000 },
    };
  }
}

/** what a pool's clients did that no backend is to blame for */
export class FrontCounters {
  /** requests the LB answered itself without a try, by status */
  readonly refused = new Map<number, number>();
  clientAborts = 0;
  clientTimeouts = 0;

  refuse(status: number): void {
    this.refused.set(status, (this.refused.get(status) ?? 0) + 1);
  }

  report(queued: number): PoolFrontTraffic {
    return {
      refused: Object.fromEntries([...this.refused].sort((a, b) => a[0] - b[0]).map(([k, v]) => [String(k), v])),
      clientAborts: this.clientAborts,
      clientTimeouts: this.clientTimeouts,
      queued,
    };
  }
}
