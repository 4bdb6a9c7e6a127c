// The panel's live traffic: the LB's counters read every 2 s while someone looks (a visible panel),
// before, during and after a rollout alike, turned into per-backend rates over the last reading.
// Readings overlap never (poller.ts): a slow LB skips ticks instead of piling requests up.
import { errorMessage } from '../../core/errors';
import type { LoadBalancer } from '../../core/lb/types';
import { liveTraffic, type LiveTraffic } from '../../core/rollout/liveTraffic';
import type { TrafficReport } from '../../core/protocol/lb';
import { Poller } from './poller';

export class TrafficWatch {
  private readonly poll: Poller;
  private prev?: TrafficReport;
  private lb?: LoadBalancer;
  private lbKey?: unknown;

  /** `lb` answers the adapter for the service as it is loaded now (its identity changes on reload) */
  constructor(
    private readonly lbOf: () => { key: unknown; make: () => LoadBalancer } | undefined,
    private readonly onReading: (t: LiveTraffic | { error: string }) => void,
    private readonly everyMs = 2000,
  ) {
    this.poll = new Poller(() => this.read(), everyMs);
  }

  get running(): boolean {
    return this.poll.running;
  }

  start(): void {
    this.poll.start();
  }

  stop(): void {
    this.poll.stop();
    this.prev = undefined;
  }

  private read(): Promise<void> | undefined {
    const want = this.lbOf();
    if (!want) return undefined;
    if (want.key !== this.lbKey) {
      this.lbKey = want.key;
      this.prev = undefined;
      try {
        this.lb = want.make();
      } catch (e) {
        this.lb = undefined;
        this.onReading({ error: `traffic unavailable: ${errorMessage(e)}` });
        return undefined;
      }
    }
    const lb = this.lb;
    if (!lb) return undefined;
    return lb.stats(AbortSignal.timeout(this.everyMs * 2)).then(
      (now) => {
        if (this.prev) this.onReading(liveTraffic(this.prev, now));
        this.prev = now;
      },
      (e) => {
        this.prev = undefined;
        this.onReading({ error: `traffic unavailable: ${errorMessage(e)}` });
      },
    );
  }
}
