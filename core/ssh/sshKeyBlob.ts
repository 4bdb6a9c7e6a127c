// SSH public key blobs (RFC 4253 §6.6, RFC 5656, RFC 8709), read strictly: the wire format of a
// key, of the key inside an OpenSSH certificate, and of a certificate authority's key. A blob that
// does not parse whole is refused, as OpenSSH's sshkey_from_blob refuses it. Node's crypto turns a
// key into a KeyObject (JWK import), so checking a signature needs no ssh2 internals.
import { createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';

export class BlobError extends Error {}

/** reads SSH wire types from a buffer; every read is bounds-checked */
export class SshReader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  get left(): number {
    return this.buf.length - this.pos;
  }
  uint32(): number {
    if (this.left < 4) throw new BlobError('truncated');
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  uint64(): bigint {
    if (this.left < 8) throw new BlobError('truncated');
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v;
  }
  bytes(): Buffer {
    const n = this.uint32();
    if (n > this.left) throw new BlobError('truncated');
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  text(): string {
    return this.bytes().toString('latin1');
  }
}

/** an SSH string (uint32 length, bytes) */
export function sshString(b: Buffer | string): Buffer {
  const body = typeof b === 'string' ? Buffer.from(b, 'latin1') : b;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

const curves: Record<string, { name: string; crv: string; size: number; hash: string }> = {
  'ecdsa-sha2-nistp256': { name: 'nistp256', crv: 'P-256', size: 32, hash: 'sha256' },
  'ecdsa-sha2-nistp384': { name: 'nistp384', crv: 'P-384', size: 48, hash: 'sha384' },
  'ecdsa-sha2-nistp521': { name: 'nistp521', crv: 'P-521', size: 66, hash: 'sha512' },
};

/** the plain key types Fleet reads (DSA is gone from OpenSSH; security keys cannot be used by Fleet) */
export const plainKeyTypes = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'ssh-rsa',
];

/**
 * Reads the type-specific fields of a `type` key at the reader's position and returns the plain
 * key blob they make (`string type` first) and its KeyObject. Throws BlobError when they do not
 * make a valid key (OpenSSH: 1024-bit RSA at least, a point on the curve).
 */
export function readKeyFields(r: SshReader, type: string): { blob: Buffer; key: KeyObject } {
  const start = r.pos;
  let jwk: Record<string, string>;
  if (type === 'ssh-ed25519') {
    const pk = r.bytes();
    if (pk.length !== 32) throw new BlobError('an ed25519 key is 32 bytes');
    jwk = { kty: 'OKP', crv: 'Ed25519', x: pk.toString('base64url') };
  } else if (type in curves) {
    const c = curves[type];
    if (r.text() !== c.name) throw new BlobError(`${type} names another curve`);
    const q = r.bytes();
    if (q.length !== 1 + 2 * c.size || q[0] !== 4) throw new BlobError('not an uncompressed point');
    jwk = {
      kty: 'EC',
      crv: c.crv,
      x: q.subarray(1, 1 + c.size).toString('base64url'),
      y: q.subarray(1 + c.size).toString('base64url'),
    };
  } else if (type === 'ssh-rsa') {
    const e = unsignedInt(r.bytes());
    const n = unsignedInt(r.bytes());
    if (n.length * 8 - (Math.clz32(n[0]) - 24) < 1024) throw new BlobError('an RSA key under 1024 bits');
    jwk = { kty: 'RSA', n: n.toString('base64url'), e: e.toString('base64url') };
  } else throw new BlobError(`unsupported key type ${type}`);
  let key: KeyObject;
  try {
    key = createPublicKey({ key: jwk, format: 'jwk' });
  } catch (e) {
    throw new BlobError(`not a valid ${type} key: ${(e as Error).message}`);
  }
  return { blob: Buffer.concat([sshString(type), r.buf.subarray(start, r.pos)]), key };
}

/** an mpint's magnitude without leading zero bytes; a negative one is refused */
function unsignedInt(b: Buffer): Buffer {
  if (b.length === 0) throw new BlobError('empty integer');
  if (b[0] & 0x80) throw new BlobError('negative integer');
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i);
}

/** a whole plain public key blob, parsed strictly (nothing may follow its fields) */
export function parsePublicKeyBlob(blob: Buffer): { type: string; key: KeyObject } {
  const r = new SshReader(blob);
  const type = r.text();
  const { key } = readKeyFields(r, type);
  if (r.left !== 0) throw new BlobError('data after the key');
  return { type, key };
}

/** is `text` strict base64 (what OpenSSH's decoder takes: padded, no stray characters)? */
export function isStrictBase64(text: string): boolean {
  return text.length > 0 && text.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(text);
}

/**
 * Checks an SSH signature blob (`string algorithm, string value`) made by the key `signer` (a plain
 * key blob) over `data`. Returns the signature's algorithm, or throws BlobError saying why not.
 */
export function verifySshSignature(signer: Buffer, data: Buffer, signature: Buffer): string {
  const { type, key } = parsePublicKeyBlob(signer);
  const r = new SshReader(signature);
  const algo = r.text();
  const value = r.bytes();
  if (r.left !== 0) throw new BlobError('data after the signature');
  let ok: boolean;
  if (type === 'ssh-ed25519' && algo === 'ssh-ed25519') ok = cryptoVerify(null, data, key, value);
  else if (type in curves && algo === type) {
    const c = curves[type];
    const s = new SshReader(value);
    const p1363 = Buffer.concat([fixed(unsignedInt(s.bytes()), c.size), fixed(unsignedInt(s.bytes()), c.size)]);
    if (s.left !== 0) throw new BlobError('data after the ECDSA signature');
    ok = cryptoVerify(c.hash, data, { key, dsaEncoding: 'ieee-p1363' }, p1363);
  } else if (type === 'ssh-rsa' && ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'].includes(algo)) {
    ok = cryptoVerify(
      { 'rsa-sha2-512': 'sha512', 'rsa-sha2-256': 'sha256', 'ssh-rsa': 'sha1' }[algo]!,
      data,
      key,
      value,
    );
  } else throw new BlobError(`a ${algo} signature cannot come from a ${type} key`);
  if (!ok) throw new BlobError('the signature does not verify');
  return algo;
}

function fixed(b: Buffer, size: number): Buffer {
  if (b.length > size) throw new BlobError('integer too long for the curve');
  return Buffer.concat([Buffer.alloc(size - b.length), b]);
}
