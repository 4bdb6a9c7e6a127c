// ProxyJump lists from ~/.ssh/config followed as `ssh -J` follows them (real sshd, three hosts): the
// first hop is reached as a host of its own, each later hop through the hops before it, so a later
// hop's own ProxyJump is not followed; ssh:// URIs are hops like any; a list with a space after a
// comma is refused with its file and line, as OpenSSH 9.2 refuses it.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fleet, scratchHome } from '../harness/cli';
import { SshFleet } from '../harness/sshFleet';

describe('ProxyJump lists as ssh -J follows them (real sshd)', function () {
  this.timeout(60_000);
  let f: SshFleet;
  before(async () => (f = await SshFleet.start(3)));
  after(async () => f?.stop());

  const home = (extra: string[] = []) => {
    const h = scratchHome();
    const [a, b, c] = f.hosts;
    writeFileSync(
      join(h, '.ssh', 'config'),
      [
        'Host hopa',
        `  HostName ${a.address}`,
        'Host hopb',
        `  HostName ${b.address}`,
        '  # reached as the second hop of a list, hopb is not reached through this',
        '  ProxyJump nowhere',
        'Host nowhere',
        '  HostName 127.0.0.1',
        '  Port 1',
        'Host target',
        `  HostName ${c.address}`,
        '  ProxyJump hopa,hopb',
        'Host uri-target',
        `  HostName ${c.address}`,
        `  ProxyJump ssh://${f.loginName}@${a.address}:${f.port},ssh://${b.address}`,
        ...extra,
        'Host *',
        `  Port ${f.port}`,
        `  User ${f.loginName}`,
        `  IdentityFile ${f.clientKey}`,
      ].join('\n') + '\n',
    );
    writeFileSync(join(h, '.ssh', 'known_hosts'), f.hosts.map((x) => x.knownHostsLine).join('\n') + '\n');
    return h;
  };

  const forwarded = async (from: number, to: number, offset: number) =>
    (await f.logSince(f.hosts[from], offset)).includes(
      `direct_tcpip: originator 127.0.0.1 port 0, target ${f.hosts[to].address} port ${f.port}`,
    );

  it("a later hop's own ProxyJump is not followed: A, then B, then the target", async () => {
    const logA = f.log(f.hosts[0]).length;
    const logB = f.log(f.hosts[1]).length;
    const r = await fleet(['run', 'target', '--json', '--', 'echo', 'through-a-and-b'], { home: home() });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(JSON.parse(r.stdout).stdout, 'through-a-and-b\n');
    assert.ok(await forwarded(0, 1, logA), 'A forwarded to B');
    assert.ok(await forwarded(1, 2, logB), 'B forwarded to the target');
  });

  it('ssh:// URIs with a user and a port are hops', async () => {
    const logA = f.log(f.hosts[0]).length;
    const r = await fleet(['run', 'uri-target', '--json', '--', 'echo', 'via-uris'], { home: home() });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(JSON.parse(r.stdout).stdout, 'via-uris\n');
    assert.ok(await forwarded(0, 1, logA), 'A forwarded to B');
  });

  it('a space after a comma is refused with the file and line, as ssh refuses it (exit 65)', async () => {
    const h = home(['Host spaced', '  ProxyJump hopa, hopb']);
    const r = await fleet(['run', 'spaced', '--', 'true'], { home: h });
    assert.equal(r.code, 65, r.stdout + r.stderr);
    assert.match(r.stderr, new RegExp(`${join(h, '.ssh', 'config')}: line 17: Invalid ProxyJump "hopa, hopb"`));
  });
});
