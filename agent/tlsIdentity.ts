// The agent's TLS key and certificate: made on the host at first start when absent (deploy starts
// the agent, so that is at deploy), then kept: the controller pins the certificate, and a new one
// would be refused until pinned again. The key is born 0600 and linked into place whole, so two
// agents starting on one data dir agree on one key; a certificate missing beside a key is made
// again from that key (a new certificate: whoever pinned the old one must pin again).
import { X509Certificate, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { agentTlsServerName } from '../core/protocol/agent';
import { placeIfAbsent } from '../core/safeWrite';
import { makeSelfSigned } from './selfSignedCert';

export interface TlsIdentity {
  key: string;
  cert: string;
  keyFile: string;
  certFile: string;
  /** SHA-256 of the certificate's DER, `AB:CD:…` as openssl prints it */
  fingerprint: string;
  /** true when this start made the certificate */
  made: boolean;
}

export function ensureTlsIdentity(keyFile: string, certFile: string): TlsIdentity {
  let made = false;
  if (!existsSync(keyFile)) {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    placeIfAbsent(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 0o600);
  }
  if (!existsSync(certFile)) {
    // from the key on disk: another agent starting on this data dir may have placed it first
    const key = createPrivateKey(readFileSync(keyFile));
    placeIfAbsent(certFile, makeSelfSigned([agentTlsServerName, hostname()], new Date(), key).certPem, 0o644);
    made = true;
  }
  const keyPem = readFileSync(keyFile, 'utf8');
  const certPem = readFileSync(certFile, 'utf8');
  const x = new X509Certificate(certPem);
  if (!x.checkPrivateKey(createPrivateKey(keyPem)))
    throw new Error(
      `${certFile} does not belong to the key ${keyFile}; remove both to have a new pair made (then pin it again: fleet agent pin)`,
    );
  return { key: keyPem, cert: certPem, keyFile, certFile, fingerprint: x.fingerprint256, made };
}
