// The panel's view of the agents' records: every 5 s while someone looks (a visible panel), the
// rollout another controller runs on the service's agents (its progress and holder) and the newest
// history entries (core/rollout/fleetPanel.ts). Readings never overlap: a slow agent skips ticks.
import { errorMessage } from '../../core/errors';
import type { LoadedService } from '../../core/rollout/config';
import { agentClients, type SshAccess } from '../../core/rollout/deps';
import { readFleetPanel, type FleetPanelData } from '../../core/rollout/fleetPanel';
import { agentsOf } from '../../core/rollout/leases';

export class FleetWatch {
  private timer?: NodeJS.Timeout;
  private busy = false;

  constructor(
    private readonly svcOf: () => LoadedService | undefined,
    private readonly ssh: () => SshAccess,
    private readonly onReading: (d: FleetPanelData | { error: string }) => void,
    private readonly everyMs = 5000,
  ) {}

  start(): void {
    if (this.timer) return;
    this.tick();
    this.timer = setInterval(() => this.tick(), this.everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    const svc = this.svcOf();
    if (this.busy || !svc) return;
    this.busy = true;
    Promise.resolve()
      .then(() => readFleetPanel(svc, agentsOf(svc, agentClients(svc, this.ssh))))
      .then(
        (d) => this.onReading(d),
        (e) => this.onReading({ error: `the agents' records are unavailable: ${errorMessage(e)}` }),
      )
      .finally(() => (this.busy = false));
  }
}
