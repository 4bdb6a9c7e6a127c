// Decides, during the key exchange and before any credential is sent, whether a host key is
// trusted. Policies (design.md): `strict` refuses unknown hosts; `accept-new` pins unknown hosts
// and goes on; `ask` refuses them for now and collects them, so the front end can show one table
// of every new fingerprint and ask once. A changed or revoked key is always refused. A host
// certificate is trusted through a @cert-authority line (hostCertificate.ts), or refused with its
// reason; it is never pinned on first use.
import { advice } from '../advice';
import { HostKeyError } from '../errors';
import { knownHostsName } from './endpoint';
import { describeCaTrust, type CaTrust } from './hostCertificate';
import { fingerprint, keyTypeOf, type KnownHosts } from './knownHosts';

export type HostKeyPolicy = 'strict' | 'accept-new' | 'ask';

export interface NewHostKey {
  /** label of the endpoint that met it */
  label: string;
  /** known_hosts name: host or [host]:port */
  name: string;
  type: string;
  fingerprint: string;
  key: Buffer;
  /** a @cert-authority line covers this host, yet it showed a plain key: said in the dialog */
  certAuthority?: boolean;
}

export class HostKeyChecker {
  /** unknown keys met under `ask`, waiting for the user's decision (takePending hands them over) */
  private readonly pending = new Map<string, NewHostKey>();
  /** hosts trusted through a CA, by endpoint label and by known_hosts name (the last connection's) */
  private readonly viaCa = new Map<string, CaTrust>();

  constructor(
    readonly knownHosts: KnownHosts,
    readonly policy: HostKeyPolicy,
  ) {}

  /** returns null when the key is trusted, else the error to fail the connection with */
  check(label: string, host: string, port: number, key: Buffer, alias?: string): HostKeyError | null {
    const name = alias ?? knownHostsName(host, port);
    // ssh checks a host certificate's principals against the host name (or HostKeyAlias), no port
    const v = this.knownHosts.verdict(name, key, { principal: (alias ?? host).toLowerCase() });
    this.viaCa.delete(label);
    this.viaCa.delete(name);
    const got = {
      type: keyTypeOf(key),
      fingerprint: fingerprint(key),
      line: `${name} ${keyTypeOf(key)} ${key.toString('base64')}`,
    };
    switch (v.kind) {
      case 'known':
        if (v.ca) {
          this.viaCa.set(label, v.ca);
          this.viaCa.set(name, v.ca);
        }
        return null;
      case 'revoked':
        return new HostKeyError(
          label,
          got,
          [],
          'revoked',
          v.what
            ? `${v.what} is marked @revoked in ${this.knownHosts.file} line ${v.line.lineNo}; refusing to connect`
            : `host key ${got.fingerprint} is marked @revoked in ${this.knownHosts.file} line ${v.line.lineNo}; refusing to connect`,
        );
      case 'certificate':
        // `unknown` to callers (the host is not trusted), but never collected for a question
        return new HostKeyError(
          label,
          got,
          [],
          'unknown',
          `${v.problem}; renew the host's certificate (ssh-keygen -s CA -h -n NAME), or fix the @cert-authority line in ${this.knownHosts.file}`,
        );
      case 'changed': {
        const want = v.want.map((l) => `${l.keyType} ${fingerprint(l.key)}`);
        return new HostKeyError(
          label,
          got,
          want,
          'changed',
          `host key changed (was ${want.join(', ')}, now ${got.type} ${got.fingerprint}); ` +
            `this may be an attack; if the change is expected, remove the old key with: ssh-keygen -f ${this.knownHosts.file} -R '${name}'`,
        );
      }
      case 'unknown': {
        const ca = v.certAuthority
          ? `; a @cert-authority line covers ${name}, but the host showed a plain key, not a certificate`
          : '';
        if (this.policy === 'accept-new') {
          this.knownHosts.append([{ name, key }]);
          return null;
        }
        if (this.policy === 'ask')
          this.pending.set(name, {
            label,
            name,
            type: got.type,
            fingerprint: got.fingerprint,
            key,
            ...(v.certAuthority ? { certAuthority: true } : {}),
          });
        const fix = this.policy === 'ask' ? '' : `; ${advice().trustHostKey}`;
        return new HostKeyError(
          label,
          got,
          [],
          'unknown',
          `unknown host key ${got.type} ${got.fingerprint}${ca}${fix}`,
        );
      }
    }
  }

  /** how the host of `labelOrName` (endpoint label or known_hosts name) was trusted through a CA, if it was */
  trustedVia(labelOrName: string): CaTrust | undefined {
    return this.viaCa.get(labelOrName);
  }

  /** the same, in words (tooltips, dialogs), naming the known_hosts file */
  describeTrust(labelOrName: string): string | undefined {
    const t = this.viaCa.get(labelOrName);
    return t && describeCaTrust(t, this.knownHosts.file);
  }

  /** the unknown keys met since the last call, each handed over once (core/ssh/askOnce.ts asks about them) */
  takePending(): NewHostKey[] {
    const keys = [...this.pending.values()];
    this.pending.clear();
    return keys;
  }

  /** pins keys the user trusts in known_hosts */
  pin(keys: readonly NewHostKey[]): void {
    if (keys.length) this.knownHosts.append(keys.map((k) => ({ name: k.name, key: k.key })));
  }
}
