// `fleet ping` and `fleet scan` against loopback, a network namespace the test makes, and sshd.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fleet, scratchHome } from '../harness/cli';
import { SshFleet } from '../harness/sshFleet';

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'pipe' });
}

describe('fleet ping', function () {
  this.timeout(60_000);

  it('prints the seed format for hosts from arguments, exit 0 when all are alive', async () => {
    const r = await fleet(['ping', '127.0.0.1', '127.0.0.2']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, 'host(127.0.0.1) is alive: true\nhost(127.0.0.2) is alive: true\n');
  });

  it('reads hosts from stdin, --json with rttMs', async () => {
    const r = await fleet(['ping', '--json'], { input: '127.0.0.1\n\n127.0.0.3\n' });
    assert.equal(r.code, 0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.host).sort(), ['127.0.0.1', '127.0.0.3']);
    assert.ok(lines.every((l) => l.alive === true && typeof l.rttMs === 'number'));
  });

  it('an address in a network namespace is alive, then not once the namespace is gone', async () => {
    const ns = `fleet-ping-${process.pid}`;
    const [a, b] = [`fp${process.pid % 100000}a`, `fp${process.pid % 100000}b`];
    const [hostAddr, nsAddr] = ['169.254.77.1', '169.254.77.2'];
    ip('netns', 'add', ns);
    try {
      ip('link', 'add', a, 'type', 'veth', 'peer', 'name', b);
      ip('link', 'set', b, 'netns', ns);
      ip('addr', 'add', `${hostAddr}/30`, 'dev', a);
      ip('link', 'set', a, 'up');
      ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${nsAddr}/30`, 'dev', b);
      ip('netns', 'exec', ns, 'ip', 'link', 'set', b, 'up');
      const alive = await fleet(['ping', '--timeout', '2', nsAddr]);
      assert.equal(alive.stdout, `host(${nsAddr}) is alive: true\n`);
      assert.equal(alive.code, 0);
    } finally {
      ip('netns', 'del', ns);
      try {
        ip('link', 'del', a);
      } catch {
        // removed with the namespace's peer
      }
    }
    const dead = await fleet(['ping', '--timeout', '1', nsAddr]);
    assert.equal(dead.stdout, `host(${nsAddr}) is alive: false\n`);
    assert.equal(dead.code, 1);
  });

  it('without ping installed, fails naming the program and its package', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'nopath-'));
    symlinkSync(process.execPath, join(bin, 'node'));
    const r = await fleet(['ping', '127.0.0.1'], { env: { PATH: bin } });
    assert.equal(r.code, 69);
    assert.match(r.stderr, /cannot find ping in PATH; install it \(Debian: apt-get install iputils-ping\)/);
  });
});

describe('fleet scan', function () {
  this.timeout(120_000);
  let f: SshFleet;
  const third = 1 + (process.pid % 200);
  before(async () => {
    f = await SshFleet.start(3, { subnet: `127.201.${third}`, firstHost: 3 });
  });
  after(async () => f?.stop());

  it('gives seed records in address order, logging in where sshd answers', async () => {
    const r = await fleet(
      [
        'scan',
        `127.201.${third}.0/27`,
        '--port',
        '2222',
        '--user',
        f.loginName,
        '--identity',
        f.clientKey,
        '--known-hosts',
        f.knownHostsFile,
      ],
      { home: scratchHome() },
    );
    assert.equal(r.code, 0, r.stderr);
    const recs = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(recs.length, 32);
    assert.deepEqual(
      recs.map((x) => x.Host),
      Array.from({ length: 32 }, (_, i) => `127.201.${third}.${i}`),
    );
    for (const x of recs) {
      const withSshd = [3, 4, 5].includes(Number(x.Host.split('.')[3]));
      assert.equal(x.Reachable, true);
      assert.equal(x.LoginSSH, withSshd, x.Host);
      if (withSshd) assert.match(x.Uname, /^Linux /);
      else assert.equal(x.Uname, '');
    }
  });
});
