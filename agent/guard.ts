// Who may talk to the agent (the rules the LB's control API shares: core/protocol/httpApi.ts). Any
// Origin header is refused (no web page may drive the agent, the talk's agent let any site POST to
// it); on plain http the Host header must name this agent (a DNS-rebinding page sends its own name;
// over TLS no page gets past the self-signed certificate, so there any name is fine: Prometheus
// sends the target's DNS name); on TCP every request needs `Authorization: Bearer <token>`, and
// which token decides what it may do: the full token everything, the read-only token only the GETs
// of `isReadOnlyRequest` (metrics and status). A refused request closes its connection: a client
// that trickles a body after a 401 holds nothing.
import type { NextFunction, Request, Response } from 'express';
import { isReadOnlyRequest } from '../core/protocol/agent';
import { apiAccess, apiError } from '../core/protocol/httpApi';

export interface GuardOptions {
  /** Host header values accepted; IP literals with the right port are always accepted on TCP */
  allowedHosts: Set<string>;
  port?: number;
  /** TCP: the full token (every route) and the read-only one (metrics and status) */
  tokens?: { full: string; read?: string; fullFile?: string };
}

export function guard(opts: GuardOptions) {
  const tokens = opts.tokens
    ? { full: Buffer.from(opts.tokens.full), ...(opts.tokens.read ? { read: Buffer.from(opts.tokens.read) } : {}) }
    : undefined;
  return (req: Request, res: Response, next: NextFunction): void => {
    const tls = (req.socket as { encrypted?: boolean }).encrypted === true;
    const access = apiAccess(req.headers, {
      name: 'agent',
      hostOk: (host) => tls || opts.allowedHosts.has(host) || isIpLiteralWithPort(host, opts.port),
      addressAs: [...opts.allowedHosts][0],
      tokens,
    });
    if (!access.ok) return refuse(req, res, access.status, access.error);
    if (access.level === 'read' && !isReadOnlyRequest(req.method, req.path))
      return refuse(
        req,
        res,
        403,
        `this token is the agent's read-only one (metrics and status); ${req.method} ${req.path} needs its full token${opts.tokens?.fullFile ? ` (${opts.tokens.fullFile} on the agent's host)` : ''}`,
      );
    next();
  };
}

/**
 * Answers and closes the connection: Node would otherwise keep it, reading (and discarding) a body
 * the client may trickle for as long as it likes, to reuse the connection.
 */
function refuse(req: Request, res: Response, status: number, error: string): void {
  res.setHeader('connection', 'close');
  res.once('finish', () => req.socket.destroySoon());
  res.status(status).json(apiError(error));
}

function isIpLiteralWithPort(host: string, port?: number): boolean {
  if (port === undefined) return false;
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-f:]+\]):(\d+)$/.exec(host);
  return m !== null && Number(m[2]) === port;
}
