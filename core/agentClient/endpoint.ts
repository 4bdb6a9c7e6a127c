// Agent endpoints as users write them: https://host:port (TLS, the certificate pinned), http://host:port
// (loopback, or an old agent the user named with --insecure-http), unix:/path, ssh://user@host[:port][/socket].
import { advice } from '../advice';
import { isIP } from 'node:net';
import { UsageError } from '../errors';
import { unbracket } from '../hostPort';

export type AgentEndpoint =
  | { kind: 'http' | 'https'; host: string; port: number; text: string }
  | { kind: 'unix'; path: string; text: string }
  | { kind: 'ssh'; target: string; socketPath?: string; text: string };

export function parseAgentEndpoint(text: string): AgentEndpoint {
  if (text.startsWith('unix:')) {
    const path = text.slice('unix:'.length).replace(/^\/\//, '');
    if (!path.startsWith('/')) throw new UsageError(`agent endpoint ${text}: expected unix:/absolute/path/agent.sock`);
    return { kind: 'unix', path, text };
  }
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new UsageError(
      `agent endpoint ${JSON.stringify(text)}: expected https://HOST:PORT, ssh://user@host[:port] or unix:/path`,
    );
  }
  if (u.protocol === 'http:' || u.protocol === 'https:') {
    const kind = u.protocol === 'http:' ? 'http' : 'https';
    if (u.pathname !== '/' || u.search || u.hash || u.username || u.password)
      throw new UsageError(`agent endpoint ${text}: give only ${kind}://HOST:PORT`);
    return { kind, host: unbracket(u.hostname), port: Number(u.port || (kind === 'http' ? 80 : 443)), text };
  }
  if (u.protocol === 'ssh:') {
    const user = u.username ? `${decodeURIComponent(u.username)}@` : '';
    const port = u.port ? `:${u.port}` : '';
    return {
      kind: 'ssh',
      target: `${user}${u.hostname}${port}`,
      socketPath: u.pathname && u.pathname !== '/' ? decodeURIComponent(u.pathname) : undefined,
      text,
    };
  }
  throw new UsageError(`agent endpoint ${text}: unsupported scheme ${u.protocol} (use https://, ssh:// or unix:)`);
}

/** a host on this machine: `localhost`, 127.0.0.0/8, ::1 (plain http to it stays on this machine) */
export function isLoopbackHost(host: string): boolean {
  const h = unbracket(host)
    .toLowerCase()
    .replace(/^::ffff:/, '');
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/**
 * Plain http to an agent elsewhere sends its token in clear: refused unless the user named the host
 * (`--insecure-http HOST`, or FLEET_AGENT_INSECURE_HTTP=HOST,HOST in the environment).
 */
export function checkPlainHttp(ep: AgentEndpoint, allowed: readonly string[]): void {
  if (ep.kind !== 'http' || isLoopbackHost(ep.host)) return;
  if (allowed.some((h) => unbracket(h).toLowerCase() === ep.host.toLowerCase())) return;
  throw new UsageError(
    `agent ${ep.text}: plain http to an agent on another machine would send its token in clear; use https://${ep.text.slice('http://'.length)} (an agent of this Fleet speaks TLS there; ${advice().agentListen()} pins its certificate), or for an old agent on a network you trust, name it: ${advice().insecureHttp(ep.host)}`,
  );
}

/** the hosts FLEET_AGENT_INSECURE_HTTP names (comma- or space-separated) */
export function insecureHttpFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.FLEET_AGENT_INSECURE_HTTP ?? '').split(/[\s,]+/).filter(Boolean);
}
