// Is a backend serving? GET http://ADDR/PATH and compare the trimmed body with the expected one.
import { get } from 'node:http';

export function checkHealth(host: string, port: number, path: string, expect: string, timeoutMs = 2000, signal?: AbortSignal): Promise<{ ok: boolean; why: string }> {
  return new Promise((resolve) => {
    const req = get({ host, port, path, agent: false, signal, headers: { 'user-agent': 'fleet-rollout' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        if (body.length < 4096) body += d;
      });
      res.on('end', () => {
        const code = res.statusCode ?? 0;
        if (code < 200 || code > 299) return resolve({ ok: false, why: `GET ${path} answered HTTP ${code}` });
        if (expect && body.trim() !== expect) return resolve({ ok: false, why: `GET ${path} answered ${JSON.stringify(body.trim().slice(0, 80))}, expected ${JSON.stringify(expect)}` });
        resolve({ ok: true, why: '' });
      });
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ ok: false, why: `GET ${path}: ${e.code ?? e.message}` }));
  });
}

/** polls until healthy or the deadline; resolves the last reason when it never got healthy */
export async function waitHealthy(host: string, port: number, path: string, expect: string, timeoutMs: number, signal?: AbortSignal): Promise<{ ok: boolean; why: string }> {
  const deadline = Date.now() + timeoutMs;
  let last = { ok: false, why: 'not checked' };
  while (Date.now() < deadline && !signal?.aborted) {
    last = await checkHealth(host, port, path, expect, Math.min(2000, Math.max(100, deadline - Date.now())), signal);
    if (last.ok) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  return last;
}
