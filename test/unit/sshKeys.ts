// Real SSH public key blobs (and private keys) made with node:crypto, for unit tests of code that
// parses keys strictly (known_hosts, certificates).
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
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
