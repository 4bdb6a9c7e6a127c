// The tests' hooks into a running rollout, read from the environment in one place for every front
// end (the CLI, the editor). Unset, they do nothing.
//   FLEET_ROLLOUT_STEP_DELAY_MS=N    every step waits N ms after its start is journaled (fault tests kill mid-step)
//   FLEET_ROLLOUT_STEP_HOLD=FILE     while FILE exists, a step that starts waits there (only the steps of
//                                    the backends it lists, one address a line, when it lists any): a
//                                    test holds a rollout mid-step as long as it needs, however slow the machine
import { readFileSync } from 'node:fs';
import { sleep } from '../sleep';

export interface FaultHooks {
  stepDelayMs: number;
  stepHoldFile?: string;
}

export function faultHooksFromEnv(env: NodeJS.ProcessEnv = process.env): FaultHooks {
  const ms = Number(env.FLEET_ROLLOUT_STEP_DELAY_MS ?? 0);
  return {
    stepDelayMs: Number.isFinite(ms) && ms > 0 ? ms : 0,
    ...(env.FLEET_ROLLOUT_STEP_HOLD ? { stepHoldFile: env.FLEET_ROLLOUT_STEP_HOLD } : {}),
  };
}

/**
 * the hooks' wait inside a step of `backend`: the delay, then as long as the hold file holds it (or the signal aborts)
 */
export async function stepFaultWait(hooks: FaultHooks, signal: AbortSignal, backend: string): Promise<void> {
  if (hooks.stepDelayMs > 0) await sleep(hooks.stepDelayMs, signal);
  while (hooks.stepHoldFile && holds(hooks.stepHoldFile, backend) && !signal.aborted) await sleep(50, signal);
}

function holds(file: string, backend: string): boolean {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return false; // no file: nothing held
  }
  const listed = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return listed.length === 0 || listed.includes(backend);
}
