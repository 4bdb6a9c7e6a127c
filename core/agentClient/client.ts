// Typed client of the agent API over TCP (TLS with the agent's pinned certificate, + bearer token),
// a local unix socket, or SSH stream-local forwarding to the agent's socket on the host.
import { createReadStream, statSync } from 'node:fs';
import { Agent, request, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { FleetError, UnreachableError } from '../errors';
import {
  installSpecHeader,
  type AgentInfo,
  type DebugVars,
  type InstallSpec,
  type PackageStatus,
} from '../protocol/agent';
import type { SshEndpoint } from '../ssh/endpoint';
import type { SshPool } from '../ssh/pool';
import { checkPlainHttp, insecureHttpFromEnv, type AgentEndpoint } from './endpoint';
import { formatHostPort } from '../hostPort';
import { KnownAgents } from './knownAgents';
import { openSocketStream } from './socketStream';
import { connectPinned } from './tlsPin';

export { AgentTrustError } from './tlsPin';

/** the agent answered with an error status; `message` is its {error} */
export class AgentError extends FleetError {
  constructor(
    readonly endpoint: string,
    readonly status: number,
    message: string,
  ) {
    super(`agent ${endpoint}: ${message} (HTTP ${status})`);
  }
}

export interface AgentClientOptions {
  /** the bearer token of http(s):// endpoints: the full one, or the read-only one for metrics and status */
  token?: string;
  /** where https:// agents' certificates are pinned (default ~/.fleet/known_agents.json) */
  knownAgents?: KnownAgents;
  /** the fingerprint to expect instead of the pinned one (a caller that pins elsewhere) */
  fingerprint?: string;
  /** hosts the user allowed plain http to (default: FLEET_AGENT_INSECURE_HTTP); loopback always is */
  insecureHttp?: readonly string[];
  /** for ssh:// endpoints */
  pool?: SshPool;
  sshEndpoint?: SshEndpoint;
  timeoutMs?: number;
}

interface Req {
  method: string;
  path: string;
  headers?: Record<string, string | number>;
  body?: Buffer | string | (() => NodeJS.ReadableStream);
  timeoutMs?: number;
}

export class AgentClient {
  private remoteSocket?: Promise<string>;

  constructor(
    readonly endpoint: AgentEndpoint,
    private readonly opts: AgentClientOptions = {},
  ) {
    if (endpoint.kind === 'ssh' && !(opts.pool && opts.sshEndpoint))
      throw new Error('ssh:// agent endpoints need an SSH pool and endpoint');
    checkPlainHttp(endpoint, opts.insecureHttp ?? insecureHttpFromEnv());
  }

  async health(): Promise<string> {
    return (await this.call({ method: 'GET', path: '/healthz' })).toString('utf8');
  }
  /** which agent answers: version, build, node (404 from an agent older than this route) */
  async info(): Promise<AgentInfo> {
    return this.json({ method: 'GET', path: '/api/v1/agent' });
  }
  async list(): Promise<PackageStatus[]> {
    return this.json({ method: 'GET', path: '/api/v1/packages' });
  }
  async status(name: string): Promise<PackageStatus> {
    return this.json({ method: 'GET', path: `/api/v1/packages/${encodeURIComponent(name)}` });
  }
  async install(name: string, zipFile: string, spec: InstallSpec): Promise<PackageStatus> {
    const size = statSync(zipFile).size;
    return this.json({
      method: 'PUT',
      path: `/api/v1/packages/${encodeURIComponent(name)}`,
      headers: { 'content-type': 'application/zip', 'content-length': size, [installSpecHeader]: JSON.stringify(spec) },
      body: () => createReadStream(zipFile),
      timeoutMs: 30 * 60_000,
    });
  }
  async action(name: string, op: 'start' | 'stop' | 'restart' | 'rollback'): Promise<PackageStatus> {
    return this.json({ method: 'POST', path: `/api/v1/packages/${encodeURIComponent(name)}/${op}` });
  }
  async remove(name: string): Promise<void> {
    await this.call({ method: 'DELETE', path: `/api/v1/packages/${encodeURIComponent(name)}` });
  }
  async logs(name: string, tail = 100): Promise<string> {
    return (
      await this.call({ method: 'GET', path: `/api/v1/packages/${encodeURIComponent(name)}/logs?tail=${tail}` })
    ).toString('utf8');
  }
  async stats(): Promise<DebugVars> {
    return this.json({ method: 'GET', path: '/debug/vars' });
  }
  async metrics(): Promise<string> {
    return (await this.call({ method: 'GET', path: '/metrics' })).toString('utf8');
  }

  private async json<T>(r: Req): Promise<T> {
    return JSON.parse((await this.call(r)).toString('utf8')) as T;
  }

  private async call(r: Req): Promise<Buffer> {
    const ep = this.endpoint;
    if (ep.kind === 'ssh') {
      const socketPath = await this.sshSocketPath();
      return this.opts.pool!.withClient(this.opts.sshEndpoint!, async (client) => {
        let channel: Promise<void> | undefined;
        try {
          return await this.send(r, async () => {
            const s = await openSocketStream(client, socketPath, ep.text);
            channel = closed(s, 5000);
            return s;
          });
        } finally {
          // the channel is free only once the server has closed it too: Dropbear refuses a channel
          // opened in that moment ("Unable to exec" on the next request)
          await channel;
        }
      });
    }
    if (ep.kind === 'https') {
      const want =
        this.opts.fingerprint ?? (this.opts.knownAgents ?? new KnownAgents()).get(ep.host, ep.port)?.fingerprint;
      return this.send(r, () => connectPinned(ep, want, this.opts.timeoutMs ?? 60_000));
    }
    return this.send(r);
  }

  private sshSocketPath(): Promise<string> {
    const ep = this.endpoint;
    if (ep.kind !== 'ssh') throw new Error('not ssh');
    if (ep.socketPath) return Promise.resolve(ep.socketPath);
    this.remoteSocket ??= this.opts.pool!.exec(this.opts.sshEndpoint!, 'printf %s "$HOME"').then((r) => {
      if (r.exitCode !== 0 || !r.stdout.startsWith('/'))
        throw new UnreachableError(
          ep.text,
          "cannot learn the SSH user's home directory to find the agent socket; give it as ssh://user@host/path/agent.sock",
        );
      return `${r.stdout}/.fleet-agent/agent.sock`;
    });
    return this.remoteSocket;
  }

  private send(r: Req, stream?: () => Promise<Duplex>): Promise<Buffer> {
    const ep = this.endpoint;
    return new Promise<Buffer>((resolve, reject) => {
      const headers: Record<string, string | number> = { ...r.headers };
      const tcp = ep.kind === 'http' || ep.kind === 'https';
      if (tcp && this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
      headers.host = tcp ? formatHostPort(ep.host, ep.port) : 'localhost';
      const go = (sock?: Duplex) => {
        const req = request(
          {
            method: r.method,
            path: r.path,
            headers,
            ...(ep.kind === 'http'
              ? { host: ep.host, port: ep.port }
              : ep.kind === 'unix'
                ? { socketPath: ep.path }
                : {}),
            // always an explicit agent: hosts like VS Code's extension host patch the default one to go
            // through a proxy, and an agent is reached directly (or through our own SSH stream)
            agent: sock ? new StreamAgent(sock) : new Agent({ keepAlive: false }),
          },
          (res: IncomingMessage) => {
            const parts: Buffer[] = [];
            res.on('data', (b: Buffer) => parts.push(b));
            res.on('end', () => {
              const body = Buffer.concat(parts);
              if ((res.statusCode ?? 500) >= 400) {
                let msg = body.toString('utf8');
                try {
                  msg = (JSON.parse(msg) as { error?: string }).error ?? msg;
                } catch {
                  // not JSON
                }
                reject(new AgentError(ep.text, res.statusCode ?? 500, msg));
              } else resolve(body);
            });
            res.on('error', reject);
          },
        );
        // our own deadline: an SSH channel is not a net.Socket and has no setTimeout
        const ms = r.timeoutMs ?? this.opts.timeoutMs ?? 60_000;
        const timer = setTimeout(
          () => req.destroy(new UnreachableError(ep.text, `agent did not answer within ${Math.round(ms / 1000)} s`)),
          ms,
        );
        req.on('close', () => clearTimeout(timer));
        req.on('error', (e: NodeJS.ErrnoException) =>
          reject(
            e instanceof FleetError
              ? e
              : new UnreachableError(ep.text, `cannot reach the agent: ${e.code ?? e.message}`, { cause: e }),
          ),
        );
        if (typeof r.body === 'function') r.body().pipe(req);
        else req.end(r.body);
      };
      if (stream) stream().then(go, reject);
      else go();
    });
  }
}

/** resolves when `s` has closed, or after `ms` */
function closed(s: Duplex, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    t.unref();
    s.once('close', () => (clearTimeout(t), resolve()));
  });
}

/** an http.Agent whose one connection is a stream we opened (an SSH stream-local channel) */
class StreamAgent extends Agent {
  constructor(private readonly sock: Duplex) {
    super({ keepAlive: false });
  }
  override createConnection(): Duplex {
    // http calls these socket methods; an SSH channel has none of them
    const s = this.sock as Duplex & Record<string, unknown>;
    for (const m of ['setTimeout', 'setNoDelay', 'setKeepAlive', 'ref', 'unref'])
      if (typeof s[m] !== 'function') s[m] = () => s;
    return this.sock;
  }
}
