// The per-backend chain, in the seed's order. Each step does one thing, is idempotent (safe to
// run again after a crash), and returns the next step's name; the runner (backendRun.ts) journals
// every transition before taking it. Nothing a backend or agent answers is used as a path or a
// command: only as data compared with what we expect.
//
//   findApp ─► rmBackend ─► jobKill ─► cp ─► jobStart ─► reachable ─► addBackend ─► done
//   (agent     (LB drain,   (agent     (install   (ensure     (health      (LB ready,
//    answers?)  waits)       stop)      via agent) running)    check)       healthy)
import type { AgentClient } from '../agentClient/client';
import { AgentError } from '../agentClient/client';
import { FleetError } from '../errors';
import type { LoadBalancer } from '../lb/types';
import type { PackageStatus } from '../protocol/agent';
import type { BackendTarget, LoadedService } from './config';
import type { StepName } from './constants';
import { waitHealthy, type HealthCheck } from './health';
import { sleep } from '../sleep';

export { stepNames, type StepName } from './constants';

export interface StepContext {
  svc: LoadedService;
  backend: BackendTarget;
  lb: LoadBalancer;
  agent: AgentClient;
  health: HealthCheck;
  signal: AbortSignal;
  /** reports something found and repaired, into the journal */
  note: (text: string) => void;
  /** reports what the backend runs before the rollout touches it (the panel's "from") */
  found?: (status: PackageStatus | null) => void;
  /** holds the rollout's lease on the backend's agent before any step (taken late if the start could not) */
  lease?: () => Promise<void>;
}

export class StepError extends FleetError {}

type Step = (ctx: StepContext) => Promise<StepName | 'done'>;

async function installed(ctx: StepContext): Promise<PackageStatus | null> {
  try {
    return await ctx.agent.status(ctx.svc.packageName);
  } catch (e) {
    if (e instanceof AgentError && e.status === 404) return null;
    throw e;
  }
}

export const steps: Record<StepName, Step> = {
  /** the agent answers; the package may or may not be there yet */
  async findApp(ctx) {
    await ctx.agent.health();
    ctx.found?.(await installed(ctx));
    return 'rmBackend';
  },

  /** out of the LB, its in-flight requests finished */
  async rmBackend(ctx) {
    await ctx.lb.drain(ctx.backend.addr, { timeoutMs: ctx.svc.config.DrainTimeoutSecs * 1000, signal: ctx.signal });
    return 'jobKill';
  },

  /** stop the old program; first make sure the LB still has it out (a reload may have undone the drain) */
  async jobKill(ctx) {
    const st = await ctx.lb.state(ctx.backend.addr, ctx.signal);
    if (st.lb !== 'out') {
      ctx.note(
        `${ctx.lb.name} shows ${ctx.backend.addr} ${st.lb} again although it was drained (a reload without a server-state file?); draining it again before stopping it`,
      );
      await ctx.lb.drain(ctx.backend.addr, { timeoutMs: ctx.svc.config.DrainTimeoutSecs * 1000, signal: ctx.signal });
    }
    const cur = await installed(ctx);
    if (cur && cur.sha256 !== ctx.svc.sha256 && cur.state !== 'stopped')
      await ctx.agent.action(ctx.svc.packageName, 'stop');
    return 'cp';
  },

  /** install through the agent (it keeps the previous version); skipped when this package is already there */
  async cp(ctx) {
    const cur = await installed(ctx);
    if (cur?.sha256 === ctx.svc.sha256 && sameArgs(cur.args, ctx.backend.args)) return 'jobStart';
    await ctx.agent.install(ctx.svc.packageName, ctx.svc.zip, {
      binary: ctx.svc.binary,
      args: ctx.backend.args,
      sha256: ctx.svc.sha256,
    });
    return 'jobStart';
  },

  async jobStart(ctx) {
    const cur = await installed(ctx);
    if (!cur) throw new StepError(`agent ${ctx.backend.agent} lost package ${ctx.svc.packageName} after installing it`);
    if (cur.state !== 'running') await ctx.agent.action(ctx.svc.packageName, 'start');
    return 'reachable';
  },

  async reachable(ctx) {
    const h = ctx.svc.config.Health;
    const r = await waitHealthy(ctx.health, ctx.backend, h.TimeoutSecs * 1000, ctx.signal);
    if (!r.ok)
      throw new StepError(`backend ${ctx.backend.addr} did not become healthy within ${h.TimeoutSecs}s: ${r.why}`);
    return 'addBackend';
  },

  async addBackend(ctx) {
    await ctx.lb.ready(ctx.backend.addr, ctx.signal);
    const deadline = Date.now() + ctx.svc.config.Health.TimeoutSecs * 1000;
    for (;;) {
      const st = await ctx.lb.state(ctx.backend.addr, ctx.signal);
      if (st.lb === 'serving' && st.healthy) return 'done';
      if (Date.now() > deadline)
        throw new StepError(`backend ${ctx.backend.addr} is back in the LB but not healthy there (state ${st.lb})`);
      await sleep(200, ctx.signal);
    }
  },
};

function sameArgs(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
