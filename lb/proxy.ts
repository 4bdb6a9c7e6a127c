// Forwards one client request to a backend of the matching pool. What reaches the backend is
// exactly what the client sent: a body is forwarded with the framing it came with (Content-Length,
// or chunked), whatever the method, streamed with backpressure and bounded; a transfer coding that
// cannot be forwarded is refused (501). A bodiless GET or HEAD whose connection fails before any byte
// of the answer is retried once on another backend, so a backend that dies between health checks
// costs no client a failed request.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Backend } from './backend';
import { matchPool, type Pool } from './pool';

/** headers of one connection, never forwarded; framing is set again for the upstream request */
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
  // answered (or not) by this proxy: forwarding it would make the backend answer 100 a second time
  'expect',
]);

export interface ProxyOptions {
  maxBodyBytes: number;
  upstreamTimeoutMs: number;
  /** count each backend's requests, answers and response times (default on; off only to measure its cost) */
  stats?: boolean;
}

type Framing = { kind: 'none' } | { kind: 'length'; bytes: number } | { kind: 'chunked' };

export function proxyHandler(pools: Map<string, Pool>, opts: ProxyOptions) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const pool = matchPool(pools, (req.url ?? '/').split('?')[0]);
    if (!pool) return fail(res, 404, `no pool serves ${req.url}`);
    const framing = framingOf(req);
    if (typeof framing === 'string')
      return fail(res, framing.startsWith('Transfer-Encoding') ? 501 : 400, framing, true);
    if (framing.kind === 'length' && framing.bytes > opts.maxBodyBytes) {
      return fail(res, 413, `request body over ${opts.maxBodyBytes} bytes`, true);
    }
    const retriable = framing.kind === 'none' && (req.method === 'GET' || req.method === 'HEAD');
    attempt(pool, req, res, opts, framing, retriable ? 2 : 1, undefined);
  };
}

/** how the client framed its body, or why it cannot be forwarded */
function framingOf(req: IncomingMessage): Framing | string {
  const te = req.headers['transfer-encoding'];
  const cl = req.headers['content-length'];
  if (te !== undefined) {
    // Node's parser has already refused Content-Length together with Transfer-Encoding
    if (te.trim().toLowerCase() !== 'chunked')
      return `Transfer-Encoding ${JSON.stringify(te)} is not supported; send the body chunked or with a Content-Length`;
    return { kind: 'chunked' };
  }
  if (cl === undefined) return { kind: 'none' };
  const bytes = Number(cl);
  if (!/^\d+$/.test(cl) || !Number.isSafeInteger(bytes))
    return `Content-Length ${JSON.stringify(cl)} is not a number of bytes`;
  return bytes === 0 ? { kind: 'length', bytes: 0 } : { kind: 'length', bytes };
}

function attempt(
  pool: Pool,
  req: IncomingMessage,
  res: ServerResponse,
  opts: ProxyOptions,
  framing: Framing,
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
  const traffic = opts.stats === false ? null : b.traffic;
  const started = traffic ? performance.now() : 0;
  if (traffic) traffic.requests++;
  let finished = false;
  const done = () => {
    if (!finished) {
      finished = true;
      b.end();
    }
  };
  // the body, streamed with backpressure and bounded; Content-Length stays among the headers and
  // undici frames it so (a stream of another length fails the request), else it sends it chunked
  let body: Transform | null = null;
  if (framing.kind !== 'none') {
    body = limit(opts.maxBodyBytes);
    pipeline(req, body).catch((e: Error) => {
      if (e instanceof BodyTooLarge && !res.headersSent) fail(res, 413, e.message, true);
      else req.socket.destroy();
    });
  }
  let answered = false;
  let abort: ((err?: Error) => void) | undefined;
  let resume: (() => void) | undefined;
  res.on('close', () => {
    if (!res.writableFinished) abort?.(new Error('client went away'));
    done();
  });
  res.on('drain', () => resume?.());
  const handler = {
    onConnect(a: (err?: Error) => void) {
      abort = a;
    },
    onHeaders(status: number, raw: Buffer[], resumeFn: () => void) {
      answered = true;
      resume = resumeFn;
      traffic?.answered(status, performance.now() - started);
      res.writeHead(status, withoutHopByHop(raw.map(String)));
      return true;
    },
    onData(chunk: Buffer) {
      return res.write(chunk); // false pauses the backend's socket until res drains
    },
    onComplete() {
      res.end();
      done();
    },
    onError(e: Error) {
      done();
      if (!answered && traffic) traffic.errors++;
      if (!answered && tries > 1 && !res.headersSent) return attempt(pool, req, res, opts, framing, tries - 1, b);
      if (!res.headersSent)
        fail(res, 502, `backend ${b.addr}: ${(e as NodeJS.ErrnoException).code ?? e.message}`, true);
      else res.destroy();
    },
  };
  try {
    b.pool.dispatch({ path: req.url ?? '/', method: req.method ?? 'GET', headers, body }, handler);
  } catch (e) {
    // a request undici will not send as it is (a repeated Host header, an invalid header value)
    done();
    fail(res, 400, `cannot forward this request: ${(e as Error).message}`, true);
  }
}

class BodyTooLarge extends Error {}

function limit(max: number): Transform {
  let size = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      size += chunk.length;
      if (size > max) return cb(new BodyTooLarge(`request body over ${max} bytes`));
      cb(null, chunk);
    },
  });
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

/**
 * An error answer from the LB itself. `close`: the request's body may not have been read, so the
 * connection cannot carry another request: say so and close it (no bytes of that body can be read
 * as a request of their own).
 */
function fail(res: ServerResponse, status: number, message: string, close = false): void {
  if (res.headersSent) return void res.destroy();
  const body = JSON.stringify({ error: message });
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    ...(close ? { connection: 'close' } : {}),
  });
  res.end(body);
}
