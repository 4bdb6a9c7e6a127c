// Who deployed what to which backend, when: each agent's history of the package (checked as it
// arrives: core/agentClient/records.ts), merged into one timeline by the agents' clocks. Each
// agent's own entries keep their order (seq); between agents, entries are ordered by time, so clocks
// that disagree by a second can interleave two hosts' entries that close out of order (a limit,
// said in README). The merge and the words are pure.
import { advice } from '../advice';
import { AgentTooOldError } from '../agentClient/records';
import { errorMessage } from '../errors';
import { mapLimit } from '../limit';
import { describeActor, type HistoryAnswer, type HistoryEntry } from '../protocol/agentRecords';
import type { LoadedService } from './config';
import type { FleetAgent } from './leases';

export interface AgentHistory {
  endpoint: string;
  backends: string[];
  answer?: HistoryAnswer;
  /** an agent from before history */
  old?: boolean;
  error?: string;
}

export interface TimelineEntry extends HistoryEntry {
  agent: string;
  backends: string[];
}

export async function readFleetHistory(
  svc: LoadedService,
  agents: readonly FleetAgent[],
  limit?: number,
): Promise<AgentHistory[]> {
  return mapLimit(agents, 16, async (a) => {
    const base = { endpoint: a.endpoint, backends: a.backends };
    try {
      return { ...base, answer: await a.client.history(svc.packageName, limit) };
    } catch (e) {
      if (e instanceof AgentTooOldError) return { ...base, old: true };
      return { ...base, error: errorMessage(e) };
    }
  });
}

/** every agent's entries in one timeline: by time, each agent's own in its order */
export function mergeTimeline(histories: readonly AgentHistory[]): TimelineEntry[] {
  const lists = histories.map((h) =>
    [...(h.answer?.entries ?? [])]
      .sort((a, b) => a.seq - b.seq)
      .map((e) => ({ ...e, agent: h.endpoint, backends: h.backends })),
  );
  // a k-way merge: each agent's list stays in seq order even where its clock stepped back
  const out: TimelineEntry[] = [];
  const at = lists.map(() => 0);
  for (;;) {
    let best = -1;
    for (let i = 0; i < lists.length; i++) {
      const e = lists[i][at[i]];
      if (e && (best < 0 || e.at < lists[best][at[best]].at)) best = i;
    }
    if (best < 0) return out;
    out.push(lists[best][at[best]++]);
  }
}

/** what could not be read, one line each */
export function historyWarnings(histories: readonly AgentHistory[]): string[] {
  return histories.flatMap((h) => [
    ...(h.old
      ? [
          `agent ${h.endpoint} predates history (upgrade it with fleet agent deploy): nothing of ${h.backends.join(', ')}`,
        ]
      : []),
    ...(h.error ? [`agent ${h.endpoint} could not be read: ${h.error}`] : []),
    ...(h.answer?.pruned
      ? [`agent ${h.endpoint}: ${h.answer.pruned} older entries not shown (${advice().historyLimit})`]
      : []),
  ]);
}

/**
 * `2026-12-02 10:00:02  127.0.0.1:9092  install   ok       1a2b3c4d5e6f  rollout R  by alice@laptop (the fleet CLI, pid
 * 7)`
 */
export function describeEntry(e: TimelineEntry): string {
  const when = e.at.slice(0, 19).replace('T', ' ');
  const what = e.sha256 ? e.sha256.slice(0, 12) : e.rolloutSha256 ? `→${e.rolloutSha256.slice(0, 12)}` : '-';
  const by = e.by ? describeActor(e.by) : `someone (${e.via}, no name given)`;
  const origin = e.rolloutId ? `rollout ${e.rolloutId}` : e.forced ? 'FORCED by hand' : 'by hand';
  return [
    when,
    e.backends.join(',').padEnd(21),
    e.action.padEnd(8),
    e.outcome.padEnd(21),
    what.padEnd(13),
    `${origin}, ${by}${e.detail ? `: ${e.detail}` : ''}`,
  ].join('  ');
}
