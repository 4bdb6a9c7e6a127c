// Decides, during the key exchange and before any credential is sent, whether a host key is
// trusted. Policies (design.md): `strict` refuses unknown hosts; `accept-new` pins unknown hosts
// and goes on; `ask` refuses them for now and collects them, so the front end can show one table
// of every new fingerprint and ask once. A changed or revoked key is always refused. A host
// certificate is trusted through a @cert-authority line (hostCertificate.ts), or refused with its
// reason; it is never pinned on first use.
//
// Per host, as ssh_config says (README, ssh_config): its UserKnownHostsFile and GlobalKnownHostsFile
// are the files its key is checked in (knownHostsFiles.ts; new keys pinned in the first user file),
// and its StrictHostKeyChecking sets its policy: yes is strict, ask and accept-new are themselves, and
// `no` is accept-new, because Fleet never takes a changed key (ssh, under `no`, logs into a host whose
// key changed with the key alone; Fleet would then hand it commands, files and secrets). Precedence:
// a policy the user chose (--host-key-policy, the fleet.hostKeyPolicy setting) is only made stricter
// by the config, never looser; Fleet's own default gives way to the config. A known_hosts file the
// user named (--known-hosts, fleet.knownHostsFile) replaces the config's UserKnownHostsFile, as ssh's
// -o does. A key Fleet cannot pin (UserKnownHostsFile none or /dev/null) is never trusted.
import { advice } from '../advice';
import { HostKeyError } from '../errors';
import { knownHostsName, type SshEndpoint } from './endpoint';
import { describeCaTrust, type CaTrust } from './hostCertificate';
import { fingerprint, keyTypeOf, KnownHosts } from './knownHosts';
import { KnownHostsFiles } from './knownHostsFiles';

export type HostKeyPolicy = 'strict' | 'accept-new' | 'ask';

/** what the checker reads of a hop: its names, and what its ssh_config says of host keys */
export type HostKeyHop = Pick<SshEndpoint, 'label' | 'host' | 'port' | 'hostKeyAlias'> &
  Partial<Pick<SshEndpoint, 'strictHostKeyChecking' | 'userKnownHostsFiles' | 'globalKnownHostsFiles'>>;

export interface HostKeyCheckerOptions {
  /** the user chose the policy (a flag, a setting): a host's config may make it stricter, not looser */
  policyGiven?: boolean;
  /** the user named the known_hosts file: it replaces a host's UserKnownHostsFile (as ssh's -o does) */
  knownHostsGiven?: boolean;
  /** the front end can ask about new keys (a terminal, a dialog); without, `ask` refuses them, as ssh does */
  canAsk?: boolean;
}

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
  /** the known_hosts file it is pinned in when trusted (the host's first UserKnownHostsFile) */
  file?: string;
}

/** StrictHostKeyChecking as Fleet applies it (`no` as accept-new: a changed key is never taken) */
const fromConfig = { yes: 'strict', ask: 'ask', 'accept-new': 'accept-new', no: 'accept-new' } as const;
const strictness: Record<HostKeyPolicy, number> = { 'accept-new': 0, ask: 1, strict: 2 };

export class HostKeyChecker {
  /** unknown keys met under `ask`, waiting for the user's decision (takePending hands them over) */
  private readonly pending = new Map<string, NewHostKey>();
  /** hosts trusted through a CA, by endpoint label and by known_hosts name (the last connection's) */
  private readonly viaCa = new Map<string, CaTrust>();
  /** each file read once per run, whichever hosts share it; and each host's set of files */
  private readonly byPath = new Map<string, KnownHosts>();
  private readonly sets = new Map<string, KnownHostsFiles>();

  constructor(
    readonly knownHosts: KnownHosts,
    /** the run's policy: the user's (opts.policyGiven) or Fleet's default */
    readonly policy: HostKeyPolicy,
    private readonly opts: HostKeyCheckerOptions = {},
  ) {
    this.byPath.set(knownHosts.file, knownHosts);
  }

  /** the policy for a hop, and what to tell a user whose unknown key it refuses (when not the usual advice) */
  policyFor(hop: HostKeyHop): { policy: HostKeyPolicy; fix?: string } {
    const said = hop.strictHostKeyChecking;
    const cfg = said && fromConfig[said];
    const byConfig = !!cfg && (!this.opts.policyGiven || strictness[cfg] > strictness[this.policy]);
    const policy = byConfig ? cfg : this.policy;
    const where = `its ssh_config sets StrictHostKeyChecking ${said}`;
    if (policy === 'ask' && this.opts.canAsk === false)
      return {
        policy: 'strict',
        fix: byConfig
          ? `${where} and there is no terminal to ask on: ${advice().pinHostKey}`
          : `there is no terminal to ask on; ${advice().trustHostKey}`,
      };
    if (policy === 'strict' && byConfig)
      return {
        policy,
        fix: `${where}, which Fleet's own policy setting does not loosen: ${advice().pinHostKey}, or change that line`,
      };
    return { policy };
  }

  /** the files a hop's key is checked in: its ssh_config's, or the run's known_hosts */
  filesFor(hop: Partial<HostKeyHop>): KnownHostsFiles {
    const user =
      this.opts.knownHostsGiven || hop.userKnownHostsFiles === undefined
        ? [this.knownHosts.file]
        : hop.userKnownHostsFiles;
    const global = hop.globalKnownHostsFiles ?? [];
    const key = JSON.stringify([user, global]);
    let set = this.sets.get(key);
    if (!set) {
      set = new KnownHostsFiles(
        user.map((f) => this.file(f)),
        global.map((f) => this.file(f)),
      );
      this.sets.set(key, set);
    }
    return set;
  }

