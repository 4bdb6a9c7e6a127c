// The proxy listener's handler: finds the pool for a request, refuses what it will not forward (no
// pool: 404, a body over the limit: 413), reads the body up to the buffering bound before a backend
// connection is taken (bodyBuffer.ts), and hands the request to a Forward (forward.ts). What reaches
// the backend is what the client sent, less the hop-by-hop fields (headers.ts), with its body framed
// as it came (Content-Length or chunked) and X-Forwarded-For extended with the client's address.
import type { FrontHandler, FrontRequest } from './front/connection';
import { BodyError } from './front/connection';
import { sendError } from './front/errorAnswer';
import type { FrontResponse } from './front/response';
import { bufferBody, BodyTooLarge } from './bodyBuffer';
import { Forward, type ForwardOptions, type Outgoing } from './forward';
import { requestFields } from './headers';
import { matchPool, type Pool } from './pool';
import type { FrontCounters } from './stats';

export interface ProxyOptions extends ForwardOptions {
  /** body bytes read before a backend connection is taken (HAProxy's http-buffer-request reads up to its buffer) */
  bufferBodyBytes: number;
}

export function proxyHandler(pools: Map<string, Pool>, opts: ProxyOptions, unrouted: FrontCounters): FrontHandler {
  return (req, res) => {
    const url = req.url;
    const q = url.indexOf('?');
    const pool = matchPool(pools, q < 0 ? url : url.slice(0, q));
    // the connection reader has refused what cannot be framed (front/requestHead.ts)
    const framing = req.framing;
    if (!pool) {
      unrouted.refuse(404);
      return sendError(res, 404, `no pool serves ${url}`, framing.kind !== 'none');
    }
    if (framing.kind === 'length' && framing.bytes > opts.maxBodyBytes) {
      pool.front.refuse(413);
      return sendError(res, 413, `request body over ${opts.maxBodyBytes} bytes`, true);
    }
    const out = outgoing(req);
    if (!req.body) return new Forward(pool, req, res, out, opts).start();
    // a client that leaves meanwhile fails the body with a BodyError: no backend was tried
    bufferBody(req.body, opts.bufferBodyBytes, opts.maxBodyBytes, (r) => {
      if (r instanceof Error) return bodyFailedEarly(pool, res, r);
      out.body = r.chunks;
      out.rest = r.rest;
      new Forward(pool, req, res, out, opts).start();
    });
  };
}

/** the body failed before a backend was tried: nothing to count against a backend */
function bodyFailedEarly(pool: Pool, res: FrontResponse, e: Error): void {
  if (e instanceof BodyTooLarge) {
    pool.front.refuse(413);
    return sendError(res, 413, e.message, true);
  }
  if (e instanceof BodyError) {
    // the connection answers these itself (400 for a malformed body, 408 for a late one)
    if (e.reason === 'clientTimeout') pool.front.clientTimeouts++;
    else if (e.reason === 'malformed') pool.front.refuse(400);
    else pool.front.clientAborts++;
  }
}

/** the request as it goes to a backend: request line, forwarded fields, X-Forwarded-For, framing */
function outgoing(req: FrontRequest): Outgoing {
  const f = requestFields(req.rawHeaders);
  let head = `${req.method} ${req.url} HTTP/1.1\r\n`;
  const fw = f.forward;
  for (let i = 0; i < fw.length; i += 2) head += `${fw[i]}: ${fw[i + 1]}\r\n`;
  const peer = req.remoteAddress;
  head += `x-forwarded-for: ${f.xff && peer ? `${f.xff}, ${peer}` : (f.xff ?? peer ?? '')}\r\n`;
  const framing = req.framing;
  if (framing.kind === 'length') head += `content-length: ${framing.bytes}\r\n`;
  else if (f.hasLength) head += 'content-length: 0\r\n';
  else if (framing.kind === 'chunked') head += 'transfer-encoding: chunked\r\n';
  if (req.upgrade !== undefined) head += `connection: upgrade\r\nupgrade: ${req.upgrade}\r\n`;
  return { head, needsHost: !f.hasHost, body: [], rest: null, chunked: framing.kind === 'chunked' };
}
