// User certificates, found as OpenSSH finds them: `<identity>-cert.pub` beside each identity file,
// and ssh_config's CertificateFile (matched to an identity file's key, or to a key ssh-agent holds,
// which then signs). Certificates ssh-agent holds itself (ssh-add puts a key's -cert.pub there) are
// offered by ssh2's own agent method (Fleet's ssh2 patch reads them). When authentication fails,
// `certificateAdvice` says what is wrong with each certificate in words a person can act on.
import { advice } from '../advice';
import { existsSync, readFileSync } from 'node:fs';
import { BaseAgent, createAgent, utils, type ParsedKey } from 'ssh2';
import {
  CertificateFormatError,
  certTimeProblem,
  describeCertificate,
  parseCertificate,
  type SshCertificate,
} from './sshCert';

/** a certificate Fleet knows of, for one connection */
export interface UserCert {
  /** the file it was read from, or `ssh-agent` */
  source: string;
  cert: SshCertificate;
  /** why it was not offered (no private key for it) */
  notOffered?: string;
}

/** reads a `TYPE BASE64 [comment]` certificate file; null when absent, an Error when unreadable */
export function readCertificateFile(file: string): SshCertificate | null | Error {
  if (!existsSync(file)) return null;
  try {
    const [, b64] = readFileSync(file, 'utf8').trim().split(/\s+/);
    return parseCertificate(Buffer.from(b64 ?? '', 'base64'));
  } catch (e) {
    return e instanceof CertificateFormatError
      ? new Error(`${file}: ${e.message}`)
      : new Error(`${file}: ${(e as Error).message}`);
  }
}

/** the plain keys (and certificates) ssh-agent holds, parsed by ssh2; [] when it cannot be asked */
export function agentIdentities(agent: string): Promise<ParsedKey[]> {
  return new Promise((resolve) => {
    try {
      createAgent(agent).getIdentities((err, keys) => resolve(err || !keys ? [] : (keys as ParsedKey[])));
    } catch {
      resolve([]);
    }
  });
}

/**
 * An ssh2 agent offering certificates from files whose private keys ssh-agent holds: each is
 * listed as an identity, and signing is asked of ssh-agent with the plain key the certificate
 * certifies (what ssh does with a CertificateFile whose key is in the agent).
 */
export class CertFileAgent extends BaseAgent {
  constructor(
    private readonly inner: string,
    private readonly pairs: ReadonlyArray<{ cert: ParsedKey; plain: ParsedKey }>,
  ) {
    super();
  }
  getIdentities(cb: (err: Error | undefined, keys?: ParsedKey[]) => void): void {
    cb(
      undefined,
      this.pairs.map((p) => p.cert),
    );
  }
  sign(pubKey: ParsedKey, data: Buffer, options: unknown, cb?: (err: Error | undefined, sig?: Buffer) => void): void {
    const done = (typeof options === 'function' ? options : cb) as (err: Error | undefined, sig?: Buffer) => void;
    const pair = this.pairs.find((p) => p.cert === pubKey || p.cert.getPublicSSH().equals(pubKey.getPublicSSH()));
    if (!pair) return done(new Error('not a certificate of this agent'));
    const opts = typeof options === 'object' && options !== null ? options : {};
    createAgent(this.inner).sign(pair.plain, data, opts as never, done as never);
  }
}

/** the certificate as ssh2 takes a public key (Fleet's ssh2 patch parses certificate blobs) */
export function certAsKey(cert: SshCertificate): ParsedKey | null {
  const k = utils.parseKey(cert.blob);
  return k instanceof Error ? null : (k as ParsedKey);
}

/** parses the certificates ssh-agent holds among `keys` */
export function agentCertificates(keys: readonly ParsedKey[]): UserCert[] {
  const out: UserCert[] = [];
  for (const k of keys) {
    if (!k.type.endsWith('-cert-v01@openssh.com')) continue;
    try {
      out.push({ source: `ssh-agent (${k.comment || 'no comment'})`, cert: parseCertificate(k.getPublicSSH()) });
    } catch {
      // a certificate ssh2 could read but Fleet cannot: nothing to say about it
    }
  }
  return out;
}

/**
 * What to tell a person whose login as `user` failed, about each certificate: expired or not yet
 * valid (renew it), principals that do not name the user (the list, and what the server wants),
 * no private key (how to provide it), or, when nothing is visibly wrong, what the server checks.
 */
export function certificateAdvice(certs: readonly UserCert[], user: string, now = new Date()): string[] {
  return certs.map(({ source, cert, notOffered }) => {
    const what = `certificate ${source} (${describeCertificate(cert)})`;
    if (notOffered) return `${what} was not offered: ${notOffered}`;
    if (cert.kind !== 'user') return `${what} is a host certificate, not a user certificate`;
    const time = certTimeProblem(cert, now);
    if (time)
      return `${what}: ${time}; renew it with your CA (ssh-keygen -s, vault write …/sign, step ssh certificate …)`;
    if (cert.principals.length > 0 && !cert.principals.includes(user))
      return (
        `${what} was refused: its principals (${cert.principals.join(', ')}) do not include the user ${user}, and the ` +
        `server's AuthorizedPrincipalsFile allows none of them; ${advice().otherUser} or ask your CA for a certificate with principal ${user}`
      );
    return (
      `${what} was refused by the server: its CA is not in the server's TrustedUserCAKeys, or the server's ` +
      `AuthorizedPrincipalsFile for ${user} lists none of its principals (${cert.principals.join(', ') || 'any'})`
    );
  });
}
