// Small network helpers for tests: a free loopback port, a GET that returns the body, retries.
import { get } from 'node:http';
import { createServer } from 'node:net';

const handedOut = new Set<number>();

/**
 * A port nothing listens on, from 20000-32767: below Linux's ephemeral range (32768+), so an
 * outgoing connection cannot take it between this call and the listen. Never the same port twice
 * in one test process.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20000 + Math.floor(Math.random() * 12768);
    if (handedOut.has(port)) continue;
    const ok = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, host, () => s.close(() => resolve(true)));
    });
    if (ok) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('no free port found in 20000-32767');
}

export function httpGet(url: string, headers: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get(url, { headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () =>
        (res.statusCode ?? 500) < 400 ? resolve(body) : reject(new Error(`GET ${url}: ${res.statusCode} ${body}`)),
      );
    });
    req.setTimeout(5000, () => req.destroy(new Error(`GET ${url}: timeout`)));
    req.on('error', reject);
  });
}

/** retries fn until it resolves or timeoutMs passes (bounded: at most timeoutMs / 50 tries) */
export async function waitFor<T>(fn: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
