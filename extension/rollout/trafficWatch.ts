// The panel's live traffic: the LB's counters read every 2 s while someone looks (a visible panel),
// before, during and after a rollout alike, turned into per-backend rates over the last reading.
// Readings overlap never: a slow LB skips ticks instead of piling requests up.
import { errorMessage } from '../../core/errors';
import type { LoadBalancer } from '../../core/lb/types';
import { liveTraffic, type LiveTraffic } from '../../core/rollout/liveTraffic';
import type { TrafficReport } from '../../core/protocol/lb';

export class TrafficWatch {
  private timer?: NodeJS.Timeout;
  private prev?: TrafficReport;
  private busy = false;
  private lb?: LoadBalancer;
  private lbKey?: unknown;

  /** `lb` answers the adapter for the service as it is loaded now (its identity changes on reload) */
  constructor(
    private readonly lbOf: () => { key: unknown; make: () => LoadBalancer } | undefined,
    private readonly onReading: (t: LiveTraffic | { error: string }) => void,
    private readonly everyMs = 2000,
  ) {}

  get running(): boolean {
    return this.timer !== undefined;
  }

  start(): void {
    if (this.timer) return;
    this.tick();
    this.timer = setInterval(() => this.tick(), this.everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.prev = undefined;
  }

  private tick(): void {
    if (this.busy) return;
    const want = this.lbOf();
    if (!want) return;
    if (want.key !== this.lbKey) {
      this.lbKey = want.key;
      this.prev = undefined;
      try {
        this.lb = want.make();
      } catch (e) {
        this.lb = undefined;
        this.onReading({ error: `traffic unavailable: ${errorMessage(e)}` });
        return;
      }
    }
    const lb = this.lb;
    if (!lb) return;
    this.busy = true;
    lb.stats(AbortSignal.timeout(this.everyMs * 2))
      .then(
        (now) => {
          if (this.prev) this.onReading(liveTraffic(this.prev, now));
          this.prev = now;
        },
        (e) => {
          this.prev = undefined;
          this.onReading({ error: `traffic unavailable: ${errorMessage(e)}` });
        },
      )
      .finally(() => (this.busy = false));
  }
}
