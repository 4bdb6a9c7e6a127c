// A rollout's lease on the fleet itself: the package, on every agent of its backends, taken before
// anything changes, renewed while it runs, given back at its end with how it ended. Taken one agent
// after another in a fixed order (by backend address), so of two controllers starting the same
// rollout at once the first agent decides: one wins, the other is refused there with the holder
// named and gives back whatever it took. An agent from before leases (AgentTooOldError) is rolled
// out without one, with a warning; an agent that cannot be reached refuses the start (nothing
// changed): without its lease nobody knows who else may be changing it.
import { randomBytes } from 'node:crypto';
import type { AgentClient } from '../agentClient/client';
import { AgentTooOldError, LeaseHeldError, LeaseLostError } from '../agentClient/records';
import { errorMessage, FleetError } from '../errors';
import { mapLimit } from '../limit';
import { describeLease, type Actor, type LeaseView } from '../protocol/agentRecords';
import { sleep } from '../sleep';
import type { BackendTarget, LoadedService } from './config';

/** one agent of a service and the backends it serves */
export interface FleetAgent {
  endpoint: string;
  backends: string[];
  client: AgentClient;
}

/** the distinct agents of `svc`, in the order leases are taken: by their first backend's address */
export function agentsOf(svc: LoadedService, agentFor: (b: BackendTarget) => AgentClient): FleetAgent[] {
  const byAgent = new Map<string, FleetAgent>();
  for (const b of svc.backends) {
    const a = byAgent.get(b.agent);
    if (a) a.backends.push(b.addr);
    else byAgent.set(b.agent, { endpoint: b.agent, backends: [b.addr], client: agentFor(b) });
  }
  const key = (a: FleetAgent) => [...a.backends].sort(compareAddr)[0];
  return [...byAgent.values()].sort((x, y) => compareAddr(key(x), key(y)));
}

/** IP:PORT order that every controller computes the same way (no locale) */
export function compareAddr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** another controller holds the rollout's package on one of its agents; nothing was changed */
export class RolloutHeldError extends FleetError {
  constructor(
    readonly file: string,
    readonly endpoint: string,
    readonly lease: LeaseView | null,
  ) {
    super(
      `${file} is being rolled out by ${lease ? describeLease(lease) : 'another controller'} (its lease on agent ${endpoint}); nothing was changed. Wait for it (fleet status ${file} shows where it is), or let this command wait with --lease-wait SECS; if that controller is gone, its lease expires${lease ? ` in ${lease.expiresInSecs} s` : ''} and a new rollout or --resume takes over`,
    );
  }
}

/** an agent whose lease could not be taken (unreachable, refused for another reason); nothing was changed */
export class LeaseUnavailableError extends FleetError {
  constructor(
    readonly endpoint: string,
    cause: unknown,
  ) {
    super(`cannot take the rollout's lease on agent ${endpoint}: ${errorMessage(cause)}; nothing was changed`, {
      cause,
    });
  }
}

export interface LeaseTerms {
  actor: Actor;
  rolloutId: string;
  ttlSecs: number;
}

export class FleetLease {
  private timer?: NodeJS.Timeout;
  private renewing = false;
  private lostWith?: LeaseLostError;

  private constructor(
    private readonly svc: LoadedService,
    /** agents holding this lease, with its id */
    readonly held: FleetAgent[],
    /** agents from before leases: rolled out without one */
    readonly old: FleetAgent[],
    readonly leaseId: string,
    readonly terms: LeaseTerms,
    /** leases of controllers that stopped renewing, taken over */
    readonly tookOver: LeaseView[],
  ) {}