  /** the known_hosts file new keys of a hop are pinned in (for the editor's replace-key flow), if any */
  knownHostsFor(hop: Partial<HostKeyHop>): KnownHosts | undefined {
    return this.filesFor(hop).pinFile;
  }

  private file(path: string): KnownHosts {
    let k = this.byPath.get(path);
    if (!k) {
      try {
        k = new KnownHosts(path);
      } catch {
        k = new KnownHosts(path, ''); // a file ssh cannot read (a directory, no permission) holds no key for it
      }
      this.byPath.set(path, k);
    }
    return k;
  }

  /** returns null when the key is trusted, else the error to fail the connection with */
  check(label: string, host: string, port: number, key: Buffer, alias?: string): HostKeyError | null {
    return this.checkHop({ label, host, port, hostKeyAlias: alias }, key);
  }

  /** the same, for a hop whose ssh_config may name its own files and policy */
  checkHop(hop: HostKeyHop, key: Buffer): HostKeyError | null {
    const { label, host, port, hostKeyAlias: alias } = hop;
    const name = alias ?? knownHostsName(host, port);
    const files = this.filesFor(hop);
    // ssh checks a host certificate's principals against the host name (or HostKeyAlias), no port
    const v = files.verdict(name, key, { principal: (alias ?? host).toLowerCase() });
    this.viaCa.delete(label);
    this.viaCa.delete(name);
    const got = {
      type: keyTypeOf(key),
      fingerprint: fingerprint(key),
      line: `${name} ${keyTypeOf(key)} ${key.toString('base64')}`,
    };
    const refuse = (kind: HostKeyError['kind'], why: string, want: string[] = []) =>
      new HostKeyError(label, got, want, kind, why);
    switch (v.kind) {
      case 'known':
        if (v.ca) {
          this.viaCa.set(label, v.ca);
          this.viaCa.set(name, v.ca);
        }
        return null;
      case 'revoked': {
        const at = `${v.line.file ?? files.describe()} line ${v.line.lineNo}`;
        return refuse(
          'revoked',
          `${v.what ?? `host key ${got.fingerprint}`} is marked @revoked in ${at}; refusing to connect`,
        );
      }
      case 'certificate':
        // `unknown` to callers (the host is not trusted), but never collected for a question
        return refuse(
          'unknown',
          `${v.problem}; renew the host's certificate (ssh-keygen -s CA -h -n NAME), or fix the @cert-authority line in ${files.describe()}`,
        );
      case 'changed': {
        const want = v.want.map((l) => `${l.keyType} ${fingerprint(l.key)}`);
        const remove = [...new Set(v.want.map((l) => l.file ?? this.knownHosts.file))]
          .map((f) => `ssh-keygen -f ${f} -R '${name}'`)
          .join(' and ');
        return refuse(
          'changed',
          `host key changed (was ${want.join(', ')}, now ${got.type} ${got.fingerprint}); ` +
            `this may be an attack; if the change is expected, remove the old key with: ${remove}`,
          want,
        );
      }
      case 'unknown': {
        const ca = v.certAuthority
          ? `; a @cert-authority line covers ${name}, but the host showed a plain key, not a certificate`
          : '';
        const unknown = `unknown host key ${got.type} ${got.fingerprint}${ca}`;
        const { policy, fix } = this.policyFor(hop);
        const noPin = policy === 'strict' ? null : files.whyNoPin();
        if (noPin)
          return refuse(
            'unknown',
            `${unknown}; ${noPin}, and Fleet trusts no key it cannot pin (ssh would connect without checking it): ` +
              `name a known_hosts file that can hold it (${advice().knownHostsFile})`,
          );
        const pinFile = files.pinFile!;
        if (policy === 'accept-new') {
          const failed = pinIn(pinFile, files, name, key);
          return failed === null ? null : refuse('unknown', `${unknown}; ${failed}`);
        }
        if (policy === 'ask')
          this.pending.set(`${pinFile.file}\0${name}`, {
            label,
            name,
            type: got.type,
            fingerprint: got.fingerprint,
            key,
            ...(v.certAuthority ? { certAuthority: true } : {}),
            file: pinFile.file,
          });
        return refuse('unknown', policy === 'ask' ? unknown : `${unknown}; ${fix ?? advice().trustHostKey}`);
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
    return t && describeCaTrust(t, t.line.file ?? this.knownHosts.file);
  }

  /** the unknown keys met since the last call, each handed over once (core/ssh/askOnce.ts asks about them) */
  takePending(): NewHostKey[] {
    const keys = [...this.pending.values()];
    this.pending.clear();
    return keys;
  }

  /** pins keys the user trusts, each in its host's known_hosts file */
  pin(keys: readonly NewHostKey[]): void {
    const byFile = new Map<string, NewHostKey[]>();
    for (const k of keys) {
      const f = k.file ?? this.knownHosts.file;
      byFile.set(f, [...(byFile.get(f) ?? []), k]);
    }
    for (const [f, ks] of byFile) this.file(f).append(ks.map((k) => ({ name: k.name, key: k.key })));
  }
}

/** pins `key` under `name` in `file` and reads it back; null when it holds, else why not */
function pinIn(file: KnownHosts, files: KnownHostsFiles, name: string, key: Buffer): string | null {
  try {
    file.append([{ name, key }]);
  } catch (e) {
    return `it cannot be pinned in ${file.file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}), and Fleet trusts no key it cannot pin`;
  }
  if (files.verdict(name, key).kind === 'known') return null;
  return `it was written to ${file.file} but is not there when read back, and Fleet trusts no key it cannot pin`;
}
