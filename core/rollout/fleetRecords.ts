// The rollout as its agents recorded it, for any controller: read every agent's record of the
// package's latest rollout and its lease, keep the newest rollout, check each event (another
// controller wrote it, the network carried it: journalSchema.ts) and merge them in seq order into
// one journal. Reading changes nothing and needs only the read-only token. The merge is pure.
import { AgentTooOldError } from '../agentClient/records';
import { errorMessage } from '../errors';
import { mapLimit } from '../limit';
import type { LeaseView, RolloutRecord } from '../protocol/agentRecords';
import type { LoadedService } from './config';
import type { JournalEvent } from './journal';
import { checkEvent } from './journalSchema';
import type { FleetAgent } from './leases';
import { foldProgress, type RolloutProgress } from './progress';

export interface AgentRead {
  endpoint: string;
  backends: string[];
  record: RolloutRecord | null;
  lease: LeaseView | null;
  /** the agent predates rollout records */
  old?: boolean;
  /** it could not be read */
  error?: string;
}

export async function readFleetRecords(svc: LoadedService, agents: readonly FleetAgent[]): Promise<AgentRead[]> {
  return mapLimit(agents, 16, async (a) => {
    const base = { endpoint: a.endpoint, backends: a.backends, record: null, lease: null };
    try {
      const [record, lease] = await Promise.all([
        a.client.rolloutRecord(svc.packageName),
        a.client.lease(svc.packageName),
      ]);
      return { ...base, record, lease };
    } catch (e) {
      if (e instanceof AgentTooOldError) return { ...base, old: true };
      return { ...base, error: errorMessage(e) };
    }
  });
}

export interface MergedRollout {
  rolloutId: string;
  service: { path: string; sha256: string };
  sha256: string;
  events: JournalEvent[];
  /** live leases of this rollout (not expired) */
  live: LeaseView[];
  /** events dropped because they were not what a journal holds, with the agent */
  problems: string[];
}

/** the newest rollout the agents recorded (by its plan's time), its events merged; null when none */
export function mergeRollout(reads: readonly AgentRead[]): MergedRollout | null {
  const byId = new Map<string, { record: RolloutRecord; endpoint: string }[]>();
  for (const r of reads)
    if (r.record)
      byId.set(r.record.rolloutId, [
        ...(byId.get(r.record.rolloutId) ?? []),
        { record: r.record, endpoint: r.endpoint },
      ]);
  if (byId.size === 0) return null;
  const planAt = (rs: { record: RolloutRecord }[]) =>
    rs
      .flatMap((x) => x.record.events)
      .map((e) => e.event as { t?: unknown; at?: unknown })
      .filter((e) => e?.t === 'plan' && typeof e.at === 'string')
      .map((e) => e.at as string)
      .sort()
      .at(-1) ?? '';
  const [id, records] = [...byId]
    .sort((a, b) => planAt(a[1]).localeCompare(planAt(b[1])) || a[0].localeCompare(b[0]))
    .at(-1)!;
  const problems: string[] = [];
  const events: JournalEvent[] = [];
  for (const { record, endpoint } of records)
    for (const { seq, event } of record.events) {
      const c = checkEvent({ ...(event as object), seq });
      if ('event' in c) events.push(c.event);
      else if (problems.length < 20) problems.push(`agent ${endpoint}: event ${seq} dropped: ${c.problem}`);
    }
  const first = records[0].record;
  return {
    rolloutId: id,
    service: first.service,
    sha256: first.sha256,
    events: unionEvents([], events),
    live: reads.flatMap((r) => (r.lease && !r.lease.expired && r.lease.rolloutId === id ? [r.lease] : [])),
    problems,
  };
}

/** the events of both, each once (the same seq and content), in seq order */
export function unionEvents(a: readonly JournalEvent[], b: readonly JournalEvent[]): JournalEvent[] {
  const seen = new Map<string, JournalEvent>();
  for (const e of [...a, ...b]) seen.set(`${e.seq}|${e.t}|${e.at}|${(e as { backend?: string }).backend ?? ''}`, e);
  return [...seen.values()].sort((x, y) => (x.seq ?? 0) - (y.seq ?? 0) || x.at.localeCompare(y.at));
}

/** what a front end shows of a rollout the agents recorded: its progress, who runs it, whether it stopped mid-way */
export interface FleetRollout {
  merged: MergedRollout;
  progress: RolloutProgress;
  /** running with a live lease (another controller, maybe this one), or none left: interrupted */
  state: 'running' | 'interrupted' | 'paused' | 'ended';
}

export function fleetRollout(svc: LoadedService, reads: readonly AgentRead[]): FleetRollout | null {
  const merged = mergeRollout(reads);
  if (!merged) return null;
  const progress = foldProgress(
    svc.backends.map((b) => b.addr),
    svc.config.CanaryNum,
    merged.events,
  );
  const state =
    progress.status === 'running'
      ? merged.live.length
        ? 'running'
        : 'interrupted'
      : progress.status === 'paused'
        ? 'paused'
        : 'ended';
  return { merged, progress, state };
}
