// Fleet's patch of ssh2 (patches/ssh2+1.17.0.patch, applied at npm install / npm ci by
// patch-package) is in effect, and the ssh2 internals it and Fleet rely on are where they were.
// When ssh2 is upgraded this fails loudly, naming what moved: remake the patch for the new version
// (ARCHITECTURE.md, "SSH certificates"), or drop it if ssh2 took certificates upstream.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Client, utils, type ParsedKey } from 'ssh2';
import { certHostKeyAlgorithms, certifiedKey, plainAlgorithm, ssh2CanUseCertificates } from '../../core/ssh/ssh2Certs';
import { buildCert, sshKeyPair } from './sshKeys';

const source = (f: string) => readFileSync(require.resolve(`ssh2/lib/${f}`), 'utf8');

describe("ssh2's certificate patch", () => {
  it('is for the ssh2 installed (package.json pins it exactly)', () => {
    const installed = JSON.parse(readFileSync(require.resolve('ssh2/package.json'), 'utf8')).version;
    const pinned = JSON.parse(readFileSync('package.json', 'utf8')).dependencies.ssh2;
    assert.equal(pinned, installed, 'package.json must pin ssh2 exactly: the patch is for one version');
    assert.ok(
      readFileSync(`patches/ssh2+${installed}.patch`, 'utf8').includes('fleet patch'),
      `no patch for ssh2 ${installed}`,
    );
    assert.match(JSON.parse(readFileSync('package.json', 'utf8')).scripts.postinstall, /patch-package/);
  });

  it('is applied: host certificate algorithms can be asked for, never offered by default', () => {
    assert.ok(ssh2CanUseCertificates(), 'ssh2 is not patched: run npm ci (postinstall applies patches/)');
    assert.ok(certHostKeyAlgorithms.includes('ssh-ed25519-cert-v01@openssh.com'));
    assert.ok(certHostKeyAlgorithms.includes('rsa-sha2-512-cert-v01@openssh.com'));
    // ssh2 validates algorithms at connect(): a certificate algorithm must pass
    const c = new Client();
    c.on('error', () => {});
    assert.doesNotThrow(() =>
      c.connect({
        host: '127.0.0.1',
        port: 9,
        username: 'x',
        algorithms: { serverHostKey: [...certHostKeyAlgorithms] as never },
        hostVerifier: () => false,
      }),
    );
    c.end();
    // …and none of them is in the default offer
    const kex = source('protocol/constants.js');
    assert.match(kex, /const DEFAULT_SERVER_HOST_KEY = \[[^\]]*\];/);
    assert.doesNotMatch(/const DEFAULT_SERVER_HOST_KEY = \[([^\]]*)\];/.exec(kex)![1], /cert-v01/);
  });

  it('reads a certificate blob (what ssh-agent lists) as a key whose wire form is the certificate', () => {
    const ca = sshKeyPair('ed25519');
    const user = sshKeyPair('ed25519');
    const blob = buildCert({ key: user.blob, ca, kind: 'user' });
    const k = utils.parseKey(blob) as ParsedKey;
    assert.ok(!(k instanceof Error), String(k));
    assert.equal(k.type, 'ssh-ed25519-cert-v01@openssh.com');
    assert.ok(k.getPublicSSH().equals(blob));
  });

  it('names a certificate signature by the plain algorithm (authPK), and checks host certificates in kex', () => {
    assert.match(source('protocol/Protocol.js'), /const sigAlgo = certPlainAlgo\(keyAlgo\);/);
    assert.match(source('protocol/kex.js'), /sigType !== certPlainAlgo\(negotiated\.serverHostKey\)/);
    assert.match(source('client.js'), /case 'ssh-rsa-cert-v01@openssh\.com':/);
    assert.match(source('agent.js'), /pubKey\.type === 'ssh-rsa-cert-v01@openssh\.com'/);
    assert.equal(plainAlgorithm('rsa-sha2-256-cert-v01@openssh.com'), 'rsa-sha2-256');
  });

  it("a certified key is ssh2's parsed private key with the certificate's type and blob", () => {
    const ca = sshKeyPair('ed25519');
    const priv = utils.generateKeyPairSync('ed25519');
    const key = utils.parseKey(priv.private) as ParsedKey;
    const pub = key.getPublicSSH();
    const cert = buildCert({ key: pub, ca, kind: 'user' });
    const k = certifiedKey(key, 'ssh-ed25519-cert-v01@openssh.com', cert, 'f-cert.pub');
    assert.equal(utils.parseKey(k as never), k, 'ssh2 takes it as an already parsed key');
    assert.ok(k.isPrivateKey() && k.getPublicSSH().equals(cert) && k.type.endsWith('-cert-v01@openssh.com'));
    assert.ok(key.verify(Buffer.from('x'), k.sign(Buffer.from('x')) as Buffer), 'it signs with the private key');
  });
});
