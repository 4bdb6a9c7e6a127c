// `fleet hostkeys scan`: keys of many real sshd hosts in one table, no login; --accept pins the
// new ones in OpenSSH format (ssh agrees), never a changed one.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fleet, scratchHome } from '../harness/cli';
import { SshFleet } from '../harness/sshFleet';

describe('fleet hostkeys scan (real sshd)', function () {
  this.timeout(60_000);
  let f: SshFleet;
  before(async () => {
    f = await SshFleet.start(10);
  });
  after(async () => f?.stop());

  it('prints one table of new fingerprints without logging in, and --accept pins them', async () => {
    const kh = join(scratchHome(), 'known_hosts');
    writeFileSync(kh, f.hosts[0].knownHostsLine + '\n');
    const before = f.hosts.map((h) => f.log(h).length);
    const r = await fleet(['hostkeys', 'scan', ...f.hosts.map((h) => h.target), '--known-hosts', kh]);
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout.trim().split('\n');
    assert.match(rows[0], /^HOST\s+STATUS\s+TYPE\s+FINGERPRINT$/);
    assert.equal(rows.length, 11);
    assert.match(rows[1], /known\s+ssh-ed25519\s+SHA256:/);
    assert.equal(rows.filter((l) => /\bnew\s+ssh-ed25519\s+SHA256:/.test(l)).length, 9);
    for (const [i, h] of f.hosts.entries()) {
      const log = await f.logSince(h, before[i]);
      assert.match(log, /SSH2_MSG_KEXINIT received/, `${h.target}: the scan's key exchange is in the log`);
      assert.doesNotMatch(log, /userauth-request|Accepted/, `${h.target} saw a login attempt`);
    }
    const a = await fleet(['hostkeys', 'scan', ...f.hosts.map((h) => h.target), '--known-hosts', kh, '--accept']);
    assert.equal(a.code, 0);
    assert.match(a.stderr, /pinned 9 new key\(s\)/);
    assert.equal(readFileSync(kh, 'utf8').trim().split('\n').length, 10);
    const h = f.hosts[5];
    execFileSync(
      'ssh',
      [
        '-o',
        `UserKnownHostsFile=${kh}`,
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        'BatchMode=yes',
        '-o',
        'GlobalKnownHostsFile=/dev/null',
        '-i',
        f.clientKey,
        '-p',
        String(h.port),
        `${f.loginName}@${h.address}`,
        'true',
      ],
      { stdio: 'pipe' },
    );
  });

  it('reports a changed key and never replaces it (exit 2)', async () => {
    const kh = join(scratchHome(), 'known_hosts');
    writeFileSync(kh, f.hosts[1].knownHostsLine + '\n');
    await f.rekey(f.hosts[1]);
    const r = await fleet(['hostkeys', 'scan', f.hosts[1].target, '--known-hosts', kh, '--accept']);
    assert.equal(r.code, 2);
    assert.match(r.stdout, /changed\s+ssh-ed25519/);
    assert.match(r.stderr, /key changed; not pinned\. If expected: ssh-keygen -f .* -R/);
    assert.equal(readFileSync(kh, 'utf8').trim().split('\n').length, 1);
  });
});
