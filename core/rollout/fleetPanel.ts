// What the rollout panel shows of the agents' records, vscode-free: the rollout another controller
// (another window, machine or CI job) runs on these agents, with its progress and holder, and the
// History view: the newest entries of every agent's history of the package, in words. Read with the
// same calls as `fleet status` and `fleet history`, bounded (the newest `limit` entries per agent).
import { describeActor } from '../protocol/agentRecords';
import type { LoadedService } from './config';
import { historyWarnings, mergeTimeline, readFleetHistory } from './fleetHistory';
import { fleetRollout, readFleetRecords } from './fleetRecords';
import type { FleetAgent } from './leases';
import type { RolloutProgress } from './progress';

/** one line of the History view */
export interface HistoryRow {
  at: string;
  backends: string;
  action: string;
  outcome: string;
  /** the package after it (12 hex digits), or the rollout's for lease entries */
  sha: string;
  /** `rollout R`, `by hand`, `forced by hand` */
  origin: string;
  by: string;
  detail?: string;
}

export interface FleetPanelData {
  /** the agents' latest rollout, when it has not ended */
  rollout?: {
    id: string;
    state: 'running' | 'interrupted' | 'paused';
    /** who holds it, in words (running only) */
    holder?: string;
    progress: RolloutProgress;
  };
  /** newest first */
  history: HistoryRow[];
  warnings: string[];
  readAt: string;
}

export async function readFleetPanel(
  svc: LoadedService,
  agents: readonly FleetAgent[],
  limit = 50,
): Promise<FleetPanelData> {
  const [reads, histories] = await Promise.all([readFleetRecords(svc, agents), readFleetHistory(svc, agents, limit)]);
  const r = fleetRollout(svc, reads);
  const holder = r?.merged.live[0];
  const history = mergeTimeline(histories)
    .reverse()
    .slice(0, limit)
    .map((e): HistoryRow => ({
      at: e.at,
      backends: e.backends.join(', '),
      action: e.action,
      outcome: e.outcome,
      sha: (e.action === 'lease' || e.action === 'release' ? e.rolloutSha256 : e.sha256)?.slice(0, 12) ?? '',
      origin: e.rolloutId ? `rollout ${e.rolloutId}` : e.forced ? 'forced by hand' : 'by hand',
      by: e.by ? describeActor(e.by) : `someone (${e.via})`,
      ...(e.detail ? { detail: e.detail } : {}),
    }));
  return {
    ...(r && r.state !== 'ended'
      ? {
          rollout: {
            id: r.merged.rolloutId,
            state: r.state,
            ...(holder ? { holder: describeActor(holder.holder) } : {}),
            progress: r.progress,
          },
        }
      : {}),
    history,
    warnings: [
      ...historyWarnings(histories),
      ...reads.flatMap((x) => (x.error ? [`agent ${x.endpoint}: ${x.error}`] : [])),
    ],
    readAt: new Date().toISOString(),
  };
}
