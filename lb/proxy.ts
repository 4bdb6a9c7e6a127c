// Forwards one client request to a backend of the matching pool. What reaches the backend is
// exactly what the client sent: a body is forwarded with the framing it came with (Content-Length,
// or chunked), whatever the method, streamed with backpressure and bounded; a transfer coding that
// cannot be forwarded is refused (501). A bodiless GET or HEAD whose connection fails before any byte
// of the answer is retried once on another backend, so a backend that dies between health checks
// costs no client a failed request.
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Backend } from './backend';
import type { FrontHandler, FrontRequest } from './front/connection';
import { sendError as fail } from './front/errorAnswer';
import { validField } from './front/requestHead';
import type { FrontResponse } from './front/response';
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

export function proxyHandler(pools: Map<string, Pool>, opts: ProxyOptions): FrontHandler {
  return (req, res) => {
    const url = req.url;
    const q = url.indexOf('?');
    const pool = matchPool(pools, q < 0 ? url : url.slice(0, q));
    // the connection reader has refused what cannot be framed (front/requestHead.ts)
    const framing = req.framing;
    if (!pool) return fail(res, 404, `no pool serves ${url}`, framing.kind !== 'none');
    if (framing.kind === 'length' && framing.bytes > opts.maxBodyBytes) {
      return fail(res, 413, `request body over ${opts.maxBodyBytes} bytes`, true);
    }
    const h = scanRequestHeaders(req.rawHeaders);
    const peer = req.remoteAddress;
    h.forward.push('x-forwarded-for', h.xff && peer ? `${h.xff}, ${peer}` : (h.xff ?? peer ?? ''));
    const retriable = framing.kind === 'none' && (req.method === 'GET' || req.method === 'HEAD');
    attempt(pool, req, res, opts, h.forward, retriable ? 2 : 1, undefined);
  };
}

interface ScannedHeaders {
  /** name, value, name, value… without hop-by-hop headers and without X-Forwarded-For */
  forward: string[];
  /** repeated headers joined with ", " */
  xff?: string;
}

function scanRequestHeaders(raw: readonly string[]): ScannedHeaders {
  const out: ScannedHeaders = { forward: [] };
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i].toLowerCase();
    const v = raw[i + 1];
    if (k === 'x-forwarded-for') out.xff = out.xff === undefined ? v : `${out.xff}, ${v}`;
    // Content-Length stays among the forwarded headers: undici frames the body by it
    else if (!hopByHop.has(k)) out.forward.push(raw[i], v);
  }
  return out;
}

function attempt(
  pool: Pool,
  req: FrontRequest,
  res: FrontResponse,
  opts: ProxyOptions,
  headers: string[],
  tries: number,
  tried: Backend | undefined,
): void {
  const b = pool.pick(tried);
  if (!b) return fail(res, 503, `no healthy backend in pool ${pool.pattern}`);
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
  if (req.body) {
    body = limit(opts.maxBodyBytes);
    pipeline(req.body, body).catch((e: Error) => {
      if (e instanceof BodyTooLarge && !res.headersSent) fail(res, 413, e.message, true);
      else res.destroy();
    });
  }
  let answered = false;
  let abort: ((err?: Error) => void) | undefined;
  let resume: (() => void) | undefined;
  res.onClose(() => {
    if (!res.finished) abort?.(new Error('client went away'));
    done();
  });
  const handler = {
    onConnect(a: (err?: Error) => void) {
      abort = a;
    },
    onHeaders(status: number, raw: Buffer[], resumeFn: () => void) {
      answered = true;
      resume = resumeFn;
      traffic?.answered(status, performance.now() - started);
      res.writeHead(status, responseHeaders(raw));
      return true;
    },
    onData(chunk: Buffer) {
      if (res.write(chunk)) return true;
      res.onDrain(() => resume?.()); // until then the backend's socket is paused
      return false;
    },
    onComplete() {
      res.end();
      done();
    },
    onError(e: Error) {
      done();
      if (!answered && traffic) traffic.errors++;
      if (!answered && tries > 1 && !res.headersSent) return attempt(pool, req, res, opts, headers, tries - 1, b);
      if (!res.headersSent)
        fail(res, 502, `backend ${b.addr}: ${(e as NodeJS.ErrnoException).code ?? e.message}`, true);
      else res.destroy();
    },
  };
  try {
    b.pool.dispatch({ path: req.url, method: req.method, headers, body }, handler);
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

/**
 * The backend's raw headers (name, value… as bytes) without hop-by-hop headers, as latin1 strings
 * (header bytes are opaque, a UTF-8 filename is common; front/response.ts writes them back as
 * latin1, byte for byte). A field HTTP does not allow is dropped: a control byte could split the
 * answer, and a backend's parser may have let one through.
 */
function responseHeaders(raw: readonly Buffer[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i].toString('latin1');
    const v = raw[i + 1].toString('latin1');
    if (hopByHop.has(k.toLowerCase()) || !validField(k, v)) continue;
    out.push(k, v);
  }
  return out;
}
