// Runs one backend's chain of steps from a given step: journals each step before and after it,
// gives each a deadline, retries a failed step a bounded number of times with backoff, and stops
// between steps (a safe point) when the rollout is pausing.
import { errorMessage } from '../errors';
import type { Journal } from './journal';
import { steps, type StepContext, type StepName } from './steps';
import { sleep } from '../sleep';
import { stepFaultWait, type FaultHooks } from './faultHooks';

export interface RunControl {
  /** true once a pause was asked: no new step starts */
  readonly pausing: boolean;
  /** the tests' hooks: wait after journaling a step's start (lets fault tests kill or reload mid-step) */
  readonly hooks: FaultHooks;
  /** resolves once the backend's journal events are recorded on its agent (a step starts only then) */
  recorded?(backend: string): Promise<void>;
}

export type BackendOutcome =
  { result: 'done' } | { result: 'failed'; step: StepName; error: string } | { result: 'paused'; step: StepName };

export async function runBackend(
  ctx: StepContext,
  from: StepName,
  journal: Journal,
  control: RunControl,
): Promise<BackendOutcome> {
  const retries = ctx.svc.config.Retries;
  const timeoutMs = ctx.svc.config.StepTimeoutSecs * 1000;
  let step: StepName | 'done' = from;
  while (step !== 'done') {
    if (control.pausing) return { result: 'paused', step };
    const current: StepName = step;
    let attempt = 0;
    for (;;) {
      attempt++;
      journal.append({ t: 'step', backend: ctx.backend.addr, step: current, phase: 'start', attempt });
      await control.recorded?.(ctx.backend.addr);
      await stepFaultWait(control.hooks, ctx.signal, ctx.backend.addr);
      try {
        const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(timeoutMs)]);
        await ctx.lease?.(); // nothing of an agent changes without the rollout's lease there
        const next: StepName | 'done' = await steps[current]({ ...ctx, signal });
        journal.append({ t: 'step', backend: ctx.backend.addr, step: current, phase: 'done', attempt, next });
        step = next;
        break;
      } catch (e) {
        const error = ctx.signal.aborted ? 'aborted' : errorMessage(e);
        journal.append({ t: 'step', backend: ctx.backend.addr, step: current, phase: 'failed', attempt, error });
        if (ctx.signal.aborted || attempt > retries)
          return { result: 'failed', step: current, error: `${current}: ${error}` };
        await sleep(Math.min(5000, 250 * 2 ** attempt), ctx.signal);
      }
    }
  }
  return { result: 'done' };
}
