// OpenSSH certificates, parsed and checked in process: every refusal ssh makes of a host
// certificate (type, window, principals, critical options, CA signature, SHA-1 CA signatures),
// the known_hosts verdict for a host showing one (CA line, revoked CA, pinned key beside it), the
// advice for user certificates, and hostile bytes (fast-check) that must give an answer or a
// CertificateFormatError, never an exception of another kind.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { certificateAdvice } from '../../core/ssh/certAuth';
import { HostKeyChecker } from '../../core/ssh/hostKeyPolicy';
import { fingerprint, KnownHosts } from '../../core/ssh/knownHosts';
import {
  CertificateFormatError,
  certificateSignatureProblem,
  hostCertificateProblem,
  parseCertificate,
} from '../../core/ssh/sshCert';
import { HostKeyError } from '../../core/errors';
import { fuzzRuns, fuzzSeed } from '../harness/fuzz';
import { buildCert, sshKeyPair, type CertSpec } from './sshKeys';

const ca = sshKeyPair('ed25519');
const otherCa = sshKeyPair('ed25519');
const host = sshKeyPair('ed25519').blob;
const now = new Date('2026-06-01T00:00:00Z');
const secs = (iso: string) => BigInt(Date.parse(iso) / 1000);
const cert = (o: Partial<CertSpec> = {}) =>
  parseCertificate(buildCert({ key: host, ca, kind: 'host', principals: ['web1.corp'], ...o }));

