// Opens one authenticated ssh2 connection to an endpoint, through its jump hosts, with the host
// key checked at every hop before any credential is sent (each hop in its own known_hosts files,
// under its own policy: hostKeyPolicy.ts). Failures become typed errors; a connection dropped
// before authentication (sshd's MaxStartups) is marked retryable, and one that was never made
// (refused, unreachable, timed out connecting) is told apart (failedToConnect) for ConnectionAttempts.
import { advice } from '../advice';
import type { Duplex } from 'node:stream';
import { Client, type AnyAuthMethod, type ClientChannel, type ParsedKey } from 'ssh2';
import { AuthError, FleetError, TimeoutError, UnreachableError } from '../errors';
import type { AuthEndpoint, KeyStore } from './auth';
import { certificateAdvice } from './certAuth';
import { endpointAddress, endpointKeyName, type SshEndpoint } from './endpoint';
import type { HostKeyChecker } from './hostKeyPolicy';
import { startProxyCommand, type ProxyProcess } from './proxyCommand';
import { ignoreHostKeyAnnouncements } from './hostKeysProve';
import { signPublicKeyFirst } from './signFirst';
import { certHostKeyAlgorithms } from './ssh2Certs';

export interface ConnectOptions {
  hostKeys: HostKeyChecker;
  keys: KeyStore;
  /** deadline for TCP connect + handshake + auth of each hop (an endpoint's ConnectTimeout wins) */
  readyTimeoutMs?: number;
  /** where a ProxyCommand's stderr goes */
  log?: (line: string) => void;
  keepaliveIntervalMs?: number;
  /** keepalives left unanswered before the connection counts as dead (an endpoint's ServerAliveCountMax wins) */
  keepaliveCountMax?: number;
  signal?: AbortSignal;
}

/** host key algorithms ssh2 offers, reordered so types already pinned for the host come first */
const defaultHostKeyAlgos = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

/**
 * Pinned types first; host certificates (first of all, as ssh prefers them) only when a
 * @cert-authority line covers the host, so a host without one never shows a certificate.
 */
export function hostKeyOrder(known: string[], certAuthority = false): string[] {
  const pref = known.flatMap((t) => (t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t]));
  return [
    ...(certAuthority ? certHostKeyAlgorithms : []),
    ...new Set([...pref.filter((t) => defaultHostKeyAlgos.includes(t)), ...defaultHostKeyAlgos]),
  ];
}

/** errors of a TCP connection to the first hop that was never made: what ssh's ConnectionAttempts retries */
const neverConnected = new WeakSet<object>();

/**
 * Did the connection fail before its TCP connection was made (refused, no route, timed out
 * connecting)? ssh retries those, one a second, ConnectionAttempts times; not a connection the server
 * accepted and then dropped, nor one through a ProxyCommand or a jump host.
 */
export function failedToConnect(err: unknown): boolean {
  return typeof err === 'object' && err !== null && neverConnected.has(err);
}

/**
 * a failure to make the TCP connection (a name that does not resolve is not: ssh resolves it once, before its attempts)
 */
function neverMade(err: unknown): boolean {
  if (err instanceof TimeoutError) return true;
  const code = (err as { cause?: { code?: string } }).cause?.code;
  return err instanceof UnreachableError && code !== 'ENOTFOUND' && code !== 'EAI_AGAIN';
}

export async function connect(ep: SshEndpoint, opts: ConnectOptions): Promise<Client> {
  let via: Client | undefined;
  const hops = [...ep.jump, { ...ep, jump: [] }];
  try {
    for (let i = 0; i < hops.length; i++) {
      const hop = hops[i];
      let sock: Duplex | undefined;
      let proxy: ProxyProcess | undefined;
      if (via) {
        sock = await forwardOut(via, hop, ep.label);
      } else if (hop.proxyCommand) {
        proxy = startProxyCommand(hop.proxyCommand, opts.log);
        sock = proxy.sock;
      }
      let c: Client;
      try {
        c = await connectOne(hop, ep.label, opts, i === hops.length - 1 ? 'target' : 'jump', sock);
      } catch (e) {
        proxy?.kill();
        if (proxy && e instanceof UnreachableError && proxy.stderrTail()) {
          throw new UnreachableError(
            ep.label,
            `${e.message.replace(/^host [^:]+: /, '')}; ProxyCommand said: ${proxy.stderrTail().split('\n').slice(-3).join(' / ')}`,
            { cause: e },
          );
        }
        throw e;
      }
      // the proxy command lives as long as the connection over it
      if (proxy) c.once('close', () => proxy!.kill());
      if (via) {
        // closing the last client must close the hops beneath it
        const below = via;
        c.once('close', () => below.end());
      }
      via = c;
    }
    return via!;
  } catch (e) {
    via?.end();
    throw e;
  }
}

function forwardOut(via: Client, hop: SshEndpoint, label: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    via.forwardOut('127.0.0.1', 0, hop.host, hop.port, (err, stream) => {
      if (err)
        reject(
          new UnreachableError(
            label,
            `jump host cannot reach ${hop.host}:${hop.port}: ${err.message} (the jump host needs AllowTcpForwarding)`,
            { cause: err },
          ),
        );
      else resolve(stream);
    });
  });
}

