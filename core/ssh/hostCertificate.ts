// A host that shows an OpenSSH certificate, judged as ssh judges it (sshconnect.c check_host_key):
// revoked if a @revoked line holds the certificate, its key or its CA; trusted when a
// @cert-authority line for the host's name holds its CA and the certificate is valid for the host
// now (hostCertificateProblem); otherwise its key is looked up as a plain key, so a pinned key
// still works beside the CA. Where ssh would then ask about (or, with accept-new, pin) the bare
// key, Fleet refuses with the reason the certificate failed: a host that a CA should vouch for is
// never trusted on first use.
import { fingerprint, type KnownHostLine, type CertCheck, type Verdict } from './knownHosts';
import {
  CertificateFormatError,
  describeCertificate,
  hostCertificateProblem,
  parseCertificate,
  type SshCertificate,
} from './sshCert';

/** how a host was trusted through a CA: for messages, the Fleet view's tooltip and the host-key dialog */
export interface CaTrust {
  /** the @cert-authority line that holds the CA */
  line: KnownHostLine;
  caFingerprint: string;
  cert: Pick<SshCertificate, 'keyId' | 'serial' | 'principals' | 'validAfter' | 'validBefore' | 'keyType'>;
  /** the certified host key's fingerprint */
  keyFingerprint: string;
}

/** `CA SHA256:… (@cert-authority *.corp, known_hosts line 3), certificate key id "web1", …` */
export function describeCaTrust(t: CaTrust, file?: string): string {
  return (
    `host certificate signed by CA ${t.caFingerprint} (@cert-authority ${t.line.patterns}, ` +
    `${file ?? 'known_hosts'} line ${t.line.lineNo}); ${describeCertificate(t.cert as SshCertificate)}`
  );
}

export function certificateVerdict(
  all: readonly KnownHostLine[],
  mine: readonly KnownHostLine[],
  blob: Buffer,
  check: CertCheck | undefined,
  plainVerdict: (key: Buffer) => Verdict,
): Verdict {
  let cert: SshCertificate;
  try {
    cert = parseCertificate(blob);
  } catch (e) {
    if (e instanceof CertificateFormatError) return { kind: 'certificate', problem: `the host sent ${e.message}` };
    throw e;
  }
  const revoked = (k: Buffer) => all.find((l) => l.marker === '@revoked' && l.key.equals(k));
  for (const [k, what] of [
    [blob, 'its certificate'],
    [cert.publicKey, 'its key'],
    [cert.signatureKey, `the CA ${fingerprint(cert.signatureKey)} that signed its certificate`],
  ] as const) {
    const line = revoked(k);
    if (line) return { kind: 'revoked', line, what };
  }
  const cas = mine.filter((l) => l.marker === '@cert-authority');
  const ca = cas.find((l) => l.key.equals(cert.signatureKey));
  let problem: string;
  if (!check) problem = 'it was not checked';
  else if (!ca)
    problem =
      cas.length === 0
        ? `no @cert-authority line covers this host`
        : `its CA ${fingerprint(cert.signatureKey)} is not the one the @cert-authority line${cas.length > 1 ? 's' : ''} ` +
          `for this host hold${cas.length > 1 ? '' : 's'} (${cas.map((l) => `line ${l.lineNo}: ${fingerprint(l.key)}`).join(', ')})`;
  else {
    const p = hostCertificateProblem(cert, check.principal, check.now ?? new Date());
    if (p === null)
      return {
        kind: 'known',
        ca: {
          line: ca,
          caFingerprint: fingerprint(cert.signatureKey),
          cert,
          keyFingerprint: fingerprint(cert.publicKey),
        },
      };
    problem = p;
  }
  // as ssh does: the certificate does not make the host trusted, so its key alone is looked up
  const plain = plainVerdict(cert.publicKey);
  if (plain.kind !== 'unknown') return plain;
  return {
    kind: 'certificate',
    problem: `host certificate (${describeCertificate(cert)}) refused: ${problem}`,
  };
}
