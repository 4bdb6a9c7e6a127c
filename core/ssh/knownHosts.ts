// OpenSSH known_hosts, hand-written (no maintained npm parser exists). Understands plain and
// hashed (`|1|salt|hash`) host patterns, `[host]:port`, wildcards and negation, `@revoked` and
// `@cert-authority` markers. A line whose key does not parse (bad base64, a blob of another type
// than the line names, a truncated key) is ignored, as ssh ignores it: it pins nothing. Host
// certificates are checked against the @cert-authority lines in hostCertificate.ts.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { appendFileSync, closeSync, mkdirSync, openSync, readFileSync, readSync, fstatSync } from 'node:fs';
import { dirname } from 'node:path';
import { certificateVerdict, type CaTrust } from './hostCertificate';
import { certSuffix } from './sshCert';
import { isStrictBase64, parsePublicKeyBlob, plainKeyTypes, SshReader } from './sshKeyBlob';

export interface KnownHostLine {
  lineNo: number;
  marker: '' | '@revoked' | '@cert-authority';
  patterns: string; // as written: comma list, or one hashed entry
  keyType: string;
  key: Buffer;
  /** the file it was read from (a host's key may be checked in several, knownHostsFiles.ts) */
  file?: string;
}

/** a line as ssh-keygen -F lists it: its key type's name is known, its key may still be broken */
interface ParsedLine extends KnownHostLine {
  /** ssh would not read its key (bad base64, another type, truncated): it pins nothing */
  broken: boolean;
}

export type Verdict =
  /** ca: the host showed a certificate a @cert-authority line vouches for */
  | { kind: 'known'; ca?: CaTrust }
  | { kind: 'unknown'; otherTypes: string[]; certAuthority: boolean }
  | { kind: 'changed'; want: KnownHostLine[] }
  | { kind: 'revoked'; line: KnownHostLine; what?: string }
  /** the host showed a certificate that does not make it trusted, and its key is not pinned either */
  | { kind: 'certificate'; problem: string };

/** what a certificate is checked against: the name ssh checks principals with, and the time */
export interface CertCheck {
  /** the host name (HostName or HostKeyAlias, lower case, no port) */
  principal: string;
  now?: Date;
}

export function fingerprint(key: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(key).digest('base64').replace(/=+$/, '');
}

/** the key type named inside an SSH public key blob (its first string) */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return 'unknown';
  const n = key.readUInt32BE(0);
  return n > 0 && n < 64 && key.length >= 4 + n ? key.subarray(4, 4 + n).toString('latin1') : 'unknown';
}

/** the lines ssh reads (each key parsed strictly); `all` also keeps the broken ones ssh-keygen -F lists */
export function parseKnownHosts(text: string): KnownHostLine[] {
  return parseLines(text).filter((l) => !l.broken);
}

function parseLines(text: string, file?: string): ParsedLine[] {
  const out: ParsedLine[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const f = line.split(/\s+/);
    let marker: KnownHostLine['marker'] = '';
    if (f[0] === '@revoked' || f[0] === '@cert-authority') marker = f.shift() as KnownHostLine['marker'];
    else if (f[0].startsWith('@')) return; // unknown marker: ignored, as OpenSSH does
    if (f.length < 3) return;
    const type = typeName(f[1]);
    if (!type) return; // a type ssh does not know: not even ssh-keygen -F lists it
    // ssh itself reads a key only under its own type name (checked against ssh: a short name is ignored)
    const key = type === f[1] ? lineKey(type, f[2], marker) : null;
    out.push({
      lineNo: i + 1,
      marker,
      patterns: f[0],
      keyType: key ? keyTypeOf(key) : type,
      key: key ?? Buffer.alloc(0),
      broken: !key,
      ...(file === undefined ? {} : { file }),
    });
  });
  return out;
}

/** key types ssh knows but Fleet cannot parse: such a line still pins (its blob names its type) */
const otherKeyTypes = ['ssh-dss', 'sk-ssh-ed25519@openssh.com', 'sk-ecdsa-sha2-nistp256@openssh.com'];

/** names ssh-keygen -F also lists a line under: signature names exactly, short names in any case */
const signatureNames: Record<string, string> = { 'rsa-sha2-256': 'ssh-rsa', 'rsa-sha2-512': 'ssh-rsa' };
const shortNames: Record<string, string> = { rsa: 'ssh-rsa', ed25519: 'ssh-ed25519' };

/** the key type a line's type field names, or null for a name ssh does not know */
function typeName(named: string): string | null {
  const type = signatureNames[named] ?? shortNames[named.toLowerCase()] ?? named;
  return plainKeyTypes.includes(type) || otherKeyTypes.includes(type) || type.endsWith(certSuffix) ? type : null;
}

/** the key of a line, or null when ssh would not read it (sshkey_read: the blob must be a key of the named type) */
function lineKey(type: string, base64: string, marker: KnownHostLine['marker']): Buffer | null {
  if (!isStrictBase64(base64)) return null;
  const key = Buffer.from(base64, 'base64');
  try {
    if (plainKeyTypes.includes(type)) return parsePublicKeyBlob(key).type === type ? key : null;
    // a certificate on a plain or @revoked line: only its bytes are compared
    if (marker !== '@cert-authority' && (otherKeyTypes.includes(type) || type.endsWith(certSuffix)))
      return new SshReader(key).text() === type ? key : null;
  } catch {
    return null;
  }
  return null;
}

