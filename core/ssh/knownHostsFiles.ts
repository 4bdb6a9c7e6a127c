// The known_hosts files one host's key is checked in, read as one, as ssh reads them
// (sshconnect.c check_host_key): its UserKnownHostsFile list, then its GlobalKnownHostsFile list; a
// key pinned in any of them is known, a @revoked line in any refuses it, a key of the same type in
// any of them makes another key "changed". New keys are pinned in the first UserKnownHostsFile only,
// as ssh pins them; with no user file (`UserKnownHostsFile none`), or one that cannot hold a key
// (/dev/null, a directory), nothing can be pinned.
import { statSync } from 'node:fs';
import { type CertCheck, type KnownHostLine, type KnownHosts, type Verdict, verdictIn } from './knownHosts';

export class KnownHostsFiles {
  constructor(
    /** UserKnownHostsFile: checked, and the first one pinned in */
    readonly user: readonly KnownHosts[],
    /** GlobalKnownHostsFile: checked only */
    readonly global: readonly KnownHosts[] = [],
  ) {}

  /** every file, in the order ssh reads them */
  get files(): readonly KnownHosts[] {
    return [...this.user, ...this.global];
  }

  /** the file new keys are pinned in (the first UserKnownHostsFile), if there is one */
  get pinFile(): KnownHosts | undefined {
    return this.user[0];
  }

  /** the files' names, for messages: `a`, or `a, b and c`, or `no known_hosts file` */
  describe(): string {
    const names = this.files.map((f) => f.file);
    if (names.length === 0) return 'no known_hosts file';
    return names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
  }

  /**
   * why no key can be pinned for this host (to say in the refusal), or null when the first user file
   * can hold one: a regular file, or one not made yet
   */
  whyNoPin(): string | null {
    const f = this.pinFile?.file;
    if (f === undefined) return 'UserKnownHostsFile is none, so there is no file to pin a key in';
    let isFile: boolean;
    try {
      isFile = statSync(f).isFile();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      return `UserKnownHostsFile ${f} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
    }
    return isFile ? null : `UserKnownHostsFile ${f} is not a regular file, so a key pinned there is kept nowhere`;
  }

  /** the lines of every file, in order */
  private entries(): KnownHostLine[] {
    return this.files.flatMap((f) => f.entries());
  }

  private linesFor(name: string): KnownHostLine[] {
    return this.files.flatMap((f) => f.linesFor(name));
  }

  /** what the files together say of `key` shown by the host named `name` (KnownHosts.verdict) */
  verdict(name: string, key: Buffer, cert?: CertCheck): Verdict {
    return verdictIn(this.entries(), this.linesFor(name), key, cert);
  }

  /** key types on file for `name` in any of the files, to offer those first in the key exchange */
  knownTypes(name: string): string[] {
    return [...new Set(this.files.flatMap((f) => f.knownTypes(name)))];
  }

  /** does a @cert-authority line in any of the files cover `name`? */
  hasCertAuthority(name: string): boolean {
    return this.files.some((f) => f.hasCertAuthority(name));
  }
}
