// The panel's view of the agents' records: every 5 s while someone looks (a visible panel), the
// rollout another controller runs on the service's agents (its progress and holder) and the newest
// history entries (core/rollout/fleetPanel.ts). Readings never overlap (poller.ts).
import { errorMessage } from '../../core/errors';
import type { LoadedService } from '../../core/rollout/config';
import { agentClients, type SshAccess } from '../../core/rollout/deps';
import { readFleetPanel, type FleetPanelData } from '../../core/rollout/fleetPanel';
import { agentsOf } from '../../core/rollout/leases';
import { Poller } from './poller';

export class FleetWatch {
  private readonly poll: Poller;

  constructor(
    private readonly svcOf: () => LoadedService | undefined,
    private readonly ssh: () => SshAccess,
    private readonly onReading: (d: FleetPanelData | { error: string }) => void,
    everyMs = 5000,
  ) {
    this.poll = new Poller(() => this.read(), everyMs);
  }

  start(): void {
    this.poll.start();
  }

  stop(): void {
    this.poll.stop();
  }

  private read(): Promise<void> | undefined {
    const svc = this.svcOf();
    if (!svc) return undefined;
    return Promise.resolve()
      .then(() => readFleetPanel(svc, agentsOf(svc, agentClients(svc, this.ssh))))
      .then(
        (d) => this.onReading(d),
        (e) => this.onReading({ error: `the agents' records are unavailable: ${errorMessage(e)}` }),
      );
  }
}
