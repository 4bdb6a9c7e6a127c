// Typed client of the agent API: its routes, the leases this controller holds, the rollout records
// and history. It reaches the agent over TCP (TLS with the agent's pinned certificate, + bearer token),
// a local unix socket, or SSH stream-local forwarding to the agent's socket on the host; the request
// and its answer on the wire are transport.ts.
import { createReadStream, statSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import { UnreachableError } from '../errors';
import {
  installSpecHeader,
  type AgentInfo,
  type DebugVars,
  type InstallSpec,
  type PackageStatus,
} from '../protocol/agent';
import {
  actorHeader,
  forceHeader,
  historyAnswerSchema,
  leaseGrantSchema,
  leaseHeader,
  leaseHeldStatus,
  leaseViewSchema,
  rolloutRecordSchema,
  type Actor,
  type HistoryAnswer,
  type LeaseGrant,
  type LeaseRequest,
  type LeaseView,
  type RolloutEvents,
  type RolloutRecord,
} from '../protocol/agentRecords';
import { AgentTooOldError, checkAnswer, LeaseHeldError, LeaseLostError, MalformedAnswerError } from './records';
import type { SshEndpoint } from '../ssh/endpoint';
import type { SshPool } from '../ssh/pool';
import { checkPlainHttp, insecureHttpFromEnv, type AgentEndpoint } from './endpoint';
import { KnownAgents } from './knownAgents';
import { openSocketStream } from './socketStream';
import { connectPinned } from './tlsPin';
import { AgentError, sendRequest, type AgentRequest, type TransportOptions } from './transport';

export { AgentTrustError } from './tlsPin';
export { AgentError } from './transport';
export { AgentTooOldError, LeaseHeldError, LeaseLostError, MalformedAnswerError } from './records';

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
  /** who this controller is: sent with every change, recorded in the package's history */
  actor?: Actor;
}

/** how a change is made: under a lease this client holds (useLease), or forced with a reason */
export interface ChangeOptions {
  /** change a package another controller holds; the reason is recorded in its history */
  force?: string;
}

export class AgentClient {
  private remoteSocket?: Promise<string>;
  /** the leases this client holds, by package: its changes of those packages go under them */
  private readonly leaseIds = new Map<string, string>();

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
  async install(name: string, zipFile: string, spec: InstallSpec, o: ChangeOptions = {}): Promise<PackageStatus> {
    const size = statSync(zipFile).size;
    return this.json({
      method: 'PUT',
      path: `/api/v1/packages/${encodeURIComponent(name)}`,
      headers: {
        'content-type': 'application/zip',
        'content-length': size,
        [installSpecHeader]: JSON.stringify(spec),
        ...this.changeHeaders(name, o),
      },
      body: () => createReadStream(zipFile),
      timeoutMs: 30 * 60_000,
    });
  }
  async action(
    name: string,
    op: 'start' | 'stop' | 'restart' | 'rollback',
    o: ChangeOptions = {},
  ): Promise<PackageStatus> {
    return this.json({
      method: 'POST',
      path: `/api/v1/packages/${encodeURIComponent(name)}/${op}`,
      headers: this.changeHeaders(name, o),
    });
  }
  async remove(name: string, o: ChangeOptions = {}): Promise<void> {
    await this.call({
      method: 'DELETE',
      path: `/api/v1/packages/${encodeURIComponent(name)}`,
      headers: this.changeHeaders(name, o),
    });
  }

