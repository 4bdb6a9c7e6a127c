// How one request reaches the agent and its answer comes back: HTTP/1.1 over TCP, a local unix
// socket, or a stream the caller opened (TLS with the pinned certificate, an SSH stream-local
// channel); the bearer token on TCP, a deadline of its own, error statuses as typed errors.
import { Agent, request, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { FleetError, UnreachableError } from '../errors';
import { formatHostPort } from '../hostPort';
import { leaseHeldStatus } from '../protocol/agentRecords';
import type { AgentEndpoint } from './endpoint';
import { LeaseHeldError } from './records';

/** the agent answered with an error status; `message` is its {error} */
export class AgentError extends FleetError {
  constructor(
    readonly endpoint: string,
    readonly status: number,
    message: string,
    /** the answer's JSON beside {error} (a refused change's lease), unchecked */
    readonly body?: unknown,
  ) {
    super(`agent ${endpoint}: ${message} (HTTP ${status})`);
  }
}

/** a request to the agent API; a function body is streamed (a package upload) */
export interface AgentRequest {
  method: string;
  path: string;
  headers?: Record<string, string | number>;
  body?: Buffer | string | (() => NodeJS.ReadableStream);
  timeoutMs?: number;
}

export interface TransportOptions {
  /** the bearer token, sent to http(s):// endpoints only */
  token?: string;
  /** the deadline of a request that names none (default 60 s) */
  timeoutMs?: number;
}

/**
 * One request to the agent at `ep`, its answer's body; an error status is an AgentError (a held
 * lease, LeaseHeldError), no answer within the deadline or no connection an UnreachableError.
 * `stream` opens the connection for endpoints that are not plain TCP or a local socket (TLS, SSH).
 */
export function sendRequest(
  ep: AgentEndpoint,
  r: AgentRequest,
  o: TransportOptions,
  stream?: () => Promise<Duplex>,
): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const headers: Record<string, string | number> = { ...r.headers };
    const tcp = ep.kind === 'http' || ep.kind === 'https';
    if (tcp && o.token) headers.authorization = `Bearer ${o.token}`;
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
              let json: unknown;
              try {
                json = JSON.parse(msg);
                msg = (json as { error?: string }).error ?? msg;
              } catch {
                // not JSON
              }
              reject(
                res.statusCode === leaseHeldStatus
                  ? new LeaseHeldError(ep.text, json)
                  : new AgentError(ep.text, res.statusCode ?? 500, String(msg).slice(0, 2000), json),
              );
            } else resolve(body);
          });
          res.on('error', reject);
        },
      );
      // our own deadline: an SSH channel is not a net.Socket and has no setTimeout
      const ms = r.timeoutMs ?? o.timeoutMs ?? 60_000;
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
