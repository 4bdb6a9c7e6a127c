// The rollout's progress on its agents, recorded as it happens: every journal event goes, in order,
// to the agent of the backend it concerns (the plan, a resume, a pause, the end and lease events to
// every agent), under the rollout's lease. A step's start is on its agent before the step acts
// (backendRun awaits `flush`), so a controller that reads the agents after this one died knows at
// least the step each backend was in: steps are idempotent, so running that step again is safe. An
// agent that cannot take the events (unreachable, full, too old) does not stop the rollout: its
// events wait for the next attempt, and what was not recorded is said once in the journal.
import type { AgentClient } from '../agentClient/client';
import { AgentTooOldError, LeaseLostError } from '../agentClient/records';
import { AgentError } from '../agentClient/client';
import { errorMessage } from '../errors';
import type { JournalEvent } from './journal';
import type { FleetAgent } from './leases';

const batch = 200;

interface Queue {
  agent: FleetAgent;
  pending: JournalEvent[];
  sending?: Promise<void>;
  /** recording stopped here for good (too old, full, the lease lost) */
  off?: string;
  /** the last attempt failed: flush does not wait for it again until new events come */
  failing?: boolean;
  /** the failure was said (once until a send succeeds again) */
  reported?: boolean;
}

export interface RecorderHeader {
  rolloutId: string;
  packageName: string;
  service: { path: string; sha256: string };
  sha256: string;
  leaseId: string;
}

export class ProgressRecorder {
  private readonly queues: Queue[];
  private readonly byBackend = new Map<string, Queue>();

  constructor(
    agents: readonly FleetAgent[],
    private readonly header: RecorderHeader,
    /** said once per agent when its recording stops or fails (the caller journals it as a note) */
    private readonly trouble: (backend: string, text: string) => void,
  ) {
    this.queues = agents.map((agent) => ({ agent, pending: [] }));
    for (const q of this.queues) for (const b of q.agent.backends) this.byBackend.set(b, q);
  }

  /** records on `agent` too from now on, starting with `past`: the events so far that concern it (taken late) */
  add(agent: FleetAgent, past: readonly JournalEvent[]): void {
    if (this.queues.some((q) => q.agent.endpoint === agent.endpoint)) return;
    const q: Queue = { agent, pending: [] };
    this.queues.push(q);
    for (const b of agent.backends) this.byBackend.set(b, q);
    for (const e of past) {
      const backend = (e as { backend?: string }).backend;
      if (backend === undefined || agent.backends.includes(backend)) q.pending.push(e);
    }
    if (q.pending.length) this.kick(q);
  }

  /** queues the event for its agents and starts sending */
  record(e: JournalEvent): void {
    const backend = (e as { backend?: string }).backend;
    const targets = backend !== undefined ? [this.byBackend.get(backend)].filter((q) => q !== undefined) : this.queues;
    for (const q of targets) {
      if (q.off) continue;
      q.pending.push(e);
      q.failing = false;
      this.kick(q);
    }
  }

  /** resolves once what was queued for `backend`'s agent (or every agent) is recorded, or failed */
  async flush(backend?: string): Promise<void> {
    const qs = backend !== undefined ? [this.byBackend.get(backend)].filter((q) => q !== undefined) : this.queues;
    await Promise.all(
      qs.map(async (q) => {
        while (!q.off && !q.failing && (q.pending.length || q.sending)) await (q.sending ?? this.kick(q));
      }),
    );
  }

  private kick(q: Queue): Promise<void> {
    q.sending ??= this.send(q).finally(() => (q.sending = undefined));
    return q.sending;
  }

  private async send(q: Queue): Promise<void> {
    const client: AgentClient = q.agent.client;
    while (q.pending.length && !q.off) {
      const events = q.pending.slice(0, batch);
      try {
        await client.recordEvents(this.header.packageName, this.header.leaseId, {
          rolloutId: this.header.rolloutId,
          service: this.header.service,
          sha256: this.header.sha256,
          events: events.map((event) => ({ seq: event.seq ?? 1, event: event as never })),
        });
        q.pending.splice(0, events.length);
        q.reported = false;
      } catch (e) {
        const permanent =
          e instanceof AgentTooOldError || e instanceof LeaseLostError || (e instanceof AgentError && e.status === 413);
        const why = `progress not recorded on agent ${q.agent.endpoint}: ${errorMessage(e)}`;
        if (permanent) {
          q.off = why;
          q.pending = [];
        }
        q.failing = true;
        if (!q.reported) {
          q.reported = true;
          this.trouble(
            q.agent.backends[0],
            permanent ? `${why}; recording there stops` : `${why}; retried with the next event`,
          );
        }
        return;
      }
    }
  }
}
