// Whether the load balancer service.json names answers at all: a TCP connection to the built-in
// LB's control address (or its unix socket, or HAProxy's admin socket) opened and closed at once.
// Nothing is sent, no token is read: an editor may ask this while a person types. A warning, never
// an error: the LB may simply not be started yet.
import { connect } from 'node:net';
import { parseHostPort } from '../hostPort';

export type LbTarget =
  { kind: 'tcp'; host: string; port: number; text: string } | { kind: 'unix'; path: string; text: string };

/** where `LB` (HOST:PORT or unix:/path) points; undefined when it is neither */
export function lbTarget(lb: string): LbTarget | undefined {
  if (lb.startsWith('unix:')) return lb.length > 5 ? { kind: 'unix', path: lb.slice(5), text: lb } : undefined;
  const hp = parseHostPort(lb);
  return hp ? { kind: 'tcp', host: hp.host, port: hp.port, text: lb } : undefined;
}

/** null when something accepts a connection there, else why not (`connection refused`, `no answer within 1.5 s`) */
export function lbProblem(t: LbTarget, timeoutMs = 1500): Promise<string | null> {
  return new Promise((resolve) => {
    const s = t.kind === 'tcp' ? connect({ host: t.host, port: t.port }) : connect({ path: t.path });
    const done = (why: string | null) => {
      clearTimeout(timer);
      s.destroy();
      resolve(why);
    };
    const timer = setTimeout(() => done(`no answer within ${timeoutMs / 1000} s`), timeoutMs);
    s.once('connect', () => done(null));
    s.once('error', (e: NodeJS.ErrnoException) => done(words[e.code ?? ''] ?? e.message));
  });
}

const words: Record<string, string> = {
  ECONNREFUSED: 'connection refused (nothing listens there)',
  ENOENT: 'no such socket',
  EACCES: 'permission denied',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'no such host',
  ENOTSOCK: 'not a socket',
};
