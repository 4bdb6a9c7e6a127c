// Forwards one client request to a backend of the matching pool. A GET or HEAD whose connection
// fails before any byte of the answer is retried once on another backend, so a backend that
// dies between health checks costs no client a failed request. Bodies are bounded.
import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Backend } from './backend';
import { matchPool, type Pool } from './pool';

const hopByHop = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'proxy-authorization',
  'proxy-authenticate',
]);

export interface ProxyOptions {
  maxBodyBytes: number;
  upstreamTimeoutMs: number;
}

export function proxyHandler(pools: Map<string, Pool>, opts: ProxyOptions) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const pool = matchPool(pools, (req.url ?? '/').split('?')[0]);
    if (!pool) return fail(res, 404, `no pool serves ${req.url}`);
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > opts.maxBodyBytes) return fail(res, 413, `request body over ${opts.maxBodyBytes} bytes`);
    const idempotent =
      (req.method === 'GET' || req.method === 'HEAD') &&
      !req.headers['content-length'] &&
      !req.headers['transfer-encoding'];
    attempt(pool, req, res, opts, idempotent ? 2 : 1, undefined);
  };
}

function attempt(
  pool: Pool,
  req: IncomingMessage,
  res: ServerResponse,
  opts: ProxyOptions,
  tries: number,
  tried: Backend | undefined,
): void {
  const b = pool.pick(tried);
  if (!b) return fail(res, 503, `no healthy backend in pool ${pool.pattern}`);
  // raw header arrays in both directions: no per-request header objects to build and copy
  const headers = withoutHopByHop(req.rawHeaders, 'x-forwarded-for');
  headers.push(
    'x-forwarded-for',
    [req.headers['x-forwarded-for'], req.socket.remoteAddress].filter(Boolean).join(', '),
  );
  b.begin();
  let finished = false;
  const done = () => {
    if (!finished) {
      finished = true;
      b.end();
    }
  };
  const up = request(
    {
      host: b.host,
      port: b.port,
      method: req.method,
      path: req.url,
      headers,
      agent: b.agent,
      timeout: opts.upstreamTimeoutMs,
    },
    (ures) => {
      res.writeHead(ures.statusCode ?? 502, withoutHopByHop(ures.rawHeaders));
      ures.pipe(res);
      ures.on('end', done);
      ures.on('error', () => (done(), res.destroy()));
    },
  );
  let answered = false;
  up.once('response', () => (answered = true));
  up.on('timeout', () => up.destroy(new Error('upstream timeout')));
  up.on('error', (e) => {
    done();
    if (!answered && tries > 1 && !res.headersSent) return attempt(pool, req, res, opts, tries - 1, b);
    if (!res.headersSent) fail(res, 502, `backend ${b.addr}: ${(e as NodeJS.ErrnoException).code ?? e.message}`);
    else res.destroy();
  });
  res.on('close', () => {
    if (!res.writableFinished) up.destroy();
    done();
  });
  if (req.method === 'GET' || req.method === 'HEAD') {
    up.end();
    return;
  }
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > opts.maxBodyBytes) {
      up.destroy();
      if (!res.headersSent) fail(res, 413, `request body over ${opts.maxBodyBytes} bytes`);
      req.destroy();
      return;
    }
    up.write(chunk);
  });
  req.on('end', () => up.end());
}

/** a rawHeaders array (name, value, name, value…) without hop-by-hop headers (and `drop`) */
function withoutHopByHop(raw: readonly string[], drop?: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i].toLowerCase();
    if (!hopByHop.has(k) && k !== drop) out.push(raw[i], raw[i + 1]);
  }
  return out;
}

function fail(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) return void res.destroy();
  const body = JSON.stringify({ error: message });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
