// ssh2 signs with a key's PEM text, which Node hands to OpenSSL 3 to decode again at every
// signature: 10-13 % of the client's CPU for a fresh connection in a profile of 50 (`perf record` of
// the bench's in-process run), almost all of it OpenSSL's decoder set-up. Identity files are parsed
// once per run (KeyStore), so their keys get a `sign` that uses one KeyObject made at load time.
import { createPrivateKey, sign as cryptoSign, type KeyObject } from 'node:crypto';
import type { ParsedKey } from 'ssh2';

/** the hash ssh2 signs with when the caller names none (its own per-type default) */
const defaultHash: Record<string, string | null> = {
  'ssh-rsa': 'sha1',
  'ecdsa-sha2-nistp256': 'sha256',
  'ecdsa-sha2-nistp384': 'sha384',
  'ecdsa-sha2-nistp521': 'sha512',
  'ssh-ed25519': null,
};

/**
 * Gives `key` a `sign` with the same answers as ssh2's (a signature, or an Error returned, never
 * thrown) that decodes the private key once. Keys of other types keep ssh2's `sign`.
 */
export function signWithKeyObject(key: ParsedKey): void {
  if (!(key.type in defaultHash) || !key.isPrivateKey()) return;
  let keyObject: KeyObject;
  try {
    keyObject = createPrivateKey(key.getPrivatePEM());
  } catch {
    return; // ssh2's own sign will report what is wrong with it
  }
  const fallback = defaultHash[key.type];
  key.sign = (data: Buffer | string, algo?: string) => {
    try {
      return cryptoSign(algo || fallback, typeof data === 'string' ? Buffer.from(data) : data, keyObject);
    } catch (e) {
      return e as Buffer; // ssh2's contract: an Error is returned (its typings say Buffer)
    }
  };
}
