// The rollout: the global precondition, canaries one at a time with a soak, then at most
// Concurrency backends at once, no new backend once failures exceed MaxFailures; pause at a safe
// point, abort, and --resume from the journal. Whatever stops it, the finaliser puts every
// healthy backend back into the LB.
import { faultHooksFromEnv } from './faultHooks';
import { randomBytes } from 'node:crypto';
import type { AgentClient } from '../agentClient/client';
import { errorMessage } from '../errors';
import type { LoadBalancer } from '../lb/types';
import { runBackend, type BackendOutcome } from './backendRun';
import type { BackendTarget, LoadedService } from './config';
import { httpHealth, type HealthCheck } from './health';
import type { EndState, StepName } from './constants';
import { Journal, readJournal, type JournalEvent } from './journal';
import { acquireRolloutLock } from './lock';
import { foldProgress } from './progress';
import { sleep } from '../sleep';
import { judgeCanary } from './canaryJudge';
import { finalizeBackends, recoverBackend, type FinalizerContext } from './finalizer';
import { maxUnavailableOf } from './schema';
import { checkPrecondition, PreconditionError, RolloutError, waitForBudget, type PoolContext } from './poolChecks';
import { rmSync } from 'node:fs';
import type { LeaseLostError } from '../agentClient/records';
import type { Actor } from '../protocol/agentRecords';
import { controllerIdentity } from './controller';
import { FleetSession } from './fleetSession';
import { agentsOf, type RolloutHeldError } from './leases';

export type RolloutResult = EndState | 'Paused';

export interface RolloutDeps {
  lb: LoadBalancer;
  agentFor: (b: BackendTarget) => AgentClient;
  /** is a backend serving (default: HTTP against service.json's Health) */
  health?: HealthCheck;
  /**
   * the agents keep the rollout's lease, progress and history (fleetSession.ts); rolloutDeps turns
   * it on, the workflow's unit tests against an in-memory fleet leave it off
   */
  agentRecords?: boolean;
}

export interface RolloutOptions {
  /** continue the journal at this path instead of starting a new rollout */
  resumeJournal?: string;
  /**
   * where that journal's events came from (fleetResume.ts): a rollout this workspace's journal ran
   * may break its own lease left by a controller dead on this machine; one known only from the
   * agents' records (a fresh clone, another person) waits for it to expire
   */
  resumedFrom?: 'journal' | 'agents' | 'journal and agents';
  onEvent?: (e: JournalEvent) => void;
  /** fault-injection hook for tests: pause this long inside every step (default: FLEET_ROLLOUT_STEP_DELAY_MS) */
  stepDelayMs?: number;
  /** who runs it, for the lock others see (`fleet rollout`, `VS Code`) */
  by?: string;
  /** who runs it, for the lease and the history on the agents (default: this user and machine, the CLI or a CI job) */
  actor?: Actor;
  /** wait this long for another controller's lease before refusing (default: refuse at once) */
  leaseWaitMs?: number;
  /** told each time the rollout waits for another controller's lease */
  onLeaseWait?: (e: RolloutHeldError) => void;
}

export { PreconditionError, RolloutError } from './poolChecks';

export class Rollout {
  readonly journal: Journal;
  private readonly abortCtl = new AbortController();
  private pausing = false;
  private failures = 0;
  readonly id: string;
  private readonly health: HealthCheck;
  private readonly releaseLock: () => void;
  /** MaxUnavailable as a count, when set */
  private readonly budget?: number;
  /** the lease and the progress on the agents, while the rollout holds them */
  private session?: FleetSession;
  /** the lease was lost to another controller: stop, touch nothing more */
  private lost?: LeaseLostError;

