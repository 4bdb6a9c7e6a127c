// One HTTP health check, shared by the built-in LB and the rollout: GET path, a 2xx status, and
// (when healthyValues is not empty) a trimmed body among healthyValues.
import { get } from 'node:http';

export interface HealthResult {
  ok: boolean;
  /** why not, in words for an error message */
  why: string;
}

export function checkHealth(
  host: string,
  port: number,
  path: string,
  healthyValues: readonly string[],
  timeoutMs = 2000,
  signal?: AbortSignal,
): Promise<HealthResult> {
  return new Promise((resolve) => {
    const req = get({ host, port, path, agent: false, signal, headers: { 'user-agent': 'fleet-health' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        if (body.length < 4096) body += d;
      });
      res.on('end', () => {
        const code = res.statusCode ?? 0;
        if (code < 200 || code > 299) return resolve({ ok: false, why: `GET ${path} answered HTTP ${code}` });
        if (healthyValues.length > 0 && !healthyValues.includes(body.trim())) {
          return resolve({
            ok: false,
            why: `GET ${path} answered ${JSON.stringify(body.trim().slice(0, 80))}, expected ${healthyValues.length === 1 ? JSON.stringify(healthyValues[0]) : `one of ${JSON.stringify(healthyValues)}`}`,
          });
        }
        resolve({ ok: true, why: '' });
      });
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ ok: false, why: `GET ${path}: ${e.code ?? e.message}` }));
  });
}
