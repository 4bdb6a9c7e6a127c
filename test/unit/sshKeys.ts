// Real SSH public key blobs (and private keys) made with node:crypto, for unit tests of code that
// parses keys strictly (known_hosts, certificates).
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { sshString } from '../../core/ssh/sshKeyBlob';

/** a new key pair: its SSH public key blob and private KeyObject */
export function sshKeyPair(kind: 'ed25519' | 'ecdsa' | 'rsa'): { blob: Buffer; priv: KeyObject } {
  const pair =
    kind === 'ed25519'
      ? generateKeyPairSync('ed25519')
      : kind === 'ecdsa'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('rsa', { modulusLength: 1024 });
  const jwk = pair.publicKey.export({ format: 'jwk' });
  const b = (v?: string) => Buffer.from(v ?? '', 'base64url');
  const mpint = (v: Buffer) => (v[0] & 0x80 ? Buffer.concat([Buffer.alloc(1), v]) : v);
  const blob =
    kind === 'ed25519'
      ? Buffer.concat([sshString('ssh-ed25519'), sshString(b(jwk.x))])
      : kind === 'ecdsa'
        ? Buffer.concat([
            sshString('ecdsa-sha2-nistp256'),
            sshString('nistp256'),
            sshString(Buffer.concat([Buffer.from([4]), b(jwk.x), b(jwk.y)])),
          ])
        : Buffer.concat([sshString('ssh-rsa'), sshString(mpint(b(jwk.e))), sshString(mpint(b(jwk.n)))]);
  return { blob, priv: pair.privateKey };
}

export function sshBlob(kind: 'ed25519' | 'ecdsa' | 'rsa'): Buffer {
  return sshKeyPair(kind).blob;
}

export interface CertSpec {
  key: Buffer; // the certified key's plain blob
  ca: { blob: Buffer; priv: KeyObject };
  kind?: 'user' | 'host';
  keyId?: string;
  principals?: string[];
  validAfter?: bigint;
  validBefore?: bigint;
  criticalOptions?: string[];
  /** the CA signature's algorithm for an RSA CA (default rsa-sha2-512) */
  rsaAlgo?: 'rsa-sha2-512' | 'rsa-sha2-256' | 'ssh-rsa';
}

/** an OpenSSH certificate (PROTOCOL.certkeys) signed in process, as ssh-keygen -s makes one */
export function buildCert(s: CertSpec): Buffer {
  const u64 = (v: bigint) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(v);
    return b;
  };
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v);
    return b;
  };
  const type = readType(s.key);
  const fields = s.key.subarray(4 + type.length);
  const packed = (xs: string[], data: boolean) =>
    sshString(Buffer.concat(xs.flatMap((x) => [sshString(x), ...(data ? [sshString('')] : [])])));
  const body = Buffer.concat([
    sshString(`${type}-cert-v01@openssh.com`),
    sshString(Buffer.alloc(32, 9)),
    fields,
    u64(7n),
    u32(s.kind === 'user' ? 1 : 2),
    sshString(s.keyId ?? 'test'),
    packed(s.principals ?? [], false),
    u64(s.validAfter ?? 0n),
    u64(s.validBefore ?? 0xffffffffffffffffn),
    packed(s.criticalOptions ?? [], true),
    packed([], true),
    sshString(''),
    sshString(s.ca.blob),
  ]);
  const caType = readType(s.ca.blob);
  let sig: Buffer;
  let algo = caType;
  if (caType === 'ssh-ed25519') sig = sign(null, body, s.ca.priv);
  else if (caType === 'ssh-rsa') {
    algo = s.rsaAlgo ?? 'rsa-sha2-512';
    sig = sign({ 'rsa-sha2-512': 'sha512', 'rsa-sha2-256': 'sha256', 'ssh-rsa': 'sha1' }[algo], body, s.ca.priv);
  } else {
    const p1363 = sign('sha256', body, { key: s.ca.priv, dsaEncoding: 'ieee-p1363' });
    const mp = (v: Buffer) => sshString(v[0] & 0x80 ? Buffer.concat([Buffer.alloc(1), v]) : v);
    sig = Buffer.concat([mp(p1363.subarray(0, 32)), mp(p1363.subarray(32))]);
  }
  return Buffer.concat([body, sshString(Buffer.concat([sshString(algo), sshString(sig)]))]);
}

function readType(blob: Buffer): string {
  return blob.subarray(4, 4 + blob.readUInt32BE(0)).toString('latin1');
}