  /** takes the service file's lock (RolloutBusyError when another process runs it); run() releases it */
  constructor(
    readonly svc: LoadedService,
    private readonly deps: RolloutDeps,
    private readonly opts: RolloutOptions = {},
  ) {
    this.health = deps.health ?? httpHealth(svc);
    if (svc.config.MaxUnavailable !== undefined)
      this.budget = maxUnavailableOf(svc.config.MaxUnavailable, svc.backends.length);
    this.releaseLock = acquireRolloutLock(svc.file, opts.by ?? 'fleet');
    try {
      if (opts.resumeJournal) {
        const id = this.readProgress().id;
        if (!id) throw new RolloutError(`${opts.resumeJournal} has no plan line; it cannot be resumed`);
        this.id = id;
        this.journal = new Journal(opts.resumeJournal);
      } else {
        this.id = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(3).toString('hex')}`;
        this.journal = Journal.create(svc.file, this.id);
      }
    } catch (e) {
      this.releaseLock();
      throw e;
    }
    this.journal.onAppend = (e) => {
      this.session?.record(e);
      opts.onEvent?.(e);
    };
  }

  /** stop starting steps; in-flight steps finish, then run() resolves 'Paused' (resumable) */
  pause(): void {
    this.pausing = true;
  }

  /** stop now: in-flight steps are aborted, then the finaliser runs; run() resolves 'Aborted' */
  abort(): void {
    this.pausing = true;
    this.abortCtl.abort(new RolloutError('rollout aborted'));
  }

  get aborted(): boolean {
    return this.abortCtl.signal.aborted;
  }

  async run(): Promise<RolloutResult> {
    try {
      await this.takeLease();
    } catch (e) {
      // refused before anything changed: a new rollout leaves no journal behind, a resumed one is untouched
      const empty = !this.opts.resumeJournal && this.journal.lastSeq === 0;
      this.journal.close();
      if (empty) rmSync(this.journal.file, { force: true });
      this.releaseLock();
      throw e;
    }
    let outcome: string = 'Aborted';
    try {
      const result = await this.runPhases();
      // a rollout that lost its lease touches nothing more: the controller that has it now finishes
      if (!this.lost) await finalizeBackends(this.finalizerContext());
      outcome = result;
      if (result === 'Paused') this.journal.append({ t: 'paused' });
      else
        this.journal.append({
          t: 'end',
          state: result,
          failures: this.failures,
          ...(this.lost ? { error: this.lost.message } : {}),
        });
      return result;
    } catch (e) {
      // a failed precondition changed nothing, and nothing may change now (no finaliser either)
      if (!(e instanceof PreconditionError) && !this.lost)
        await finalizeBackends(this.finalizerContext()).catch(() => undefined);
      outcome = e instanceof PreconditionError ? 'ESPreconditionFailure' : 'Aborted';
      this.journal.append({
        t: 'end',
        state: e instanceof PreconditionError ? 'ESPreconditionFailure' : 'Aborted',
        failures: this.failures,
        error: errorMessage(e),
      });
      throw e;
    } finally {
      await this.session?.end(outcome).catch(() => undefined);
      this.journal.close();
      this.releaseLock();
    }
  }

  /**
   * Takes the rollout's lease on its agents (RolloutHeldError naming the holder, or
   * LeaseUnavailableError: nothing changed) and starts recording its progress there.
   */
  private async takeLease(): Promise<void> {
    if (!this.deps.agentRecords) return;
    this.session = await FleetSession.start(this.svc, this.journal, agentsOf(this.svc, this.deps.agentFor), {
      actor: this.opts.actor ?? controllerIdentity(this.opts.by === 'VS Code' ? 'editor' : 'cli'),
      rolloutId: this.id,
      resuming: Boolean(this.opts.resumeJournal),
      ownJournal: Boolean(this.opts.resumeJournal) && this.opts.resumedFrom !== 'agents',
      leaseWaitMs: this.opts.leaseWaitMs,
      onLeaseWait: this.opts.onLeaseWait,
      signal: this.abortCtl.signal,
      onLost: (e) => {
        this.lost = e;
        this.pausing = true;
        this.abortCtl.abort(e);
      },
    });
  }

  /** the resumed journal as progress: where each backend continues */
  private readProgress() {
    const c = this.svc.config;
    return foldProgress(
      this.svc.backends.map((b) => b.addr),
      c.CanaryNum,
      readJournal(this.opts.resumeJournal!),
    );
  }

  private async runPhases(): Promise<RolloutResult> {
    const c = this.svc.config;
    const order = this.svc.backends.map((b) => b.addr);
    const progress = new Map<string, { next: StepName | 'done'; result?: 'done' | 'failed' }>(
      order.map((a) => [a, { next: 'findApp' }]),
    );
    let canaryDone = false;
    if (this.opts.resumeJournal) {
      const st = this.readProgress();
      // an ESSuccess with failures MaxFailures tolerated can be resumed: it retries the failed backends
      if (st.endState === 'ESSuccess' && st.failures === 0) return 'ESSuccess';
      // a failed backend is retried at its failed step; a done one is finished
      for (const r of st.rows) progress.set(r.addr, { next: r.next, result: r.result === 'done' ? 'done' : undefined });
      canaryDone = st.canaryPhaseDone;
      this.journal.append({ t: 'resume' });
      await checkPrecondition(
        this.poolContext(),
        new Set(order.filter((a) => progress.get(a)!.next === 'findApp' && !progress.get(a)!.result)),
      );
    } else {
      this.journal.append({
        t: 'plan',
        id: this.id,
        file: this.svc.file,
        sha256: this.svc.sha256,
        canaries: order.slice(0, c.CanaryNum),
        rest: order.slice(c.CanaryNum),
        concurrency: c.Concurrency,
        maxFailures: c.MaxFailures,
        ...(this.budget !== undefined ? { maxUnavailable: this.budget } : {}),
      });
      await checkPrecondition(this.poolContext(), new Set(order));
    }

    // canaries, one at a time; any failure stops the rollout
    if (!canaryDone) {
      const canaries = order.slice(0, c.CanaryNum);
      for (const [i, addr] of canaries.entries()) {
        const p = progress.get(addr)!;
        if (p.result !== 'done') {
          if ((await waitForBudget(this.poolContext(), addr, new Set())) === 'paused')
            return this.aborted ? 'Aborted' : 'Paused';
          const out = await this.backend(addr, p.next === 'done' ? 'findApp' : p.next);
          if (out.result === 'paused') return this.aborted ? 'Aborted' : 'Paused';
          if (out.result === 'failed') return this.aborted ? 'Aborted' : 'ESCanaryFailure';
        }
        // the baseline: the backends still on the old version (not this canary, nor those before it)
        const soak = await this.soak(
          addr,
          order.filter((a) => !canaries.slice(0, i + 1).includes(a)),
        );
        if (soak !== null) return soak;
      }
    }

    // the rest: a sliding window of Concurrency, backends in progress first
    const pending = order.slice(c.CanaryNum).filter((a) => progress.get(a)!.result !== 'done');
    pending.sort((a, b) => Number(progress.get(b)!.next !== 'findApp') - Number(progress.get(a)!.next !== 'findApp'));
    let paused = false;
    const running = new Set<Promise<void>>();
    const inProgress = new Set<string>();
    for (const addr of pending) {
      while (running.size >= c.Concurrency) await Promise.race(running);
      if (
        !this.pausing &&
        this.failures <= c.MaxFailures &&
        (await waitForBudget(this.poolContext(), addr, inProgress, running)) === 'paused'
      )
        this.pausing = true;
      if (this.pausing) {
        paused = true;
        break;
      }
      if (this.failures > c.MaxFailures) break;
      const p = progress.get(addr)!;
      inProgress.add(addr);
      const task = this.backend(addr, p.next === 'done' ? 'findApp' : p.next).then((out) => {
        if (out.result === 'paused') paused = true;
        inProgress.delete(addr);
        running.delete(task);
      });
      running.add(task);
    }
    await Promise.all(running);
    if (this.aborted) return 'Aborted';
    if (paused) return 'Paused';
    return this.failures > c.MaxFailures ? 'ESMaxFailures' : 'ESSuccess';
  }

  private async backend(addr: string, from: StepName): Promise<BackendOutcome> {
    const target = this.svc.backends.find((b) => b.addr === addr)!;
    const out = await runBackend(
      {
        svc: this.svc,
        backend: target,
        lb: this.deps.lb,
        agent: this.deps.agentFor(target),
        health: this.health,
        signal: this.abortCtl.signal,
        note: (text) => void this.journal.append({ t: 'note', backend: addr, text }),
        lease: () => this.session?.leaseAgent(target.agent) ?? Promise.resolve(),
        found: (st) =>
          void this.journal.append({
            t: 'found',
            backend: addr,
            sha256: st?.sha256 ?? null,
            ...(st ? { version: st.version, installedAt: st.installedAt } : {}),
          }),
      },
      from,
      this.journal,
      this.controlView(),
    );
    if (out.result === 'done') this.journal.append({ t: 'backend', backend: addr, result: 'done' });
    if (out.result === 'failed') {
      this.failures++;
      this.journal.append({ t: 'backend', backend: addr, result: 'failed', error: out.error });
      if (!this.aborted) await recoverBackend(this.finalizerContext(), target);
    }
    return out;
  }

  /** what the step runner may see of this rollout: whether it is pausing, read at each safe point */
  private controlView() {
    const isPausing = () => this.pausing;
    return {
      get pausing() {
        return isPausing();
      },
      hooks: {
        ...faultHooksFromEnv(),
        ...(this.opts.stepDelayMs !== undefined ? { stepDelayMs: this.opts.stepDelayMs } : {}),
      },
      recorded: (backend: string) => this.session?.flush(backend) ?? Promise.resolve(),
    };
  }

  /** what the pool's checks may see of this rollout */
  private poolContext(): PoolContext {
    return {
      svc: this.svc,
      lb: this.deps.lb,
      budget: this.budget,
      signal: this.abortCtl.signal,
      journal: this.journal,
      pausing: () => this.pausing,
      aborted: () => this.aborted,
    };
  }

  private finalizerContext(): FinalizerContext {
    return {
      svc: this.svc,
      lb: this.deps.lb,
      agentFor: this.deps.agentFor,
      journal: this.journal,
      health: this.health,
    };
  }

  private async soak(addr: string, baseline: string[]): Promise<EndState | null> {
    const secs = this.svc.config.SoakSecs;
    this.journal.append({ t: 'soak', backend: addr, phase: 'start', secs });
    const end = Date.now() + secs * 1000;
    const target = this.svc.backends.find((b) => b.addr === addr)!;
    const judged = this.svc.config.Analysis
      ? await judgeCanary(
          { lb: this.deps.lb, journal: this.journal, signal: this.abortCtl.signal },
          this.svc.config.Analysis,
          addr,
          baseline,
          end,
        )
      : null;
    if (!judged) await sleep(end - Date.now(), this.abortCtl.signal).catch(() => undefined);
    if (this.aborted) return 'Aborted';
    const why = judged
      ? judged
      : await this.health(target, 2000, this.abortCtl.signal).then((r) =>
          r.ok ? null : `canary unhealthy after soak: ${r.why}`,
        );
    if (why) {
      this.failures++;
      this.journal.append({ t: 'backend', backend: addr, result: 'failed', error: why });
      await recoverBackend(this.finalizerContext(), target);
      return 'ESCanaryFailure';
    }
    this.journal.append({ t: 'soak', backend: addr, phase: 'done', secs });
    return null;
  }
}