describe('OpenSSH certificates', () => {
  it('parses what ssh-keygen -s writes: key, kind, key id, principals, window, CA', () => {
    const c = cert({
      keyId: 'web1',
      validAfter: secs('2026-01-01T00:00:00Z'),
      validBefore: secs('2027-01-01T00:00:00Z'),
    });
    assert.equal(c.type, 'ssh-ed25519-cert-v01@openssh.com');
    assert.deepEqual([c.kind, c.keyId, c.principals, c.serial], ['host', 'web1', ['web1.corp'], 7n]);
    assert.ok(c.publicKey.equals(host) && c.signatureKey.equals(ca.blob));
    assert.equal(certificateSignatureProblem(c), null);
  });

  it('refuses a host certificate as ssh does, each with its reason', () => {
    const ok = cert();
    assert.equal(hostCertificateProblem(ok, 'web1.corp', now), null);
    const cases: Array<[ReturnType<typeof cert>, string, RegExp]> = [
      [cert({ kind: 'user' }), 'web1.corp', /a user certificate, not a host certificate/],
      [cert({ validBefore: secs('2026-05-31T00:00:00Z') }), 'web1.corp', /it expired at 2026-05-31T00:00:00Z/],
      [
        cert({ validAfter: secs('2026-06-02T00:00:00Z') }),
        'web1.corp',
        /not valid yet \(valid from 2026-06-02T00:00:00Z\)/,
      ],
      [ok, 'web2.corp', /web2\.corp is not among its principals \(web1\.corp\)/],
      [cert({ criticalOptions: ['force-command'] }), 'web1.corp', /critical options .*\(force-command\)/],
    ];
    for (const [c, name, re] of cases) assert.match(hostCertificateProblem(c, name, now) ?? 'accepted', re);
    // the window's ends: valid at valid_after, expired at valid_before (OpenSSH's < and >=)
    const w = cert({ validAfter: secs('2026-06-01T00:00:00Z'), validBefore: secs('2026-06-01T00:00:01Z') });
    assert.equal(hostCertificateProblem(w, 'web1.corp', now), null);
    assert.match(hostCertificateProblem(w, 'web1.corp', new Date('2026-06-01T00:00:01Z'))!, /expired/);
    // no principals: any name
    assert.equal(hostCertificateProblem(cert({ principals: [] }), 'anything', now), null);
  });

  it('refuses a forged or a SHA-1 CA signature', () => {
    const forged = buildCert({ key: host, ca, kind: 'host' });
    forged[forged.length - 5] ^= 1;
    assert.match(
      certificateSignatureProblem(parseCertificate(forged))!,
      /CA signature is invalid \(the signature does not verify\)/,
    );
    const rsaCa = sshKeyPair('rsa');
    assert.equal(certificateSignatureProblem(parseCertificate(buildCert({ key: host, ca: rsaCa }))), null);
    assert.match(
      certificateSignatureProblem(parseCertificate(buildCert({ key: host, ca: rsaCa, rsaAlgo: 'ssh-rsa' })))!,
      /signed it with ssh-rsa \(SHA-1\), which ssh refuses/,
    );
    const ecCa = sshKeyPair('ecdsa');
    assert.equal(certificateSignatureProblem(parseCertificate(buildCert({ key: host, ca: ecCa }))), null);
  });

  it('a host with a certificate is known through its @cert-authority line, or refused with the reason', () => {
    const caLine = `@cert-authority *.corp ssh-ed25519 ${ca.blob.toString('base64')}`;
    const check = { principal: 'web1.corp', now };
    const good = buildCert({ key: host, ca, kind: 'host', principals: ['web1.corp'] });
    const v = new KnownHosts('/kh', caLine).verdict('web1.corp', good, check);
    assert.ok(v.kind === 'known' && v.ca && v.ca.line.lineNo === 1 && v.ca.caFingerprint === fingerprint(ca.blob));
    const expired = buildCert({ key: host, ca, kind: 'host', validBefore: 1n });
    const e = new KnownHosts('/kh', caLine).verdict('web1.corp', expired, check);
    assert.ok(e.kind === 'certificate' && /it expired at 1970-01-01T00:00:01Z/.test(e.problem), JSON.stringify(e));
    // the same key pinned as a plain key beside the CA: trusted by the pin, as ssh falls back to it
    const pinned = `web1.corp ssh-ed25519 ${host.toString('base64')}`;
    assert.deepEqual(new KnownHosts('/kh', [caLine, pinned].join('\n')).verdict('web1.corp', expired, check), {
      kind: 'known',
    });
    // another CA, a revoked CA, a CA line for other hosts
    const foreign = buildCert({ key: host, ca: otherCa, kind: 'host' });
    const f = new KnownHosts('/kh', caLine).verdict('web1.corp', foreign, check);
    assert.ok(
      f.kind === 'certificate' &&
        /is not the one the @cert-authority line for this host holds \(line 1: SHA256:/.test(f.problem),
    );
    const revoked = [caLine, `@revoked * ssh-ed25519 ${ca.blob.toString('base64')}`].join('\n');
    const r = new KnownHosts('/kh', revoked).verdict('web1.corp', good, check);
    assert.ok(r.kind === 'revoked' && r.what?.startsWith('the CA SHA256:'));
    assert.equal(
      new KnownHosts('/kh', caLine).verdict('web1.other', good, { principal: 'web1.other', now }).kind,
      'certificate',
    );
  });

  it('the checker says which CA trusted a host, and never pins or asks about a refused certificate', () => {
    const kh = new KnownHosts('/kh', `@cert-authority [10.0.0.*]:2222 ssh-ed25519 ${ca.blob.toString('base64')}`);
    const c = new HostKeyChecker(kh, 'ask');
    const good = buildCert({ key: host, ca, kind: 'host', principals: ['10.0.0.5'] });
    assert.equal(c.check('web', '10.0.0.5', 2222, good), null);
    assert.match(
      c.describeTrust('web')!,
      /^host certificate signed by CA SHA256:\S+ \(@cert-authority \[10\.0\.0\.\*\]:2222, \/kh line 1\); key id "test"/,
    );
    const err = c.check('db', '10.0.0.6', 2222, good); // its principal is 10.0.0.5
    assert.ok(err instanceof HostKeyError);
    assert.match(err.message, /10\.0\.0\.6 is not among its principals \(10\.0\.0\.5\); renew the host's certificate/);
    assert.deepEqual(c.takePending(), [], 'never offered for trust on first use');
    assert.equal(c.trustedVia('db'), undefined);
  });

  it('user certificate advice names the problem and what to do', () => {
    const user = sshKeyPair('ed25519').blob;
    const u = (o: Partial<CertSpec>) =>
      parseCertificate(buildCert({ key: user, ca, kind: 'user', keyId: 'alice', ...o }));
    const [expired, future, principal, refused, orphan] = certificateAdvice(
      [
        { source: '/k-cert.pub', cert: u({ validBefore: secs('2026-05-01T00:00:00Z') }) },
        { source: '/k-cert.pub', cert: u({ validAfter: secs('2026-07-01T00:00:00Z') }) },
        { source: '/k-cert.pub', cert: u({ principals: ['alice', 'ops'] }) },
        { source: '/k-cert.pub', cert: u({ principals: ['deploy'] }) },
        { source: '/o-cert.pub', cert: u({}), notOffered: 'its private key is in no identity file' },
      ],
      'deploy',
      now,
    );
    assert.match(
      expired,
      /^certificate \/k-cert\.pub \(key id "alice", .*\): it expired at 2026-05-01T00:00:00Z; renew it/,
    );
    assert.match(future, /it is not valid yet \(valid from 2026-07-01T00:00:00Z\)/);
    assert.match(principal, /its principals \(alice, ops\) do not include the user deploy/);
    assert.match(refused, /TrustedUserCAKeys/);
    assert.match(orphan, /\/o-cert\.pub .* was not offered: its private key is in no identity file/);
  });

  it('property: any bytes, or a certificate with bytes changed, give an answer or a CertificateFormatError', () => {
    const good = buildCert({ key: host, ca, kind: 'host', principals: ['web1.corp'] });
    const kh = new KnownHosts('/kh', `@cert-authority * ssh-ed25519 ${ca.blob.toString('base64')}`);
    const mutated = fc
      .array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 })
      .map((edits) => {
        const b = Buffer.from(good);
        for (const [i, v] of edits) b[i] = v;
        return b;
      });
    const truncated = fc.nat(good.length).map((n) => good.subarray(0, n));
    const random = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a));
    fc.assert(
      fc.property(fc.oneof(mutated, truncated, random), (b) => {
        try {
          const c = parseCertificate(b);
          hostCertificateProblem(c, 'web1.corp', now);
        } catch (e) {
          assert.ok(e instanceof CertificateFormatError, String(e));
        }
        const v = kh.verdict('web1.corp', b, { principal: 'web1.corp', now });
        assert.ok(['known', 'unknown', 'certificate', 'changed', 'revoked'].includes(v.kind));
        if (v.kind === 'known' && v.ca)
          assert.ok(b.equals(good) || certificateSignatureProblem(parseCertificate(b)) === null);
      }),
      { seed: fuzzSeed(20261202), numRuns: fuzzRuns(400) },
    );
  });
});
