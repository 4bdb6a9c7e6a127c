// Is a backend serving? The shared health check with service.json's Health.Expect, and a poll
// until healthy or a deadline.
import { checkHealth as check, type HealthResult } from '../healthCheck';

export function checkHealth(host: string, port: number, path: string, expect: string, timeoutMs = 2000, signal?: AbortSignal): Promise<HealthResult> {
  return check(host, port, path, expect ? [expect] : [], timeoutMs, signal);
}

/** polls until healthy or the deadline; resolves the last reason when it never got healthy */
export async function waitHealthy(host: string, port: number, path: string, expect: string, timeoutMs: number, signal?: AbortSignal): Promise<HealthResult> {
  const deadline = Date.now() + timeoutMs;
  let last: HealthResult = { ok: false, why: 'not checked' };
  while (Date.now() < deadline && !signal?.aborted) {
    last = await checkHealth(host, port, path, expect, Math.min(2000, Math.max(100, deadline - Date.now())), signal);
    if (last.ok) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  return last;
}
