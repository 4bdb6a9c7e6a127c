// Jump hosts: a 2-hop ProxyJump chain through harness hosts, with the host key checked at every
// hop; a changed key on the middle hop is refused before anything is sent to it.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fleet, scratchHome } from '../harness/cli';
import { SshFleet } from '../harness/sshFleet';

describe('jump hosts (real sshd)', function () {
  this.timeout(60_000);
  let f: SshFleet;
  before(async () => {
    f = await SshFleet.start(3);
  });
  after(async () => f?.stop());

  const [a, b, c] = [0, 1, 2];
  const flags = () => ['--identity', f.clientKey, '--known-hosts', f.knownHostsFile];

  it('runs a command through two hops (--jump A,B); each hop forwards to the next', async () => {
    const logA = f.log(f.hosts[a]).length;
    const logB = f.log(f.hosts[b]).length;
    const r = await fleet(
      [
        'run',
        f.hosts[c].target,
        '--jump',
        `${f.hosts[a].target},${f.hosts[b].target}`,
        ...flags(),
        '--',
        'echo',
        'via-jumps',
      ],
      { home: scratchHome() },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /via-jumps/);
    // sshd logs each direct-tcpip request: A was asked for B, and B for C
    assert.ok(
      (await f.logSince(f.hosts[a], logA)).includes(
        `direct_tcpip: originator 127.0.0.1 port 0, target ${f.hosts[b].address} port ${f.port}`,
      ),
      'A forwarded to B',
    );
    assert.ok(
      (await f.logSince(f.hosts[b], logB)).includes(
        `direct_tcpip: originator 127.0.0.1 port 0, target ${f.hosts[c].address} port ${f.port}`,
      ),
      'B forwarded to C',
    );
  });

  it('takes the chain from ~/.ssh/config ProxyJump', async () => {
    const home = scratchHome();
    const cfg = [
      `Host hopa`,
      `  HostName ${f.hosts[a].address}`,
      `  Port ${f.port}`,
      `  User root`,
      `Host hopb`,
      `  HostName ${f.hosts[b].address}`,
      `  Port ${f.port}`,
      `  User root`,
      `  ProxyJump hopa`,
      `Host target`,
      `  HostName ${f.hosts[c].address}`,
      `  Port ${f.port}`,
      `  User root`,
      `  ProxyJump hopb`,
    ].join('\n');
    writeFileSync(join(home, '.ssh', 'config'), cfg + '\n');
    const r = await fleet(['run', 'target', ...flags(), '--json', '--', 'echo', 'configured'], { home });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(JSON.parse(r.stdout).stdout, 'configured\n');
  });

  it('refuses a changed key on the middle hop, sending it no credential (exit 2)', async () => {
    const kh = join(scratchHome(), 'known_hosts');
    writeFileSync(kh, f.hosts.map((h) => h.knownHostsLine + '\n').join(''));
    await f.rekey(f.hosts[b]);
    const logB = f.log(f.hosts[b]).length;
    const logC = f.log(f.hosts[c]).length;
    const r = await fleet(
      [
        'run',
        f.hosts[c].target,
        '--jump',
        `${f.hosts[a].target},${f.hosts[b].target}`,
        '--identity',
        f.clientKey,
        '--known-hosts',
        kh,
        '--json',
        '--',
        'true',
      ],
      { home: scratchHome() },
    );
    assert.equal(r.code, 2, r.stdout + r.stderr);
    const err = JSON.parse(r.stdout).error as string;
    assert.match(err, new RegExp(`host ${f.hosts[b].target.replace(/\./g, '\\.')}: host key changed`));
    const seenByB = await f.logSince(f.hosts[b], logB);
    assert.match(seenByB, /SSH2_MSG_KEXINIT received/, 'B was contacted');
    assert.doesNotMatch(seenByB, /userauth-request|Accepted/);
    assert.doesNotMatch(await f.logSince(f.hosts[c], logC), /Connection from/, 'the target was never contacted');
    f.writeKnownHosts();
  });
});