  /** changes of `name` from now on go under this lease (undefined: none) */
  useLease(name: string, leaseId: string | undefined): void {
    if (leaseId) this.leaseIds.set(name, leaseId);
    else this.leaseIds.delete(name);
  }
  /** who holds the package here, or null (AgentTooOldError: an agent from before leases) */
  async lease(name: string): Promise<LeaseView | null> {
    const r = await this.records({ method: 'GET', path: this.recordPath(name, 'lease') });
    return checkAnswer(
      this.endpoint.text,
      'lease',
      leaseViewSchema.nullable(),
      (r as { lease?: unknown } | null)?.lease,
    );
  }
  /** takes the package here for a rollout; LeaseHeldError naming the holder when another one has it */
  async takeLease(name: string, req: LeaseRequest): Promise<LeaseGrant> {
    const r = await this.records({
      method: 'POST',
      path: this.recordPath(name, 'lease'),
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(req),
    });
    return checkAnswer(this.endpoint.text, 'lease grant', leaseGrantSchema, r);
  }
  /** renews the lease; LeaseLostError when another rollout took it over or it was broken */
  async renewLease(name: string, leaseId: string): Promise<LeaseView> {
    const r = await this.records({
      method: 'PUT',
      path: this.recordPath(name, 'lease'),
      headers: { [leaseHeader]: leaseId },
    });
    return checkAnswer(this.endpoint.text, 'lease', leaseViewSchema, (r as { lease?: unknown } | null)?.lease);
  }
  /** gives the lease back, saying how the rollout ended (recorded in the history) */
  async releaseLease(name: string, leaseId: string, outcome: string): Promise<void> {
    await this.records({
      method: 'DELETE',
      path: `${this.recordPath(name, 'lease')}?outcome=${encodeURIComponent(outcome)}`,
      headers: { [leaseHeader]: leaseId },
    });
  }
  /** removes another controller's lease (recorded with the reason) */
  async breakLease(name: string, reason: string): Promise<void> {
    await this.records({
      method: 'DELETE',
      path: this.recordPath(name, 'lease'),
      headers: this.changeHeaders(name, { force: reason }),
    });
  }
  /** the package's latest rollout as this agent recorded it, or null */
  async rolloutRecord(name: string): Promise<RolloutRecord | null> {
    const r = await this.records({ method: 'GET', path: this.recordPath(name, 'rollout') });
    return checkAnswer(
      this.endpoint.text,
      'rollout record',
      rolloutRecordSchema.nullable(),
      (r as { record?: unknown } | null)?.record,
    );
  }
  /** records the holder's rollout events on this agent */
  async recordEvents(name: string, leaseId: string, body: RolloutEvents): Promise<void> {
    await this.records({
      method: 'POST',
      path: this.recordPath(name, 'rollout'),
      headers: { 'content-type': 'application/json', [leaseHeader]: leaseId },
      body: JSON.stringify(body),
    });
  }
  /** the package's history here, oldest first */
  async history(name: string, limit?: number): Promise<HistoryAnswer> {
    const r = await this.records({
      method: 'GET',
      path: `${this.recordPath(name, 'history')}${limit ? `?limit=${limit}` : ''}`,
    });
    return checkAnswer(this.endpoint.text, 'history', historyAnswerSchema, r);
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

  private async json<T>(r: AgentRequest): Promise<T> {
    return JSON.parse((await this.call(r)).toString('utf8')) as T;
  }

  private recordPath(name: string, what: 'lease' | 'rollout' | 'history'): string {
    return `/api/v1/packages/${encodeURIComponent(name)}/${what}`;
  }

  private changeHeaders(name: string, o: ChangeOptions): Record<string, string> {
    const lease = this.leaseIds.get(name);
    return {
      ...(this.opts.actor ? { [actorHeader]: JSON.stringify(this.opts.actor) } : {}),
      ...(lease ? { [leaseHeader]: lease } : {}),
      ...(o.force !== undefined ? { [forceHeader]: o.force.replace(/[^\x20-\x7e]/g, ' ').slice(0, 200) || '1' } : {}),
    };
  }

  /** a call to a route of leases, records or history, its refusals typed; the answer's JSON unchecked */
  private async records(r: AgentRequest): Promise<unknown> {
    r.headers = { ...(this.opts.actor ? { [actorHeader]: JSON.stringify(this.opts.actor) } : {}), ...r.headers };
    let body: Buffer;
    try {
      body = await this.call(r);
    } catch (e) {
      if (!(e instanceof AgentError)) throw e;
      if (e.status === 404 && /no such route/.test(e.message)) throw new AgentTooOldError(this.endpoint.text, e);
      if (e.status === leaseHeldStatus) throw new LeaseHeldError(this.endpoint.text, e.body);
      if (e.status === 409) throw new LeaseLostError(this.endpoint.text, e.body);
      throw e;
    }
    if (body.length === 0) return null;
    try {
      return JSON.parse(body.toString('utf8'));
    } catch {
      throw new MalformedAnswerError(this.endpoint.text, r.path, 'not JSON');
    }
  }

  private async call(r: AgentRequest): Promise<Buffer> {
    const ep = this.endpoint;
    if (ep.kind === 'ssh') {
      const socketPath = await this.sshSocketPath();
      return this.opts.pool!.withClient(this.opts.sshEndpoint!, async (client) => {
        let channel: Promise<void> | undefined;
        try {
          return await sendRequest(ep, r, this.transportOptions(), async () => {
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
      return sendRequest(ep, r, this.transportOptions(), () => connectPinned(ep, want, this.opts.timeoutMs ?? 60_000));
    }
    return sendRequest(ep, r, this.transportOptions());
  }

  private transportOptions(): TransportOptions {
    return { token: this.opts.token, timeoutMs: this.opts.timeoutMs };
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
}

/** resolves when `s` has closed, or after `ms` */
function closed(s: Duplex, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    t.unref();
    s.once('close', () => (clearTimeout(t), resolve()));
  });
}