  /**
   * Takes the package on every agent in order. RolloutHeldError when another controller holds one
   * (after giving back what was taken); with `waitMs`, waits for it that long first, telling
   * `onWait` who it waits for.
   */
  static async acquire(
    svc: LoadedService,
    agents: readonly FleetAgent[],
    terms: LeaseTerms,
    opts: { waitMs?: number; onWait?: (e: RolloutHeldError) => void; signal?: AbortSignal } = {},
  ): Promise<FleetLease> {
    const deadline = Date.now() + (opts.waitMs ?? 0);
    for (let round = 0; ; round++) {
      try {
        return await FleetLease.tryAcquire(svc, agents, terms);
      } catch (e) {
        if (!(e instanceof RolloutHeldError) || Date.now() >= deadline) throw e;
        opts.onWait?.(e);
        const expires = (e.lease?.expiresInSecs ?? 5) * 1000;
        // back off a little, with jitter, so waiting controllers do not ask in step
        const wait = Math.min(deadline - Date.now(), Math.max(250, Math.min(5000, expires)) + Math.random() * 500);
        await sleep(wait, opts.signal);
      }
    }
  }

  private static async tryAcquire(svc: LoadedService, agents: readonly FleetAgent[], terms: LeaseTerms) {
    const leaseId = randomBytes(16).toString('hex');
    const held: FleetAgent[] = [];
    const old: FleetAgent[] = [];
    const tookOver: LeaseView[] = [];
    const lease = new FleetLease(svc, held, old, leaseId, terms, tookOver);
    for (const a of agents) {
      try {
        const g = await a.client.takeLease(svc.packageName, {
          leaseId,
          holder: terms.actor,
          rolloutId: terms.rolloutId,
          service: { path: svc.file.slice(0, 1024), sha256: svc.serviceSha256 },
          sha256: svc.sha256,
          ttlSecs: terms.ttlSecs,
        });
        a.client.useLease(svc.packageName, leaseId);
        held.push(a);
        if (g.tookOver) tookOver.push(g.tookOver);
      } catch (e) {
        if (e instanceof AgentTooOldError) {
          old.push(a);
          continue;
        }
        await lease.release('ESPreconditionFailure');
        if (e instanceof LeaseHeldError) throw new RolloutHeldError(svc.file, a.endpoint, e.lease);
        throw new LeaseUnavailableError(a.endpoint, e);
      }
    }
    return lease;
  }

  /** renews every ttlSecs/4 until released; `onLost` hears once that another controller took the package */
  keepAlive(onLost: (e: LeaseLostError) => void, onTrouble: (endpoint: string, e: unknown) => void): void {
    const every = Math.max(500, (this.terms.ttlSecs * 1000) / 4);
    this.timer = setInterval(() => void this.renew(onLost, onTrouble), every);
    this.timer.unref();
  }

  /** the lease was lost on some agent: this controller must stop */
  get lost(): LeaseLostError | undefined {
    return this.lostWith;
  }

  private async renew(onLost: (e: LeaseLostError) => void, onTrouble: (endpoint: string, e: unknown) => void) {
    if (this.renewing || this.lostWith) return;
    this.renewing = true;
    try {
      await mapLimit(this.held, 16, async (a) => {
        try {
          await a.client.renewLease(this.svc.packageName, this.leaseId);
        } catch (e) {
          if (e instanceof LeaseLostError) {
            if (!this.lostWith) {
              this.lostWith = e;
              onLost(e);
            }
          } else onTrouble(a.endpoint, e); // unreachable for now: the next renewal tries again
        }
      });
    } finally {
      this.renewing = false;
    }
  }

  /** gives the lease back everywhere it is still ours, saying how the rollout ended; never throws */
  async release(outcome: string): Promise<string[]> {
    clearInterval(this.timer);
    const problems: string[] = [];
    await mapLimit(this.held, 16, async (a) => {
      a.client.useLease(this.svc.packageName, undefined);
      try {
        await a.client.releaseLease(this.svc.packageName, this.leaseId, outcome);
      } catch (e) {
        if (!(e instanceof LeaseLostError)) problems.push(`agent ${a.endpoint}: ${errorMessage(e)}`);
      }
    });
    return problems;
  }
}
