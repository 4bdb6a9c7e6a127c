// Collects host keys without logging in: the key exchange runs, the verifier records the key and
// ends the connection, so no credential is ever sent. Like ssh-keyscan, with the verdict of our
// known_hosts beside each key. Jump hosts are not supported here (a hop would need a login).
import { Client } from 'ssh2';
import { errorMessage } from '../errors';
import { mapLimit } from '../limit';
import { knownHostsName, type SshEndpoint } from './endpoint';
import { fingerprint, keyTypeOf, type KnownHosts } from './knownHosts';

export interface ScannedKey {
  host: string;
  /** known_hosts name: host or [host]:port */
  name: string;
  key?: Buffer;
  type?: string;
  fingerprint?: string;
  status: 'known' | 'new' | 'changed' | 'revoked' | 'error';
  error?: string;
}

export function scanHostKey(ep: SshEndpoint, known: KnownHosts, timeoutMs = 10_000): Promise<ScannedKey> {
  const name = knownHostsName(ep.host, ep.port);
  if (ep.jump.length)
    return Promise.resolve({
      host: ep.label,
      name,
      status: 'error',
      error: 'hostkeys scan does not go through jump hosts; scan from a host that reaches it directly',
    });
  return new Promise((resolve) => {
    const c = new Client();
    let got: Buffer | undefined;
    const done = (r: ScannedKey) => {
      c.end();
      resolve(r);
    };
    c.on('error', (e) => {
      if (!got) return done({ host: ep.label, name, status: 'error', error: errorMessage(e) });
      const v = known.verdict(name, got);
      const status = v.kind === 'unknown' ? 'new' : v.kind === 'certificate' ? 'error' : v.kind;
      done({ host: ep.label, name, key: got, type: keyTypeOf(got), fingerprint: fingerprint(got), status });
    });
    c.on('ready', () => done({ host: ep.label, name, status: 'error', error: 'unexpected login' }));
    c.connect({
      host: ep.host,
      port: ep.port,
      username: ep.user,
      readyTimeout: timeoutMs,
      authHandler: [],
      // record the key and refuse it: the connection ends inside the key exchange
      hostVerifier: (key: Buffer) => {
        got = key;
        return false;
      },
    });
  });
}

export function scanHostKeys(
  eps: readonly SshEndpoint[],
  known: KnownHosts,
  opts: { concurrency?: number; timeoutMs?: number } = {},
): Promise<ScannedKey[]> {
  return mapLimit(eps, opts.concurrency ?? 32, (ep) => scanHostKey(ep, known, opts.timeoutMs));
}