async function connectOne(
  hop: SshEndpoint,
  label: string,
  opts: ConnectOptions,
  role: 'target' | 'jump',
  sock?: Duplex,
): Promise<Client> {
  const methods = await opts.keys.methods(hop);
  const auth = opts.keys.handler(hop.user, hop.host, methods, role);
  const where = label === hop.label ? label : `${label} (jump host ${hop.label})`;
  const name = endpointKeyName(hop);
  const knownHosts = opts.hostKeys.filesFor(hop);
  const readyTimeout = hop.connectTimeoutMs ?? opts.readyTimeoutMs ?? 20_000;
  return new Promise<Client>((resolve, reject) => {
    const c = new Client();
    let keyError: FleetError | null = null;
    let settled = false;
    let tcpUp = !!sock;
    c.once('connect', () => (tcpUp = true));
    const finish = (err: unknown, ok?: Client) => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      if (err) {
        c.end();
        if (!tcpUp && neverMade(err)) neverConnected.add(err as object);
        reject(err);
      } else resolve(ok!);
    };
    const onAbort = () => finish(opts.signal?.reason ?? new Error('aborted'));
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    c.once('ready', () => finish(null, c));
    c.on('error', (err: Error & { level?: string; code?: string }) => {
      if (settled) return;
      const tried = auth.tried().map((t) => (t === 'publickey' ? 'identity files' : t === 'agent' ? 'ssh-agent' : t));
      if (keyError || err.level !== 'client-authentication')
        return finish(keyError ?? classify(where, hop, err, readyTimeout, tried));
      // what is wrong with each certificate (expired, principals, no key), read before answering
      certificateNotes(opts.keys, hop).then((notes) => finish(classify(where, hop, err, readyTimeout, tried, notes)));
    });
    c.once('close', () =>
      finish(
        keyError ??
          new UnreachableError(where, 'connection closed before authentication finished', { retryable: true }),
      ),
    );
    c.connect({
      host: sock ? undefined : hop.host,
      port: sock ? undefined : hop.port,
      sock,
      username: hop.user,
      readyTimeout,
      keepaliveInterval: hop.keepaliveMs ?? opts.keepaliveIntervalMs ?? 15_000,
      // as ssh: that many keepalives unanswered, then the connection is dead (0: at the first interval)
      keepaliveCountMax: hop.keepaliveCountMax ?? opts.keepaliveCountMax ?? 3,
      algorithms: {
        serverHostKey: hostKeyOrder(knownHosts.knownTypes(name), knownHosts.hasCertAuthority(name)) as never,
      },
      // Checked during the key exchange: returning false ends the connection before auth.
      hostVerifier: (key: Buffer) => {
        keyError = opts.hostKeys.checkHop(hop, key);
        return keyError === null;
      },
      authHandler: auth.handler,
    });
    // from the first byte (Node applies it once the socket connects): the handshake is small packets
    // sent back to back (NEWKEYS then SERVICE_REQUEST), and with Nagle on the second waits for the
    // server's delayed ACK of the first, ~40 ms per fresh connection
    c.setNoDelay(true);
    signPublicKeyFirst(c, identityKeys(methods));
    ignoreHostKeyAnnouncements(c);
  });
}

/** the parsed private keys of the identity files among `methods` (ssh-agent keys are not) */
function identityKeys(methods: readonly AnyAuthMethod[]): Set<ParsedKey> {
  const keys = new Set<ParsedKey>();
  for (const m of methods)
    if (m.type === 'publickey' && typeof m.key === 'object' && !Buffer.isBuffer(m.key)) keys.add(m.key);
  return keys;
}

/** the certificate advice for a failed login (empty when there were no certificates) */
async function certificateNotes(keys: KeyStore, hop: SshEndpoint): Promise<string[]> {
  try {
    return certificateAdvice(await keys.certificates(hop as AuthEndpoint), hop.user);
  } catch {
    return [];
  }
}

function classify(
  where: string,
  hop: SshEndpoint,
  err: Error & { level?: string; code?: string },
  readyTimeout: number,
  tried: string[],
  certNotes: string[] = [],
): FleetError {
  const code = err.code ?? '';
  if (err.level === 'client-authentication') {
    const certs = certNotes.length ? `; ${certNotes.join('; ')}` : '';
    return new AuthError(
      where,
      `authentication failed for ${endpointAddress(hop)} (tried: ${tried.join(', ') || 'nothing: no ssh-agent, no identity file found'})${certs}; ${advice().fixAuth}`,
      { cause: err },
    );
  }
  if (err.level === 'client-timeout' || /timed out/i.test(err.message))
    return new TimeoutError(where, 'SSH handshake', readyTimeout);
  if (['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL'].includes(code)) {
    return new UnreachableError(where, `cannot connect to ${hop.host}:${hop.port} (${code})`, { cause: err });
  }
  // reset or closed before auth: what sshd does to connections beyond MaxStartups
  const retryable =
    code === 'ECONNRESET' || code === 'EPIPE' || /lost before handshake|closed|reset/i.test(err.message);
  return new UnreachableError(where, `${hop.host}:${hop.port}: ${err.message}`, { cause: err, retryable });
}
