// The rollout: the global precondition, canaries one at a time with a soak, then at most
// Concurrency backends at once, no new backend once failures exceed MaxFailures; pause at a safe
// point, abort, and --resume from the journal. Whatever stops it, the finaliser puts every
// healthy backend back into the LB.
import { randomBytes } from 'node:crypto';
import type { AgentClient } from '../agentClient/client';
import { errorMessage, FleetError } from '../errors';
import type { LoadBalancer } from '../lb/types';
import { runBackend, type BackendOutcome } from './backendRun';
import type { BackendTarget, LoadedService } from './config';
import { httpHealth, waitHealthy, type HealthCheck } from './health';
import type { EndState, StepName } from './constants';
import { Journal, readJournal, type JournalEvent, type NewEvent } from './journal';
import { acquireRolloutLock } from './lock';
import { foldProgress } from './progress';
import { sleep } from '../sleep';

export type RolloutResult = EndState | 'Paused';

export interface RolloutDeps {
  lb: LoadBalancer;
  agentFor: (b: BackendTarget) => AgentClient;
  /** is a backend serving (default: HTTP against service.json's Health) */
  health?: HealthCheck;
}

export interface RolloutOptions {
  /** continue the journal at this path instead of starting a new rollout */
  resumeJournal?: string;
  onEvent?: (e: JournalEvent) => void;
  /** fault-injection hook for tests: pause this long inside every step (default: FLEET_ROLLOUT_STEP_DELAY_MS) */
  stepDelayMs?: number;
  /** who runs it, for the lock others see (`fleet rollout`, `VS Code`) */
  by?: string;
}

/** the tests' step-delay hook, read in one place for every front end */
function stepDelayFromEnv(): number {
  const ms = Number(process.env.FLEET_ROLLOUT_STEP_DELAY_MS ?? 0);
  return Number.isFinite(ms) && ms > 0 ? ms : 0;
}

export class RolloutError extends FleetError {}

export class Rollout {
  readonly journal: Journal;
  private readonly abortCtl = new AbortController();
  private pausing = false;
  private failures = 0;
  readonly id: string;
  private readonly health: HealthCheck;
  private readonly releaseLock: () => void;

