// The HTTP API kit the agent's API and the built-in LB's control API share, so both answer a caller
// the same way: who may call (an Origin header is a web page: refused; a Host that does not name the
// service is DNS rebinding: refused; on TCP a bearer token, full or read-only, compared in constant
// time), the shape of every error answer (`{"error": "…", …}`), and how long a client waits for an
// answer before it gives up (a server that accepts and never answers must not hang a rollout).
import { timingSafeEqual } from 'node:crypto';

export type ApiAccess = { ok: true; level: 'full' | 'read' } | { ok: false; status: 401 | 403; error: string };

export interface ApiGuard {
  /** the service, as refusals name it: `agent`, `LB` */
  name: string;
  /** does this Host header (lower-cased) name the service? */
  hostOk: (host: string) => boolean;
  /** how to address it instead, said when the Host is refused */
  addressAs?: string;
  /** TCP: the bearer tokens; none on a unix socket, whose mode is the check */
  tokens?: { full: Buffer; read?: Buffer };
}

/** whether a request with these headers may call the API, and with which token */
export function apiAccess(h: { origin?: string; host?: string; authorization?: string }, g: ApiGuard): ApiAccess {
  if (h.origin !== undefined)
    return { ok: false, status: 403, error: 'requests with an Origin header (from a web page) are refused' };
  const host = (h.host ?? '').toLowerCase();
  if (!g.hostOk(host))
    return {
      ok: false,
      status: 403,
      error: `Host ${JSON.stringify(host)} does not name this ${g.name}${g.addressAs ? `; address it as ${g.addressAs}` : ''}`,
    };
  if (!g.tokens) return { ok: true, level: 'full' };
  const m = /^Bearer (\S+)$/.exec(h.authorization ?? '');
  const given = m ? Buffer.from(m[1]) : Buffer.alloc(0);
  if (same(given, g.tokens.full)) return { ok: true, level: 'full' };
  if (g.tokens.read && same(given, g.tokens.read)) return { ok: true, level: 'read' };
  return {
    ok: false,
    status: 401,
    error: `missing or wrong bearer token; send Authorization: Bearer <the token in the ${g.name}'s token file>`,
  };
}

function same(given: Buffer, want: Buffer): boolean {
  return given.length === want.length && timingSafeEqual(given, want);
}

/** the body of every error answer */
export interface ApiErrorBody {
  error: string;
  [extra: string]: unknown;
}

export function apiError(error: string, extra: Record<string, unknown> = {}): ApiErrorBody {
  return { ...extra, error };
}

/** how long a client waits for an answer to a call that does not say otherwise */
export const apiDeadlineMs = 60_000;

/** `signal` and a deadline of `ms`, whichever ends first */
export function withDeadline(ms: number, signal?: AbortSignal): AbortSignal {
  const deadline = AbortSignal.timeout(ms);
  return signal ? AbortSignal.any([signal, deadline]) : deadline;
}
