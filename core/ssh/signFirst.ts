// Public-key authentication in one round trip instead of two. ssh2's client (like OpenSSH's) first
// asks whether a key would be accepted (`publickey` without a signature → PK_OK) and signs only
// then. RFC 4252 §7 lets a client send the signed request straight away: the server answers
// SUCCESS, or FAILURE exactly as it would have answered the query, and ssh2 goes on to its next
// method either way. At 40 ms of RTT that is 40 ms less per fresh connection (BENCHMARKS.md).
//
// Only for keys whose private half this process holds (identity files): signing is local and cheap
// (ed25519 ~0.1 ms). Keys in ssh-agent keep the query: an agent may ask its user to confirm each
// signature (`ssh-add -c`), and nobody should be asked about a key the server would refuse.
//
// ssh2 has no option for this, so it wraps the client's protocol object, which exists as soon as
// `connect()` returns; test/integration/sshWire.test.ts (sshd's log) fails if an ssh2 upgrade
// moves it.
import type { Client, ParsedKey } from 'ssh2';
import { plainAlgorithm } from './ssh2Certs';

type SignCallback = (data: Buffer, send: (signature: Buffer) => void) => void;
type AuthPK = (user: string, key: ParsedKey, keyAlgo?: string, cbSign?: SignCallback) => void;

/**
 * the hash ssh2 signs with for a key algorithm it negotiated (RSA only; other types carry their own; a certificate's as
 * its key's)
 */
const hashOf: Record<string, string | undefined> = {
  'rsa-sha2-256': 'sha256',
  'rsa-sha2-512': 'sha512',
  'ssh-rsa': 'sha1',
};

/**
 * Makes `client` send signed publickey requests for `keys` (identity files) without the query
 * round trip. Call right after `client.connect()`. Returns false (and changes nothing) when this
 * ssh2 has no protocol object where expected: authentication then works as ssh2 does it.
 */
export function signPublicKeyFirst(client: Client, keys: ReadonlySet<ParsedKey>): boolean {
  const proto = (client as unknown as { _protocol?: { authPK?: AuthPK } })._protocol;
  if (!proto || typeof proto.authPK !== 'function' || keys.size === 0) return false;
  const authPK = proto.authPK.bind(proto);
  proto.authPK = (user, key, keyAlgo, cbSign) => {
    if (cbSign || !keys.has(key)) return authPK(user, key, keyAlgo, cbSign);
    const hash = keyAlgo === undefined ? undefined : hashOf[plainAlgorithm(keyAlgo)];
    authPK(user, key, keyAlgo, (data, send) => {
      const signature = key.sign(data, hash);
      // ssh2 calls this at once and sends nothing until `send`: a key that cannot sign (it never
      // should) falls back to the query, and ssh2 reports the signing error after PK_OK as usual
      if (signature instanceof Error) authPK(user, key, keyAlgo);
      else send(signature);
    });
  };
  return true;
}
