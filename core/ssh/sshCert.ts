// OpenSSH certificates (PROTOCOL.certkeys): parsed strictly, their CA signature verified, and
// checked as OpenSSH's sshkey_cert_check_authority checks them (type, validity window, principals),
// plus what ssh adds for a host certificate (no critical options, a CA signature algorithm of
// CASignatureAlgorithms' default: SHA-1 RSA is refused). Every refusal is a sentence a person can
// act on.
import { BlobError, readKeyFields, SshReader, verifySshSignature } from './sshKeyBlob';

export const certSuffix = '-cert-v01@openssh.com';

export interface SshCertificate {
  /** the whole certificate, as it goes on the wire */
  blob: Buffer;
  /** e.g. ssh-ed25519-cert-v01@openssh.com */
  type: string;
  /** the certified key's type, e.g. ssh-ed25519 */
  keyType: string;
  /** the certified key as a plain public key blob */
  publicKey: Buffer;
  serial: bigint;
  kind: 'user' | 'host';
  keyId: string;
  /** empty: valid for any principal */
  principals: string[];
  /** seconds since the epoch */
  validAfter: bigint;
  validBefore: bigint;
  criticalOptions: string[];
  extensions: string[];
  /** the CA's plain public key blob */
  signatureKey: Buffer;
  /** the bytes the CA signed, and its signature blob */
  signed: Buffer;
  signature: Buffer;
}

export class CertificateFormatError extends Error {}

export const foreverSecs = 0xffffffffffffffffn;

/** parses a certificate blob; throws CertificateFormatError (never anything else) when it is not one */
export function parseCertificate(blob: Buffer): SshCertificate {
  try {
    const r = new SshReader(blob);
    const type = r.text();
    if (!type.endsWith(certSuffix)) throw new BlobError(`${type} is not a certificate type`);
    const keyType = type.slice(0, -certSuffix.length);
    r.bytes(); // nonce
    const { blob: publicKey } = readKeyFields(r, keyType);
    const serial = r.uint64();
    const certType = r.uint32();
    if (certType !== 1 && certType !== 2) throw new BlobError(`certificate type ${certType} is neither user nor host`);
    const keyId = r.bytes().toString('utf8');
    const principals = names(r.bytes(), false);
    const validAfter = r.uint64();
    const validBefore = r.uint64();
    const criticalOptions = names(r.bytes(), true);
    const extensions = names(r.bytes(), true);
    r.bytes(); // reserved
    const signatureKey = r.bytes();
    const signed = blob.subarray(0, r.pos);
    const signature = r.bytes();
    if (r.left !== 0) throw new BlobError('data after the signature');
    return {
      blob,
      type,
      keyType,
      publicKey,
      serial,
      kind: certType === 1 ? 'user' : 'host',
      keyId,
      principals,
      validAfter,
      validBefore,
      criticalOptions,
      extensions,
      signatureKey,
      signed,
      signature,
    };
  } catch (e) {
    if (e instanceof BlobError) throw new CertificateFormatError(`not a valid OpenSSH certificate: ${e.message}`);
    throw e;
  }
}

/** a packed list of strings (principals), or of name + data pairs (options, extensions) */
function names(packed: Buffer, withData: boolean): string[] {
  const r = new SshReader(packed);
  const out: string[] = [];
  while (r.left > 0) {
    out.push(r.bytes().toString('utf8'));
    if (withData) r.bytes();
  }
  return out;
}

/** the CA signature algorithms ssh accepts by default (CASignatureAlgorithms) */
const caSignatureAlgorithms = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
];

/** null when the CA's signature over the certificate holds, else why not */
export function certificateSignatureProblem(cert: SshCertificate): string | null {
  let algo: string;
  try {
    if (new SshReader(cert.signatureKey).text().endsWith(certSuffix)) return 'its CA key is itself a certificate';
    algo = verifySshSignature(cert.signatureKey, cert.signed, cert.signature);
  } catch (e) {
    return `its CA signature is invalid (${(e as Error).message})`;
  }
  if (!caSignatureAlgorithms.includes(algo))
    return `its CA signed it with ${algo} (SHA-1), which ssh refuses (CASignatureAlgorithms); have it signed again with rsa-sha2-512`;
  return null;
}

/** a moment of a certificate's window, for messages (UTC, seconds) */
export function certTime(secs: bigint): string {
  if (secs >= foreverSecs) return 'forever';
  if (secs > 253402300799n) return 'after the year 9999';
  return new Date(Number(secs) * 1000).toISOString().replace(/\.000Z$/, 'Z');
}

/** `from … to …` of a certificate's validity */
export function certWindow(cert: SshCertificate): string {
  return cert.validAfter === 0n && cert.validBefore >= foreverSecs
    ? 'valid forever'
    : `valid ${certTime(cert.validAfter)} to ${certTime(cert.validBefore)}`;
}

/** `from … to …`, or null, as OpenSSH words a certificate that is not valid at `now` */
export function certTimeProblem(cert: SshCertificate, now: Date): string | null {
  const secs = BigInt(Math.floor(now.getTime() / 1000));
  if (secs < cert.validAfter) return `it is not valid yet (valid from ${certTime(cert.validAfter)})`;
  if (secs >= cert.validBefore) return `it expired at ${certTime(cert.validBefore)}`;
  return null;
}

/**
 * Why a host certificate does not vouch for `name` (the host name ssh would check: its HostName
 * or HostKeyAlias, without a port) at `now`, or null when it does: OpenSSH's checks, in its order.
 */
export function hostCertificateProblem(cert: SshCertificate, name: string, now: Date): string | null {
  if (cert.kind !== 'host') return 'it is a user certificate, not a host certificate';
  const signature = certificateSignatureProblem(cert);
  if (signature) return signature;
  const time = certTimeProblem(cert, now);
  if (time) return time;
  if (cert.principals.length > 0 && !cert.principals.includes(name))
    return `${name} is not among its principals (${cert.principals.join(', ')})`;
  if (cert.criticalOptions.length > 0)
    return `it has critical options ssh does not support for hosts (${cert.criticalOptions.join(', ')})`;
  return null;
}

/** key id, principals and window, for messages and tooltips */
export function describeCertificate(cert: SshCertificate): string {
  const who = cert.principals.length ? `principals ${cert.principals.join(', ')}` : 'any principal';
  return `key id "${cert.keyId}", serial ${cert.serial}, ${who}, ${certWindow(cert)}`;
}