/** does one known_hosts pattern field match `name` (`host` or `[host]:port`)? */
export function patternsMatch(patterns: string, name: string): boolean {
  if (patterns.startsWith('|1|')) {
    const [, , salt, hash] = patterns.split('|');
    if (!salt || !hash) return false;
    const mac = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return mac === hash;
  }
  let matched = false;
  for (const p of patterns.split(',')) {
    const negated = p.startsWith('!');
    const pat = negated ? p.slice(1) : p;
    if (globMatch(pat.toLowerCase(), name.toLowerCase())) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

/** compiled wildcard patterns; a known_hosts file has few distinct ones, each used once per host */
const globs = new Map<string, RegExp>();

function globMatch(pattern: string, text: string): boolean {
  if (!pattern.includes('*') && !pattern.includes('?')) return pattern === text;
  let re = globs.get(pattern);
  if (!re) {
    re = new RegExp(
      '^' +
        pattern
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*/g, '.*')
          .replace(/\?/g, '.') +
        '$',
    );
    if (globs.size >= 10_000) globs.clear();
    globs.set(pattern, re);
  }
  return re.test(text);
}

export class KnownHosts {
  private all: ParsedLine[];
  /** the lines ssh reads (not broken) */
  private lines: KnownHostLine[];
  /**
   * the lines matching each name asked about: a connection asks twice (key types to offer, then the
   * verdict), and hashed lines cost an HMAC per line and name (a long known_hosts, 50 hosts)
   */
  private matches = new Map<string, KnownHostLine[]>();

  constructor(
    readonly file: string,
    text?: string,
  ) {
    this.all = parseLines(text ?? readIfExists(file), file);
    this.lines = this.all.filter((l) => !l.broken);
  }

  /** re-reads the file (another process, or `ssh`, may have changed it) */
  reload(): void {
    this.all = parseLines(readIfExists(this.file), this.file);
    this.lines = this.all.filter((l) => !l.broken);
    this.matches.clear();
  }

  /** the lines ssh reads (those whose key parses), in file order */
  entries(): readonly KnownHostLine[] {
    return this.lines;
  }

  /** the lines whose host patterns match `name` */
  linesFor(name: string): KnownHostLine[] {
    let m = this.matches.get(name);
    if (!m) {
      m = this.lines.filter((l) => patternsMatch(l.patterns, name));
      if (this.matches.size >= 100_000) this.matches.clear();
      this.matches.set(name, m);
    }
    return m;
  }

  /**
   * what the file says of `key` presented by the host named `name` (see knownHostsName); a
   * certificate is checked against `cert` (without it, only its key counts, as if it were plain)
   */
  verdict(name: string, key: Buffer, cert?: CertCheck): Verdict {
    return verdictIn(this.lines, this.linesFor(name), key, cert);
  }

  /** the lines whose host patterns match `name`, as `ssh-keygen -F name` lists them (broken keys too) */
  matchingLines(name: string): Array<Pick<KnownHostLine, 'lineNo' | 'marker'>> {
    return this.all.filter((l) => patternsMatch(l.patterns, name)).map((l) => ({ lineNo: l.lineNo, marker: l.marker }));
  }

  /** does a @cert-authority line cover `name`? (then host certificates are asked for) */
  hasCertAuthority(name: string): boolean {
    return this.linesFor(name).some((l) => l.marker === '@cert-authority');
  }

  /** key types on file for `name`, to offer those first in the key exchange */
  knownTypes(name: string): string[] {
    return [
      ...new Set(
        this.linesFor(name)
          .filter((l) => l.marker === '')
          .map((l) => l.keyType),
      ),
    ];
  }

  /** appends keys in OpenSSH format (so `ssh` agrees with Fleet); the file is created 0600 */
  append(entries: ReadonlyArray<{ name: string; key: Buffer }>, opts: { hash?: boolean } = {}): void {
    if (entries.length === 0) return;
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    const needsNewline = endsWithoutNewline(this.file);
    const text = entries.map((e) => formatLine(e.name, e.key, opts.hash ?? false)).join('');
    appendFileSync(this.file, (needsNewline ? '\n' : '') + text, { mode: 0o600 });
    this.reload();
  }
}

/**
 * What the lines `all` say of `key` shown by a host whose matching lines are `mine` (those of
 * `all` whose patterns match its name): of one file, or of several read as one, as ssh reads its
 * UserKnownHostsFile and GlobalKnownHostsFile lists (a key pinned in any of them is known).
 */
export function verdictIn(
  all: readonly KnownHostLine[],
  mine: readonly KnownHostLine[],
  key: Buffer,
  cert?: CertCheck,
): Verdict {
  const type = keyTypeOf(key);
  if (type.endsWith(certSuffix))
    return certificateVerdict(all, mine, key, cert, (plain) => verdictIn(all, mine, plain));
  const revoked = all.find((l) => l.marker === '@revoked' && l.key.equals(key));
  if (revoked) return { kind: 'revoked', line: revoked };
  const plain = mine.filter((l) => l.marker === '');
  if (plain.some((l) => l.key.equals(key))) return { kind: 'known' };
  const sameType = plain.filter((l) => l.keyType === type);
  if (sameType.length > 0) return { kind: 'changed', want: sameType };
  const otherTypes = [...new Set(plain.map((l) => l.keyType))];
  // a host that has keys of other types on file but shows a new type is treated as changed:
  // trusting it silently would let an attacker pick a type we have not pinned
  if (otherTypes.length > 0) return { kind: 'changed', want: plain };
  return { kind: 'unknown', otherTypes, certAuthority: mine.some((l) => l.marker === '@cert-authority') };
}

export function formatLine(name: string, key: Buffer, hash: boolean): string {
  let pattern = name;
  if (hash) {
    const salt = randomBytes(20);
    pattern = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
  }
  return `${pattern} ${keyTypeOf(key)} ${key.toString('base64')}\n`;
}

function readIfExists(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw e;
  }
}

function endsWithoutNewline(file: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return false;
  }
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return false;
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, size - 1);
    return b[0] !== 0x0a;
  } finally {
    closeSync(fd);
  }
}
