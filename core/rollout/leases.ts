// A rollout's lease on the fleet itself: the package, on every agent of its backends, taken before
// anything changes, renewed while it runs, given back at its end with how it ended. Taken one agent
// after another in a fixed order (by backend address), so of two controllers starting the same
// rollout at once the first agent decides: one wins, the other is refused there with the holder
// named and gives back whatever it took. An agent from before leases (AgentTooOldError) is rolled
// out without one, with a warning. An agent that cannot be reached is taken later, before its
// backends' first step (takeLate): its backends fail like any unreachable backend, counted against
// MaxFailures, and nothing of it changes without the lease; when no agent at all can be reached the
// start is refused (nothing changed). A resume from this workspace's own journal whose lease is still
// held by the controller it resumes, dead on this very machine (its pid gone), breaks that lease at
// once instead of waiting for it to expire (deadHolderHere).
import { randomBytes } from 'node:crypto';
import { advice } from '../advice';
import type { AgentClient } from '../agentClient/client';
import { AgentTooOldError, LeaseHeldError, LeaseLostError } from '../agentClient/records';
import { errorMessage, FleetError, UnreachableError } from '../errors';
import { mapLimit } from '../limit';
import { describeActor, describeLease, type Actor, type LeaseView } from '../protocol/agentRecords';
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
      `${file} is being rolled out by ${lease ? describeLease(lease) : 'another controller'} (its lease on agent ${endpoint}); nothing was changed. Wait for it (fleet status ${file} shows where it is), or ${advice().waitForLease}; if that controller is gone, its lease expires${lease ? ` in ${lease.expiresInSecs} s` : ''} and a new rollout or ${advice().resumeWord} takes over`,
    );
  }
}

/** an agent whose lease could not be taken (unreachable, refused for another reason); nothing was changed */
export class LeaseUnavailableError extends FleetError {
  constructor(
    readonly endpoint: string,
    cause: unknown,
  ) {
    const todo =
      cause instanceof UnreachableError
        ? "; check that the agent runs there and that the backends' Agent in service.json is its address"
        : '';
    super(`cannot take the rollout's lease on agent ${endpoint}: ${errorMessage(cause)}; nothing was changed${todo}`, {
      cause,
    });
  }
}

export interface LeaseTerms {
  actor: Actor;
  rolloutId: string;
  ttlSecs: number;
  /** a resume of rolloutId from this workspace's own journal: a lease of it whose controller died here is broken */
  resumes?: boolean;
}

/**
 * Is `l` this rollout's lease left by a controller that died on this machine? Its rollout is the one
 * being resumed, its holder names this machine, and no process has its pid (kill 0: ESRCH). A pid
 * taken again by another process counts as alive (the lease is then waited for), and so does
 * anything on another machine, which cannot be asked.
 */
export function deadHolderHere(l: LeaseView, terms: LeaseTerms): boolean {
  if (!terms.resumes || l.rolloutId !== terms.rolloutId || l.holder.machine !== terms.actor.machine) return false;
  if (l.holder.pid === process.pid || l.holder.pid <= 1) return false;
  try {
    process.kill(l.holder.pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export class FleetLease {
  private timer?: NodeJS.Timeout;
  private renewing = false;
  private lostWith?: LeaseLostError;
  private readonly lateTakes = new Map<string, Promise<boolean>>();

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
    /** agents that could not be reached at the start: taken before their backends' first step */
    readonly unreachable: FleetAgent[] = [],
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
    const lease = new FleetLease(svc, [], [], leaseId, terms, []);
    let unreachable: unknown;
    for (const a of agents) {
      try {
        await lease.takeOn(a);
      } catch (e) {
        if (e instanceof AgentTooOldError) {
          lease.old.push(a);
          continue;
        }
        if (e instanceof UnreachableError) {
          lease.unreachable.push(a);
          unreachable ??= e;
          continue;
        }
        await lease.release('ESPreconditionFailure');
        if (e instanceof LeaseHeldError) throw new RolloutHeldError(svc.file, a.endpoint, e.lease);
        throw new LeaseUnavailableError(a.endpoint, e);
      }
    }
    // not one agent answered: nothing could be rolled out, and nobody knows who else is at it
    if (agents.length && lease.unreachable.length === agents.length)
      throw new LeaseUnavailableError(agents[0].endpoint, unreachable);
    return lease;
  }

  /** takes the lease on one agent (breaking this rollout's own lease left by a controller dead here) */
  private async takeOn(a: FleetAgent): Promise<void> {
    const req = {
      leaseId: this.leaseId,
      holder: this.terms.actor,
      rolloutId: this.terms.rolloutId,
      service: { path: this.svc.file.slice(0, 1024), sha256: this.svc.serviceSha256 },
      sha256: this.svc.sha256,
      ttlSecs: this.terms.ttlSecs,
    };
    let grant;
    try {
      grant = await a.client.takeLease(this.svc.packageName, req);
    } catch (e) {
      if (!(e instanceof LeaseHeldError && e.lease && deadHolderHere(e.lease, this.terms))) throw e;
      const h = e.lease.holder;
      await a.client.breakLease(
        this.svc.packageName,
        `its controller ${describeActor(h)} is gone (no process ${h.pid} on ${h.machine}); rollout ${this.terms.rolloutId} resumed by pid ${process.pid}`,
      );
      this.tookOver.push(e.lease);
      grant = await a.client.takeLease(this.svc.packageName, req);
    }
    a.client.useLease(this.svc.packageName, this.leaseId);
    this.held.push(a);
    if (grant.tookOver) this.tookOver.push(grant.tookOver);
  }

  /**
   * Takes the lease on an agent that could not be reached at the start, before its backend's step:
   * a no-op once held; throws what the agent answered (unreachable again, held by another
   * controller). Returns true when it was taken just now.
   */
  takeLate(endpoint: string): Promise<boolean> {
    const a = this.unreachable.find((x) => x.endpoint === endpoint);
    if (!a || this.lostWith) return Promise.resolve(false);
    // backends of one agent start together: one take for all of them
    let p = this.lateTakes.get(endpoint);
    if (!p) {
      p = this.takeOn(a).then(
        () => {
          this.unreachable.splice(this.unreachable.indexOf(a), 1);
          return true;
        },
        (e: unknown) => {
          if (!(e instanceof LeaseHeldError)) throw e;
          throw new FleetError(
            `agent ${endpoint} could not be reached when this rollout took its lease, and is held now by ${e.lease ? describeLease(e.lease) : 'another controller'}; its backends are left as they are`,
          );
        },
      );
      this.lateTakes.set(endpoint, p);
      void p.finally(() => this.lateTakes.delete(endpoint)).catch(() => undefined);
    }
    return p;
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
