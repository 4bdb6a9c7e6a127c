// A self-signed X.509 v3 certificate for the agent's TLS listener, written in DER by hand and
// signed with node:crypto (ECDSA P-256, SHA-256): node:crypto reads certificates but cannot make
// one, and the npm packages that can (node-forge, ~1.6 MB; @peculiar/x509 with its ASN.1 stack)
// would outweigh the whole agent bundle for ~100 lines of DER (agent/README.md argues it).
//
// The certificate is trusted by pinning, never by a CA: the controller reads it over SSH at deploy
// and compares fingerprints on every call; Prometheus gets it as its own ca_file. So it carries
// only what TLS clients check: a SAN `fleet-agent` (plus the host name), key usage
// digitalSignature, extended key usage serverAuth, and no expiry (RFC 5280 4.1.2.5's
// 99991231235959Z): a pinned key is replaced by deploying a new one, not by a date.
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

/** DER: tag, length (short or long form), contents */
function tlv(tag: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const n = body.length;
  const len =
    n < 0x80
      ? Buffer.from([n])
      : n < 0x100
        ? Buffer.from([0x81, n])
        : n < 0x10000
          ? Buffer.from([0x82, n >> 8, n & 0xff])
          : Buffer.from([0x83, n >> 16, (n >> 8) & 0xff, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, body]);
}

const seq = (...parts: Buffer[]) => tlv(0x30, ...parts);
const set = (...parts: Buffer[]) => tlv(0x31, ...parts);
const int = (b: Buffer) => tlv(0x02, b);
const octets = (b: Buffer) => tlv(0x04, b);
const bits = (b: Buffer, unused = 0) => tlv(0x03, Buffer.from([unused]), b);
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));
const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0]));

/** an OBJECT IDENTIFIER from dotted text (base-128 arcs) */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const out = [40 * arcs[0] + arcs[1]];
  for (const a of arcs.slice(2)) {
    const b7: number[] = [];
    let v = a;
    do {
      b7.unshift(v & 0x7f);
      v = Math.floor(v / 128);
    } while (v > 0);
    for (let i = 0; i < b7.length - 1; i++) b7[i] |= 0x80;
    out.push(...b7);
  }
  return tlv(0x06, Buffer.from(out));
}

/** UTCTime up to 2049, GeneralizedTime from 2050 (RFC 5280 4.1.2.5) */
function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z'; // YYYYMMDDHHMMSSZ
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(iso.slice(2))) : tlv(0x18, Buffer.from(iso));
}

const ecdsaWithSha256 = seq(oid('1.2.840.10045.4.3.2'));

/** a DNS name fit for a SAN: letters, digits, hyphens, dots */
function dnsName(s: string): boolean {
  return /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(
    s,
  );
}

export interface SelfSigned {
  /** PKCS#8 PEM */
  keyPem: string;
  certPem: string;
}

/** a new P-256 key and its self-signed certificate for `names` (DNS SANs; the first is the subject CN) */
export function makeSelfSigned(names: string[], now = new Date(), key?: KeyObject): SelfSigned {
  const privateKey = key ?? generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const sans = [...new Set(names.filter(dnsName))];
  if (!sans.length) throw new Error('a certificate needs at least one DNS name');
  const serial = randomBytes(16);
  serial[0] = (serial[0] & 0x7f) | 0x40; // positive, and minimal in DER
  const name = seq(set(seq(oid('2.5.4.3'), utf8(sans[0]))));
  const ext = (id: string, critical: boolean, value: Buffer) =>
    seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));
  const tbs = seq(
    tlv(0xa0, int(Buffer.from([2]))), // v3
    int(serial),
    ecdsaWithSha256,
    name,
    seq(time(new Date(now.getTime() - 3600_000)), time(new Date(Date.UTC(9999, 11, 31, 23, 59, 59)))),
    name,
    spki,
    tlv(
      0xa3,
      seq(
        ext('2.5.29.19', true, seq()), // basicConstraints: not a CA
        ext('2.5.29.15', true, bits(Buffer.from([0x80]), 7)), // keyUsage: digitalSignature
        ext('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))), // extKeyUsage: serverAuth
        ext('2.5.29.17', false, seq(...sans.map((n) => tlv(0x82, Buffer.from(n, 'ascii'))))), // subjectAltName
      ),
    ),
  );
  const signature = sign('sha256', tbs, privateKey); // DER ECDSA-Sig-Value
  const der = seq(tbs, ecdsaWithSha256, bits(signature));
  return {
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    certPem: pem('CERTIFICATE', der),
  };
}

export function pem(label: string, der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN ${label}-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END ${label}-----\n`;
}

/** the private key of a PEM (for a certificate made again from a key already on disk) */
export function loadKey(keyPem: string): KeyObject {
  return createPrivateKey(keyPem);
}
