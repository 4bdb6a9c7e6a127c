// `fleet push`: a 50 MB file to 20 real sshd hosts, sha256 verified on each; a corrupted upload
// (the host's sha256 disagrees) is detected, removed, and leaves the target unchanged.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fleet, scratchHome } from '../harness/cli';
import { SshFleet } from '../harness/sshFleet';

describe('fleet push (real sshd)', function () {
  this.timeout(180_000);
  let f: SshFleet;
  const work = mkdtempSync(join(tmpdir(), 'push-'));
  const fakeBin = join(work, 'fakebin');
  const homes: string[] = [];

  before(async () => {
    // a sha256sum that lies, on the PATH of host 20 only: what a corrupted upload looks like from here
    mkdirSync(fakeBin);
    chmodSync(work, 0o755); // the hosts' login user runs the lying sha256sum
    writeFileSync(join(fakeBin, 'sha256sum'), `#!/bin/sh\necho "${'0'.repeat(64)}  $1"\n`);
    chmodSync(join(fakeBin, 'sha256sum'), 0o755);
    f = await SshFleet.start(21, {
      hostConfig: (i, dir, fleet) => {
        homes[i] = fleet.userDir(join(dir, 'home'));
        return [`SetEnv HOME=${homes[i]}${i === 20 ? ` PATH=${fakeBin}:/usr/bin:/bin` : ''}`];
      },
    });
  });
  after(async () => f?.stop());

  it('pushes 50 MB to 20 hosts and each host has the exact bytes', async () => {
    const local = join(work, 'big.bin');
    writeFileSync(local, randomBytes(50 * 1024 * 1024));
    const sha = createHash('sha256').update(readFileSync(local)).digest('hex');
    const targets = f.hosts.slice(0, 20).map((h) => h.target);
    const r = await fleet(
      [
        'push',
        ...targets,
        local,
        '~/big.bin',
        '--identity',
        f.clientKey,
        '--known-hosts',
        f.knownHostsFile,
        '--json',
        '--concurrency',
        '10',
      ],
      { home: scratchHome() },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(lines.length, 20);
    assert.ok(lines.every((l) => l.error === null && l.sha256 === sha && l.bytes === 50 * 1024 * 1024));
    for (let i = 0; i < 20; i++) {
      const got = createHash('sha256')
        .update(readFileSync(join(homes[i], 'big.bin')))
        .digest('hex');
      assert.equal(got, sha, `host ${i}`);
      assert.deepEqual(
        readdirSync(homes[i]).filter((n) => n.includes('.fleet-')),
        [],
        'no temporary file left',
      );
    }
  });

  it('detects a corrupted upload, removes it and leaves the target unchanged (exit 1)', async () => {
    const local = join(work, 'small.bin');
    writeFileSync(local, 'new content\n');
    writeFileSync(join(homes[20], 'small.bin'), 'old content\n');
    const r = await fleet(
      ['push', f.hosts[20].target, local, '~/small.bin', '--identity', f.clientKey, '--known-hosts', f.knownHostsFile],
      { home: scratchHome() },
    );
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /FAILED: .*small\.bin: the copy on the host hashes to 0{64}, expected [0-9a-f]{64}; the upload was corrupted and was removed, .*small\.bin is unchanged/,
    );
    assert.equal(readFileSync(join(homes[20], 'small.bin'), 'utf8'), 'old content\n');
    assert.deepEqual(
      readdirSync(homes[20]).filter((n) => n.includes('.fleet-')),
      [],
    );
  });
});
