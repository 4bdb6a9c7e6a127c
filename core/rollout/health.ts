// Is a backend serving? A HealthCheck asks once (the rollout's deps provide one: HTTP against
// service.json's Health by default, a fake in unit tests); waitHealthy polls one until healthy or a
// deadline.
import { checkHealth, type HealthResult } from '../healthCheck';
import type { BackendTarget, LoadedService } from './config';
import { sleep } from '../sleep';

export type HealthCheck = (b: BackendTarget, timeoutMs: number, signal?: AbortSignal) => Promise<HealthResult>;

/** GET Health.Path on the backend; healthy when it answers 2xx with Health.Expect (any body when empty) */
export function httpHealth(svc: LoadedService): HealthCheck {
  const h = svc.config.Health;
  return (b, timeoutMs, signal) => checkHealth(b.host, b.port, h.Path, h.Expect ? [h.Expect] : [], timeoutMs, signal);
}

/** polls until healthy or the deadline; resolves the last reason when it never got healthy */
export async function waitHealthy(
  check: HealthCheck,
  b: BackendTarget,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<HealthResult> {
  const deadline = Date.now() + timeoutMs;
  let last: HealthResult = { ok: false, why: 'not checked' };
  while (Date.now() < deadline && !signal?.aborted) {
    last = await check(b, Math.min(2000, Math.max(100, deadline - Date.now())), signal);
    if (last.ok) return last;
    await sleep(Math.min(200, deadline - Date.now()), signal);
  }
  return last;
}
