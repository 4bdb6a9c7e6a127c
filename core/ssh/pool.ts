// A pool of SSH connections, one per endpoint, shared by every command of a run (and by the
// extension's refreshes). Bounds: channels per connection stay under sshd's MaxSessions (10);
// handshakes in flight are capped overall and per server address (sshd's MaxStartups 10:30:100
// drops unauthenticated connections beyond 10); dropped handshakes are retried with jitter, and a
// connection that could not be made at all is tried again as ssh's ConnectionAttempts says (open()).
// Idle connections close after idleMs.
import type { Client } from 'ssh2';
import { FleetError } from '../errors';
import { Semaphore } from '../limit';
import type { KeyStore } from './auth';
import { connect, failedToConnect } from './connect';
import { endpointAddress, type SshEndpoint } from './endpoint';
import { execCommand, type ExecOptions, type ExecResult } from './exec';
import type { HostKeyChecker } from './hostKeyPolicy';
import { execKept } from './shellSession';
import { sleep } from '../sleep';

export interface PoolOptions {
  hostKeys: HostKeyChecker;
  keys: KeyStore;
  /** debug lines: a ProxyCommand's stderr */
  log?: (line: string) => void;
  /** SSH handshakes in flight across all hosts (default 32) */
  maxHandshakes?: number;
  /** handshakes in flight to one server address (default 8, under MaxStartups' 10) */
  maxHandshakesPerServer?: number;
  /** channels open at once on one connection (default 8, under MaxSessions' 10: one spare for kills) */
  channelsPerConnection?: number;
  /** close a connection unused for this long (default 60 s) */
  idleMs?: number;
  /** attempts for a handshake the server dropped before auth (default 4; see open() for ConnectionAttempts) */
  connectAttempts?: number;
  readyTimeoutMs?: number;
  /**
   * keep a shell running on each connection from its second command and run commands in it
   * (shellSession.ts: a subshell instead of a new SSH session per command), for pools that ask the
   * same hosts again and again (the Fleet view); default off: one exec per command
   */
  keepShell?: boolean;
}

interface Entry {
  client: Promise<Client>;
  channels: Semaphore;
  users: number;
  idle?: NodeJS.Timeout;
}

export class SshPool {
  private readonly entries = new Map<string, Entry>();
  private readonly perServer = new Map<string, Semaphore>();
  readonly handshakes: Semaphore;
  /** counters for tests and benchmarks */
  readonly stats = { connects: 0, reuses: 0, retries: 0 };

  constructor(private readonly opts: PoolOptions) {
    this.handshakes = new Semaphore(opts.maxHandshakes ?? 32);
  }

  /** runs `command` on the endpoint over a pooled connection */
  async exec(ep: SshEndpoint, command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    return this.withClient(
      ep,
      (c) => (this.opts.keepShell ? execKept : execCommand)(c, command, { label: ep.label, ...opts }),
      opts.signal,
      opts.timeoutMs,
    );
  }

  /** lends the endpoint's connection to fn, holding one of its channel slots meanwhile */
  async withClient<T>(
    ep: SshEndpoint,
    fn: (c: Client) => Promise<T>,
    signal?: AbortSignal,
    readyTimeoutMs?: number,
  ): Promise<T> {
    const key = poolKey(ep);
    let e = this.entries.get(key);
    if (e) this.stats.reuses++;
    else {
      e = {
        client: this.open(ep, signal, readyTimeoutMs),
        channels: new Semaphore(this.opts.channelsPerConnection ?? 8),
        users: 0,
      };
      this.entries.set(key, e);
      const entry = e;
      entry.client.then(
        (c) => c.once('close', () => this.entries.get(key) === entry && this.entries.delete(key)),
        () => this.entries.get(key) === entry && this.entries.delete(key),
      );
    }
    e.users++;
    if (e.idle) clearTimeout(e.idle);
    try {
      const client = await e.client;
      return await e.channels.run(() => fn(client), signal);
    } finally {
      e.users--;
      if (e.users === 0 && this.entries.get(key) === e) {
        const entry = e;
        entry.idle = setTimeout(() => this.drop(key, entry), this.opts.idleMs ?? 60_000);
        entry.idle.unref();
      }
    }
  }

