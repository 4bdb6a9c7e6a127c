// Who may talk to the agent. Any Origin header is refused (no web page may drive the agent, the
// talk's agent let any site POST to it); on plain http the Host header must name this agent (a
// DNS-rebinding page sends its own name; over TLS no page gets past the self-signed certificate,
// so there any name is fine: Prometheus sends the target's DNS name); on TCP every request needs `Authorization: Bearer
// <token>`, and which
// token decides what it may do: the full token everything, the read-only token only the GETs of
// `isReadOnlyRequest` (metrics and status). A refused request closes its connection: a client that
// trickles a body after a 401 holds nothing.
import { timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { isReadOnlyRequest } from '../core/protocol/agent';

export interface GuardOptions {
  /** Host header values accepted; IP literals with the right port are always accepted on TCP */
  allowedHosts: Set<string>;
  port?: number;
  /** TCP: the full token (every route) and the read-only one (metrics and status) */
  tokens?: { full: string; read?: string; fullFile?: string };
}

export function guard(opts: GuardOptions) {
  const full = opts.tokens ? Buffer.from(opts.tokens.full) : null;
  const read = opts.tokens?.read ? Buffer.from(opts.tokens.read) : null;
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.headers.origin !== undefined)
      return refuse(req, res, 403, 'requests with an Origin header (from a web page) are refused');
    const host = (req.headers.host ?? '').toLowerCase();
    const tls = (req.socket as { encrypted?: boolean }).encrypted === true;
    if (!tls && !opts.allowedHosts.has(host) && !isIpLiteralWithPort(host, opts.port)) {
      return refuse(
        req,
        res,
        403,
        `Host ${JSON.stringify(host)} does not name this agent; address it as ${[...opts.allowedHosts][0]}`,
      );
    }
    if (full) {
      const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
      const given = m ? Buffer.from(m[1]) : Buffer.alloc(0);
      if (same(given, full)) return next();
      if (read && same(given, read)) {
        if (isReadOnlyRequest(req.method, req.path)) return next();
        return refuse(
          req,
          res,
          403,
          `this token is the agent's read-only one (metrics and status); ${req.method} ${req.path} needs its full token${opts.tokens?.fullFile ? ` (${opts.tokens.fullFile} on the agent's host)` : ''}`,
        );
      }
      return refuse(
        req,
        res,
        401,
        "missing or wrong bearer token; send Authorization: Bearer <the token in the agent's token file>",
      );
    }
    next();
  };
}

function same(given: Buffer, want: Buffer): boolean {
  return given.length === want.length && timingSafeEqual(given, want);
}

/**
 * Answers and closes the connection: Node would otherwise keep it, reading (and discarding) a body
 * the client may trickle for as long as it likes, to reuse the connection.
 */
function refuse(req: Request, res: Response, status: number, error: string): void {
  res.setHeader('connection', 'close');
  res.once('finish', () => req.socket.destroySoon());
  res.status(status).json({ error });
}

function isIpLiteralWithPort(host: string, port?: number): boolean {
  if (port === undefined) return false;
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-f:]+\]):(\d+)$/.exec(host);
  return m !== null && Number(m[2]) === port;
}
