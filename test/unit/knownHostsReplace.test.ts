// Replacing the pinned key of a host whose key changed (extension/knownHostsReplace.ts), checked
// against OpenSSH's own reading of the file: `ssh-keygen -F NAME` lists what ssh would trust after.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatLine, KnownHosts } from '../../core/ssh/knownHosts';
import { pinnedFor, replacePinnedKey } from '../../extension/knownHostsReplace';

function ed25519(): Buffer {
  const jwk = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }) as { x: string };
  const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return Buffer.concat([str(Buffer.from('ssh-ed25519')), str(Buffer.from(jwk.x, 'base64url'))]);
}

/** the keys ssh-keygen -F finds for `name` (base64), as OpenSSH reads the file */
function sshKeys(file: string, name: string): string[] {
  let out = '';
  try {
    out = execFileSync('ssh-keygen', ['-F', name, '-f', file], { encoding: 'utf8' });
  } catch {
    return []; // exit 1: nothing found
  }
  return out
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.trim().split(/\s+/).at(-1)!);
}

describe('replacing a changed host key', () => {
  const name = '[127.0.0.5]:2222';
  const other = 'web9.example';
  let file: string;
  let old: Buffer;
  let now: Buffer;
  let ca: Buffer;

  beforeEach(() => {
    file = join(mkdtempSync(join(tmpdir(), 'kh-')), 'known_hosts');
    old = ed25519();
    now = ed25519();
    ca = ed25519();
    writeFileSync(
      file,
      [
        '# a comment a person wrote',
        formatLine(name, old, false).trim(),
        `${other},${name} ssh-ed25519 ${old.toString('base64')}`,
        formatLine(name, old, true).trim(),
        `@cert-authority *.example ssh-ed25519 ${ca.toString('base64')}`,
        formatLine(other, ed25519(), false).trim(),
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
  });

  it('removes every pin of the old key for the host (plain, shared, hashed), keeps the rest, and pins the new one', () => {
    const kh = new KnownHosts(file);
    assert.equal(sshKeys(file, name).length, 3, 'ssh reads three pins of the old key');
    const otherBefore = sshKeys(file, other);
    assert.deepEqual(
      pinnedFor(kh, name, now).map((p) => p.lineNo),
      [2, 3, 4],
    );
    const r = replacePinnedKey(kh, name, now);
    assert.deepEqual(
      r.removed.map((x) => x.lineNo),
      [2, 3, 4],
    );
    assert.deepEqual(sshKeys(file, name), [now.toString('base64')], 'ssh now trusts only the new key');
    assert.deepEqual(sshKeys(file, other), otherBefore, 'the other host keeps its lines (the shared one too)');
    const text = readFileSync(file, 'utf8');
    assert.match(text, /^# a comment a person wrote\n/);
    assert.ok(text.includes(`@cert-authority *.example ssh-ed25519 ${ca.toString('base64')}`));
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(kh.verdict(name, now).kind, 'known');
  });

  it('refuses a key that is not a changed one, and a pin shared through a wildcard, changing nothing', () => {
    const kh = new KnownHosts(file);
    assert.throws(() => replacePinnedKey(kh, name, old), /not a changed one \(known\)/);
    writeFileSync(file, `[127.0.0.*]:2222 ssh-ed25519 ${old.toString('base64')}\n`, { mode: 0o600 });
    const before = readFileSync(file, 'utf8');
    assert.throws(
      () => replacePinnedKey(new KnownHosts(file), name, now),
      /through the pattern \[127\.0\.0\.\*\]:2222, which other hosts share/,
    );
    assert.equal(readFileSync(file, 'utf8'), before);
  });
});
