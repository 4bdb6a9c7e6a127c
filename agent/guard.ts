// Who may talk to the agent. Any Origin header is refused (no web page may drive the agent, the
// talk's agent let any site POST to it); the Host header must name this agent (a DNS-rebinding
// page sends its own name); on TCP every request needs `Authorization: Bearer <token>`.
import { timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

export interface GuardOptions {
  /** Host header values accepted; IP literals with the right port are always accepted on TCP */
  allowedHosts: Set<string>;
  port?: number;
  token?: string;
}

export function guard(opts: GuardOptions) {
  const token = opts.token ? Buffer.from(opts.token) : null;
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.headers.origin !== undefined) {
      res.status(403).json({ error: 'requests with an Origin header (from a web page) are refused' });
      return;
    }
    const host = (req.headers.host ?? '').toLowerCase();
    if (!opts.allowedHosts.has(host) && !isIpLiteralWithPort(host, opts.port)) {
      res.status(403).json({
        error: `Host ${JSON.stringify(host)} does not name this agent; address it as ${[...opts.allowedHosts][0]}`,
      });
      return;
    }
    if (token) {
      const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
      const given = m ? Buffer.from(m[1]) : Buffer.alloc(0);
      if (given.length !== token.length || !timingSafeEqual(given, token)) {
        res.status(401).json({
          error: "missing or wrong bearer token; send Authorization: Bearer <the token in the agent's token file>",
        });
        return;
      }
    }
    next();
  };
}

function isIpLiteralWithPort(host: string, port?: number): boolean {
  if (port === undefined) return false;
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-f:]+\]):(\d+)$/.exec(host);
  return m !== null && Number(m[2]) === port;
}
