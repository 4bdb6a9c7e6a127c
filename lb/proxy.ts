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
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pool = matchPool(pools, q < 0 ? url : url.slice(0, q));
    if (!pool) return fail(res, 404, `no pool serves ${url}`);
    // one pass over the raw headers instead of req.headers, which Node builds on first use
    const h = scanRequestHeaders(req.rawHeaders);
    const framing = framingOf(h.te, h.cl);
    if (typeof framing === 'string')
      return fail(res, framing.startsWith('Transfer-Encoding') ? 501 : 400, framing, true);
    if (framing.kind === 'length' && framing.bytes > opts.maxBodyBytes) {
      return fail(res, 413, `request body over ${opts.maxBodyBytes} bytes`, true);
    }
    const peer = req.socket.remoteAddress;
    h.forward.push('x-forwarded-for', h.xff && peer ? `${h.xff}, ${peer}` : (h.xff ?? peer ?? ''));
    const retriable = framing.kind === 'none' && (req.method === 'GET' || req.method === 'HEAD');
    attempt(pool, req, res, opts, framing, h.forward, retriable ? 2 : 1, undefined);
  };
}

interface ScannedHeaders {
  /** name, value, name, value… without hop-by-hop headers and without X-Forwarded-For */
  forward: string[];
  /** repeated headers joined with ", ", as Node's req.headers joins them */
  te?: string;
  cl?: string;
  xff?: string;
}

function scanRequestHeaders(raw: readonly string[]): ScannedHeaders {
  const out: ScannedHeaders = { forward: [] };
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i].toLowerCase();
    const v = raw[i + 1];
    if (k === 'x-forwarded-for') out.xff = out.xff === undefined ? v : `${out.xff}, ${v}`;
    else if (k === 'transfer-encoding') out.te = out.te === undefined ? v : `${out.te}, ${v}`;
    else if (hopByHop.has(k)) continue;
    else {
      // Content-Length stays among the forwarded headers: undici frames the body by it (Node's
      // parser has already refused a second one)
      if (k === 'content-length') out.cl = v;
      out.forward.push(raw[i], v);
    }
  }
  return out;
}

/** how the client framed its body, or why it cannot be forwarded */
function framingOf(te: string | undefined, cl: string | undefined): Framing | string {
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
  return { kind: 'length', bytes };
}

function attempt(
  pool: Pool,
  req: IncomingMessage,
  res: ServerResponse,
  opts: ProxyOptions,
  framing: Framing,
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
      res.once('drain', () => resume?.()); // until then the backend's socket is paused
      return false;
    },
    onComplete() {
      res.end();
      done();
    },
    onError(e: Error) {
      done();
      if (!answered && traffic) traffic.errors++;
      if (!answered && tries > 1 && !res.headersSent)
        return attempt(pool, req, res, opts, framing, headers, tries - 1, b);
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

/**
 * The backend's raw headers (name, value… as bytes) without hop-by-hop headers, as strings Node
 * writes back unchanged: header bytes are opaque (a UTF-8 filename is common), so they are read as
 * latin1, the encoding Node's ServerResponse writes them in.
 */
function responseHeaders(raw: readonly Buffer[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i].toString('latin1');
    if (!hopByHop.has(k.toLowerCase())) out.push(k, raw[i + 1].toString('latin1'));
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
