// What Fleet relies on from its patch of ssh2 (patches/ssh2+1.17.0.patch, applied by
// patch-package at `npm install`/`npm ci`; ARCHITECTURE.md says why a patch): the certificate host
// key algorithms ssh2 may be asked for. Without the patch (an ssh2 installed another way) the list
// is empty: Fleet then never asks for a host certificate and says so, instead of failing inside
// ssh2's option check. test/unit/ssh2Patch.test.ts fails loudly if the patch is not in effect.
import type { ParsedKey } from 'ssh2';

interface PatchedConstants {
  CERT_SERVER_HOST_KEY?: string[];
  certPlainAlgo?: (algo: string) => string;
}

function patchedConstants(): PatchedConstants {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('ssh2/lib/protocol/constants.js') as PatchedConstants;
  } catch {
    return {};
  }
}

const constants = patchedConstants();

/** the host certificate algorithms this ssh2 can negotiate (empty without Fleet's patch) */
export const certHostKeyAlgorithms: readonly string[] = constants.CERT_SERVER_HOST_KEY ?? [];

/** is Fleet's ssh2 patch in effect? */
export function ssh2CanUseCertificates(): boolean {
  return certHostKeyAlgorithms.length > 0 && typeof constants.certPlainAlgo === 'function';
}

/** the plain algorithm of a certificate algorithm (`rsa-sha2-512-cert-v01@openssh.com` → `rsa-sha2-512`) */
export function plainAlgorithm(algo: string): string {
  return algo.endsWith('-cert-v01@openssh.com') ? algo.slice(0, -21) : algo;
}

/**
 * A user certificate with the private key that it certifies, as ssh2 takes a key: the private key
 * object (its `sign`, its ssh2 internals) with the certificate's type and blob. ssh2's patched
 * authPK names the signature by the plain algorithm.
 */
export function certifiedKey(privateKey: ParsedKey, certType: string, certBlob: Buffer, comment: string): ParsedKey {
  const k = Object.create(privateKey) as ParsedKey;
  Object.defineProperty(k, 'type', { value: certType, enumerable: true });
  Object.defineProperty(k, 'comment', { value: comment, enumerable: true });
  k.getPublicSSH = () => certBlob;
  return k;
}