  private async open(ep: SshEndpoint, signal?: AbortSignal, readyTimeoutMs?: number): Promise<Client> {
    const first = ep.jump[0] ?? ep;
    const server = `${first.host}:${first.port}`;
    let perServer = this.perServer.get(server);
    if (!perServer) this.perServer.set(server, (perServer = new Semaphore(this.opts.maxHandshakesPerServer ?? 8)));
    // Two kinds of failure, each with its own count, in one loop:
    // - the TCP connection to the first hop was never made (refused, no route, timed out connecting):
    //   tried ConnectionAttempts times in all (the first hop's ssh_config; default 1), one second apart,
    //   as ssh tries (ssh_connect_direct). Not through a ProxyCommand, where ssh does not retry either;
    // - the server accepted the connection, then dropped it before authentication (sshd's MaxStartups,
    //   which a fan-out meets and one ssh rarely does): retried up to connectAttempts in all, after a
    //   jittered, doubling pause, so many hosts' retries do not arrive together. ssh gives up on these
    //   at once; ConnectionAttempts does not multiply them.
    // A host costs at most ConnectionAttempts + connectAttempts - 1 attempts; a run stops waiting when
    // its signal aborts. Every other failure (host key, authentication) is final at once.
    const connects = first.proxyCommand ? 1 : (first.connectionAttempts ?? 1);
    const drops = this.opts.connectAttempts ?? 4;
    for (let failedConnects = 0, dropped = 0; ;) {
      try {
        return await perServer.run(
          () =>
            this.handshakes.run(() => {
              this.stats.connects++;
              return connect(ep, {
                hostKeys: this.opts.hostKeys,
                keys: this.opts.keys,
                readyTimeoutMs: readyTimeoutMs ?? this.opts.readyTimeoutMs,
                log: this.opts.log,
                signal,
              });
            }, signal),
          signal,
        );
      } catch (err) {
        if (signal?.aborted) throw err;
        if (failedToConnect(err)) {
          if (++failedConnects >= connects) throw err;
          this.stats.retries++;
          await sleep(1000, signal);
        } else {
          if (!(err instanceof FleetError && err.retryable) || ++dropped >= drops) throw err;
          this.stats.retries++;
          await sleep(Math.random() * 250 * 2 ** dropped, signal);
        }
      }
    }
  }

  private drop(key: string, e: Entry): void {
    if (this.entries.get(key) !== e || e.users > 0) return;
    this.entries.delete(key);
    e.client.then(
      (c) => c.end(),
      () => undefined,
    );
  }

  /** open connections (for tests and the extension's status) */
  get size(): number {
    return this.entries.size;
  }

  /** closes every connection */
  close(): void {
    for (const [key, e] of this.entries) {
      if (e.idle) clearTimeout(e.idle);
      this.entries.delete(key);
      e.client.then(
        (c) => c.end(),
        () => undefined,
      );
    }
  }
}

/**
 * Endpoints that share a connection: the same hops, proxy and keys, and the same host-key and agent
 * settings at every hop (two names of one host whose configs trust differently never share one)
 */
function poolKey(ep: SshEndpoint): string {
  return [
    [...ep.jump, ep].map(endpointAddress).join(' via '),
    ep.proxyCommand ?? '',
    [...ep.identityFiles, ...(ep.optionalIdentityFiles ?? [])].join(','),
    JSON.stringify(
      [...ep.jump, ep].map((h) => [
        h.hostKeyAlias,
        h.strictHostKeyChecking,
        h.userKnownHostsFiles,
        h.globalKnownHostsFiles,
        h.identityAgent,
        h.keepaliveCountMax,
      ]),
    ),
  ].join(' ');
}
