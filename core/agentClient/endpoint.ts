// Agent endpoints as users write them: http://host:port, unix:/path, ssh://user@host[:port][/socket].
import { UsageError } from '../errors';
import { unbracket } from '../hostPort';

export type AgentEndpoint =
  | { kind: 'http'; host: string; port: number; text: string }
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
      `agent endpoint ${JSON.stringify(text)}: expected http://HOST:PORT, ssh://user@host[:port] or unix:/path`,
    );
  }
  if (u.protocol === 'http:') {
    if (u.pathname !== '/' || u.search) throw new UsageError(`agent endpoint ${text}: give only http://HOST:PORT`);
    return { kind: 'http', host: unbracket(u.hostname), port: Number(u.port || 80), text };
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
  throw new UsageError(`agent endpoint ${text}: unsupported scheme ${u.protocol} (use http://, ssh:// or unix:)`);
}
