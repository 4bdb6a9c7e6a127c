// The pool checks a rollout makes before it changes a backend: the precondition (the pool holds
// exactly service.json's backends, and those not yet touched serve; with MaxUnavailable, room for
// one more out) and the out-of-service budget a backend waits for before it leaves the LB.
import { errorMessage, FleetError } from '../errors';
import type { LoadBalancer } from '../lb/types';
import type { PoolHealthReport } from '../protocol/lb';
import { sleep } from '../sleep';
import type { LoadedService } from './config';
import type { Journal } from './journal';

export class RolloutError extends FleetError {}

/** refused before anything changed: the pool is not as service.json says */
export class PreconditionError extends RolloutError {}

export interface PoolContext {
  svc: LoadedService;
  lb: LoadBalancer;
  /** MaxUnavailable as a count, when set */
  budget?: number;
  signal: AbortSignal;
  journal: Pick<Journal, 'append'>;
  pausing: () => boolean;
  aborted: () => boolean;
}

/**
 * The pool holds exactly the configured backends and those not yet touched serve: throws
 * PreconditionError. With MaxUnavailable, backends already out (missing, draining, sick) are
 * allowed but counted, and there must be room left for one more.
 */
export async function checkPrecondition(ctx: PoolContext, untouched: Set<string>): Promise<void> {
  const { svc, budget } = ctx;
  let why = '';
  try {
    const h = await ctx.lb.poolHealth(ctx.signal);
    const inPool = new Set(h.backends.filter((b) => !b.draining).map((b) => b.backend));
    const configured = new Set(svc.backends.map((b) => b.addr));
    const missing = [...untouched].filter((a) => !inPool.has(a));
    const extra = [...inPool].filter((a) => !configured.has(a));
    const sick = h.backends.filter((b) => untouched.has(b.backend) && b.status !== 'BS_HEALTHY').map((b) => b.backend);
    if (extra.length) why = `the pool has backends that ${svc.file} does not list: ${extra.join(', ')}`;
    else if (budget !== undefined) {
      const out = outOfService(h, [...configured]);
      if (out.size >= budget)
        why = `${out.size} of ${configured.size} backends are already out of service (${[...out].join(', ')}), and MaxUnavailable is ${budget}: taking one more out would leave fewer than ${configured.size - budget} serving. Bring them back, or raise MaxUnavailable`;
    } else if (missing.length) why = `backends missing from the pool: ${missing.join(', ')}`;
    else if (sick.length) why = `backends not healthy: ${sick.join(', ')}`;
    else if (untouched.size === configured.size && h.status !== 'PS_FULL')
      why = `pool status is ${h.status}, expected PS_FULL`;
  } catch (e) {
    why = errorMessage(e);
  }
  if (!why) return;
  throw new PreconditionError(`precondition failed: ${why}; nothing was changed`);
}

/**
 * Waits until taking `addr` out keeps the pool within MaxUnavailable: the backends out of service
 * now (missing, draining, sick: whoever took them out) and those this rollout has in progress. A
 * backend already out costs nothing more. Returns 'paused' when nothing of ours runs and others
 * keep the budget used up for Health.TimeoutSecs: the rollout pauses (resumable) and says why.
 */
export async function waitForBudget(
  ctx: PoolContext,
  addr: string,
  inProgress: ReadonlySet<string>,
  running: ReadonlySet<Promise<void>> = new Set(),
): Promise<'ok' | 'paused'> {
  const budget = ctx.budget;
  if (budget === undefined) return 'ok';
  const configured = ctx.svc.backends.map((b) => b.addr);
  const giveUpAt = Date.now() + ctx.svc.config.Health.TimeoutSecs * 1000;
  for (;;) {
    if (ctx.pausing()) return 'ok'; // the caller sees the pause itself
    let out: Set<string>;
    try {
      out = outOfService(await ctx.lb.poolHealth(ctx.signal), configured);
    } catch (e) {
      if (ctx.aborted()) return 'ok';
      throw e;
    }
    for (const a of inProgress) out.add(a);
    if (out.has(addr) || out.size < budget) return 'ok';
    if (running.size === 0 && Date.now() > giveUpAt) {
      ctx.journal.append({
        t: 'note',
        backend: addr,
        text: `paused: ${out.size} backends are out of service outside this rollout (${[...out].join(', ')}) and MaxUnavailable is ${budget}; resume when they are back`,
      });
      return 'paused';
    }
    await Promise.race([...running, sleep(1000, ctx.signal).catch(() => undefined)]);
  }
}

/** the configured backends not serving: missing from the pool, draining, or failing their health check */
function outOfService(h: PoolHealthReport, configured: readonly string[]): Set<string> {
  const serving = new Set(h.backends.filter((b) => !b.draining && b.status === 'BS_HEALTHY').map((b) => b.backend));
  return new Set(configured.filter((a) => !serving.has(a)));
}
