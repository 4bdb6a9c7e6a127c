// What a rollout does to backends when it stops: a failed backend is rolled back (drained first
// when it still serves), and the finaliser puts every healthy backend that is out of the LB back in,
// whatever ended the rollout.
import type { AgentClient } from '../agentClient/client';
import { errorMessage } from '../errors';
import type { LoadBalancer } from '../lb/types';
import type { BackendTarget, LoadedService } from './config';
import { waitHealthy, type HealthCheck } from './health';
import type { Journal, NewEvent } from './journal';

export interface FinalizerContext {
  svc: LoadedService;
  lb: LoadBalancer;
  agentFor: (b: BackendTarget) => AgentClient;
  journal: Pick<Journal, 'append'>;
  health: HealthCheck;
}

/**
 * A failed backend: roll back when asked; either way it goes back into the LB if it is healthy.
 * A backend still in the LB (a canary failed by its analysis serves traffic) is drained first:
 * the rollback restarts its program, and no request may meet the restart.
 */
export async function recoverBackend(ctx: FinalizerContext, b: BackendTarget): Promise<void> {
  const { svc, lb, journal } = ctx;
  if (!svc.config.RollbackOnFailure) return;
  try {
    const agent = ctx.agentFor(b);
    const st = await agent.status(svc.packageName).catch(() => null);
    if (st && st.sha256 === svc.sha256 && st.previous) {
      const inLb = await lb.state(b.addr).catch(() => null);
      if (inLb?.lb === 'serving') await lb.drain(b.addr, { timeoutMs: svc.config.DrainTimeoutSecs * 1000 });
      await agent.action(svc.packageName, 'rollback');
      journal.append({ t: 'finalize', backend: b.addr, outcome: 'rolledBack', detail: st.previous.id });
    }
  } catch (e) {
    journal.append({
      t: 'finalize',
      backend: b.addr,
      outcome: 'error',
      detail: `rollback failed: ${errorMessage(e)}`,
    });
  }
}

/** every backend out of the LB that is healthy goes back in (bounded by its health timeout) */
export async function finalizeBackends(ctx: FinalizerContext): Promise<void> {
  const { svc, lb } = ctx;
  const waitMs = Math.min(3000, svc.config.Health.TimeoutSecs * 1000);
  await Promise.all(
    svc.backends.map(async (b) => {
      try {
        const st = await lb.state(b.addr);
        if (st.lb === 'serving') return;
        const ok = await waitHealthy(ctx.health, b, waitMs);
        if (!ok.ok) {
          record(ctx, { t: 'finalize', backend: b.addr, outcome: 'leftOut', detail: ok.why });
          return;
        }
        await lb.ready(b.addr);
        record(ctx, { t: 'finalize', backend: b.addr, outcome: 'readded', detail: '' });
      } catch (e) {
        record(ctx, {
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
function record(ctx: FinalizerContext, e: NewEvent): void {
  try {
    ctx.journal.append(e);
  } catch {
    // the LB work is done; the event is lost with the disk
  }
}
