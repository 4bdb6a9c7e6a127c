// What a rollout does on its agents besides changing packages, from its start to its end: take the
// lease (leases.ts), catch a resumed journal up with what the agents recorded (fleetResume.ts),
// record every journal event on the agents (recorder.ts), renew the lease and stop the rollout the
// moment it is lost, and at the end give it back saying how the rollout ended.
import type { LeaseLostError } from '../agentClient/records';
import { errorMessage } from '../errors';
import type { Actor } from '../protocol/agentRecords';
import type { LoadedService } from './config';
import { readFleetRecords } from './fleetRecords';
import { catchUp } from './fleetResume';
import { readJournal, type Journal, type JournalEvent } from './journal';
import { FleetLease, type FleetAgent, type RolloutHeldError } from './leases';
import { ProgressRecorder } from './recorder';

export interface SessionOptions {
  actor: Actor;
  rolloutId: string;
  /** continue a journal: bring it up to the agents' records once the lease is held */
  resuming: boolean;
  /** the journal is this workspace's own record of the rollout (not rebuilt from the agents') */
  ownJournal?: boolean;
  /** wait this long for another controller's lease before giving up */
  leaseWaitMs?: number;
  onLeaseWait?: (e: RolloutHeldError) => void;
  /** the lease was lost: the rollout must stop at once, touching nothing more */
  onLost: (e: LeaseLostError) => void;
  signal?: AbortSignal;
}

export class FleetSession {
  private recorder?: ProgressRecorder;
  private readonly troubled = new Set<string>();

  private constructor(
    private readonly svc: LoadedService,
    private readonly journal: Journal,
    readonly lease: FleetLease,
  ) {}

  /** takes the lease (RolloutHeldError, LeaseUnavailableError: nothing changed), then starts recording */
  static async start(
    svc: LoadedService,
    journal: Journal,
    agents: readonly FleetAgent[],
    o: SessionOptions,
  ): Promise<FleetSession> {
    const ttlSecs = svc.config.LeaseSecs;
    const lease = await FleetLease.acquire(
      svc,
      agents,
      { actor: o.actor, rolloutId: o.rolloutId, ttlSecs, resumes: o.resuming && o.ownJournal === true },
      { waitMs: o.leaseWaitMs, onWait: o.onLeaseWait, signal: o.signal },
    );
    const s = new FleetSession(svc, journal, lease);
    try {
      if (o.resuming) catchUp(journal, svc, await readFleetRecords(svc, lease.held), o.rolloutId);
    } catch (e) {
      await lease.release('ESPreconditionFailure');
      throw e;
    }
    s.recorder = new ProgressRecorder(
      lease.held,
      {
        rolloutId: o.rolloutId,
        packageName: svc.packageName,
        service: { path: svc.file.slice(0, 1024), sha256: svc.serviceSha256 },
        sha256: svc.sha256,
        leaseId: lease.leaseId,
      },
      (backend, text) => s.note(backend, text),
    );
    const took = lease.tookOver.map(
      (l) =>
        `${l.expired ? 'the expired lease' : 'the lease of a controller that died on this machine'} of ${l.holder.user}@${l.holder.machine} (pid ${l.holder.pid}, rollout ${l.rolloutId})`,
    );
    for (const a of lease.unreachable)
      s.note(
        a.backends[0],
        `agent ${a.endpoint} could not be reached to take the lease: taken before its backends' first step, which fail until it answers (nothing there changes without the lease)`,
      );
    journal.append({
      t: 'lease',
      phase: 'taken',
      agents: lease.held.length,
      ttlSecs,
      detail: took.length ? `took over ${[...new Set(took)].join(', ')}` : '',
    });
    for (const a of lease.old)
      s.note(
        a.backends[0],
        `agent ${a.endpoint} predates leases and rollout records: rolled out without a lease there (another controller is not kept out, and its progress and history are not recorded there); upgrade it with fleet agent deploy`,
      );
    lease.keepAlive(
      (e) => {
        journal.append({ t: 'lease', phase: 'lost', agents: lease.held.length, ttlSecs, detail: errorMessage(e) });
        o.onLost(e);
      },
      (endpoint, e) => {
        if (!s.troubled.has(endpoint)) {
          s.troubled.add(endpoint);
          const a = lease.held.find((x) => x.endpoint === endpoint);
          s.note(
            a?.backends[0] ?? 'lease',
            `lease not renewed on agent ${endpoint} (tried again every ${ttlSecs / 4} s): ${errorMessage(e)}`,
          );
        }
      },
    );
    return s;
  }

  /**
   * Before a step of `agent`'s backend: the lease there, if the start could not take it (the agent
   * was unreachable); its events so far go to it once it is held. Throws what the agent answered.
   */
  async leaseAgent(agent: string): Promise<void> {
    const a = this.lease.unreachable.find((x) => x.endpoint === agent);
    if (!a) return;
    if (await this.lease.takeLate(agent)) {
      this.recorder?.add(a, readJournal(this.journal.file));
      this.note(a.backends[0], `agent ${agent} answers again: the rollout's lease is taken there now`);
    }
  }

  /** every journal event goes to the agents */
  record(e: JournalEvent): void {
    this.recorder?.record(e);
  }

  /** resolves once `backend`'s events are on its agent (or could not be put there) */
  flush(backend?: string): Promise<void> {
    return this.recorder?.flush(backend) ?? Promise.resolve();
  }

  /** records what is left, then gives the lease back with how the rollout ended */
  async end(outcome: string): Promise<void> {
    await this.flush();
    const problems = await this.lease.release(outcome);
    for (const p of problems) this.note('lease', `lease not given back (it expires by itself): ${p}`);
  }

  private note(backend: string, text: string): void {
    try {
      this.journal.append({ t: 'note', backend, text });
    } catch {
      // a journal that cannot be written is the rollout's own problem; a note is not worth more
    }
  }
}