  /** takes the service file's lock (RolloutBusyError when another process runs it); run() releases it */
  constructor(
    readonly svc: LoadedService,
    private readonly deps: RolloutDeps,
    private readonly opts: RolloutOptions = {},
  ) {
    this.health = deps.health ?? httpHealth(svc);
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
    this.journal.onAppend = opts.onEvent;
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
      const result = await this.runPhases();
      await this.finalize();
      if (result === 'Paused') this.journal.append({ t: 'paused' });
      else this.journal.append({ t: 'end', state: result, failures: this.failures });
      return result;
    } catch (e) {
      // a failed precondition changed nothing, and nothing may change now (no finaliser either)
      if (!(e instanceof PreconditionError)) await this.finalize().catch(() => undefined);
      this.journal.append({
        t: 'end',
        state: e instanceof PreconditionError ? 'ESPreconditionFailure' : 'Aborted',
        failures: this.failures,
        error: errorMessage(e),
      });
      throw e;
    } finally {
      this.journal.close();
      this.releaseLock();
    }
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
      await this.precondition(
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
      });
      await this.precondition(new Set(order));
    }

    // canaries, one at a time; any failure stops the rollout
    if (!canaryDone) {
      for (const addr of order.slice(0, c.CanaryNum)) {
        const p = progress.get(addr)!;
        if (p.result !== 'done') {
          const out = await this.backend(addr, p.next === 'done' ? 'findApp' : p.next);
          if (out.result === 'paused') return this.aborted ? 'Aborted' : 'Paused';
          if (out.result === 'failed') return this.aborted ? 'Aborted' : 'ESCanaryFailure';
        }
        const soak = await this.soak(addr);
        if (soak !== null) return soak;
      }
    }

    // the rest: a sliding window of Concurrency, backends in progress first
    const pending = order.slice(c.CanaryNum).filter((a) => progress.get(a)!.result !== 'done');
    pending.sort((a, b) => Number(progress.get(b)!.next !== 'findApp') - Number(progress.get(a)!.next !== 'findApp'));
    let paused = false;
    const running = new Set<Promise<void>>();
    for (const addr of pending) {
      while (running.size >= c.Concurrency) await Promise.race(running);
      if (this.pausing) {
        paused = true;
        break;
      }
      if (this.failures > c.MaxFailures) break;
      const p = progress.get(addr)!;
      const task = this.backend(addr, p.next === 'done' ? 'findApp' : p.next).then((out) => {
        if (out.result === 'paused') paused = true;
        running.delete(task);
      });
      running.add(task);
    }
    await Promise.all(running);
    if (this.aborted) return 'Aborted';
    if (paused) return 'Paused';
    return this.failures > c.MaxFailures ? 'ESMaxFailures' : 'ESSuccess';
  }

  /** the pool is healthy and holds exactly the configured backends (those not yet touched must be serving); throws PreconditionError */
  private async precondition(untouched: Set<string>): Promise<void> {
    let why = '';
    try {
      const h = await this.deps.lb.poolHealth(this.abortCtl.signal);
      const inPool = new Set(h.backends.filter((b) => !b.draining).map((b) => b.backend));
      const configured = new Set(this.svc.backends.map((b) => b.addr));
      const missing = [...untouched].filter((a) => !inPool.has(a));
      const extra = [...inPool].filter((a) => !configured.has(a));
      const sick = h.backends
        .filter((b) => untouched.has(b.backend) && b.status !== 'BS_HEALTHY')
        .map((b) => b.backend);
      if (missing.length) why = `backends missing from the pool: ${missing.join(', ')}`;
      else if (extra.length) why = `the pool has backends that ${this.svc.file} does not list: ${extra.join(', ')}`;
      else if (sick.length) why = `backends not healthy: ${sick.join(', ')}`;
      else if (untouched.size === configured.size && h.status !== 'PS_FULL')
        why = `pool status is ${h.status}, expected PS_FULL`;
    } catch (e) {
      why = errorMessage(e);
    }
    if (!why) return;
    throw new PreconditionError(`precondition failed: ${why}; nothing was changed`);
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
      },
      from,
      this.journal,
      this.controlView(),
    );
    if (out.result === 'done') this.journal.append({ t: 'backend', backend: addr, result: 'done' });
    if (out.result === 'failed') {
      this.failures++;
      this.journal.append({ t: 'backend', backend: addr, result: 'failed', error: out.error });
      if (!this.aborted) await this.recover(target);
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
      stepDelayMs: this.opts.stepDelayMs ?? stepDelayFromEnv(),
    };
  }

  private async soak(addr: string): Promise<EndState | null> {
    const secs = this.svc.config.SoakSecs;
    this.journal.append({ t: 'soak', backend: addr, phase: 'start', secs });
    const end = Date.now() + secs * 1000;
    const target = this.svc.backends.find((b) => b.addr === addr)!;
    await sleep(end - Date.now(), this.abortCtl.signal);
    if (this.aborted) return 'Aborted';
    const r = await this.health(target, 2000, this.abortCtl.signal);
    if (!r.ok) {
      this.failures++;
      this.journal.append({
        t: 'backend',
        backend: addr,
        result: 'failed',
        error: `canary unhealthy after soak: ${r.why}`,
      });
      await this.recover(target);
      return 'ESCanaryFailure';
    }
    this.journal.append({ t: 'soak', backend: addr, phase: 'done', secs });
    return null;
  }

  /** a failed backend: roll back when asked; either way it goes back into the LB if it is healthy */
  private async recover(b: BackendTarget): Promise<void> {
    if (!this.svc.config.RollbackOnFailure) return;
    try {
      const agent = this.deps.agentFor(b);
      const st = await agent.status(this.svc.packageName).catch(() => null);
      if (st && st.sha256 === this.svc.sha256 && st.previous) {
        await agent.action(this.svc.packageName, 'rollback');
        this.journal.append({ t: 'finalize', backend: b.addr, outcome: 'rolledBack', detail: st.previous.id });
      }
    } catch (e) {
      this.journal.append({
        t: 'finalize',
        backend: b.addr,
        outcome: 'error',
        detail: `rollback failed: ${errorMessage(e)}`,
      });
    }
  }

  /** every backend out of the LB that is healthy goes back in (bounded by its health timeout) */
  private async finalize(): Promise<void> {
    const waitMs = Math.min(3000, this.svc.config.Health.TimeoutSecs * 1000);
    await Promise.all(
      this.svc.backends.map(async (b) => {
        try {
          const st = await this.deps.lb.state(b.addr);
          if (st.lb === 'serving') return;
          const ok = await waitHealthy(this.health, b, waitMs);
          if (!ok.ok) {
            this.record({ t: 'finalize', backend: b.addr, outcome: 'leftOut', detail: ok.why });
            return;
          }
          await this.deps.lb.ready(b.addr);
          this.record({ t: 'finalize', backend: b.addr, outcome: 'readded', detail: '' });
        } catch (e) {
          this.record({
            t: 'finalize',
            backend: b.addr,
            outcome: 'error',
            detail: `could not check or re-add: ${errorMessage(e)}`,
          });
        }
      }),
    );
  }
  /** journals what the finaliser did; a journal that cannot be written (a full disk) never stops it from re-adding */
  private record(e: NewEvent): void {
    try {
      this.journal.append(e);
    } catch {
      // the LB work is done; the event is lost with the disk
    }
  }
}

export class PreconditionError extends RolloutError {}
