// 50 real sshd hosts: the concurrency bound holds end to end, and the pool reuses connections.
import assert from 'node:assert/strict';
import { fleet, scratchHome } from '../harness/cli';
import { SshFleet } from '../harness/sshFleet';
import { KeyStore } from '../../core/ssh/auth';
import { resolveTarget } from '../../core/targets/resolve';
import { HostKeyChecker } from '../../core/ssh/hostKeyPolicy';
import { KnownHosts } from '../../core/ssh/knownHosts';
import { SshPool } from '../../core/ssh/pool';

describe('50 hosts (real sshd)', function () {
  this.timeout(180_000);
  let f: SshFleet;
  before(async () => {
    f = await SshFleet.start(50);
  });
  after(async () => f?.stop());

  it('never runs more than --concurrency hosts at once', async () => {
    // every host reports when its command started and ended; overlap is counted from those
    const r = await fleet(
      [
        'run',
        ...f.hosts.map((h) => h.target),
        '--identity',
        f.clientKey,
        '--known-hosts',
        f.knownHostsFile,
        '--concurrency',
        '10',
        '--json',
        '--',
        'sh',
        '-c',
        'date +%s%N; sleep 0.3; date +%s%N',
      ],
      { home: scratchHome() },
    );
    assert.equal(r.code, 0, r.stderr);
    const spans = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).stdout.trim().split('\n').map(BigInt) as [bigint, bigint]);
    assert.equal(spans.length, 50);
    const events = spans
      .flatMap(
        ([a, b]) =>
          [
            [a, 1],
            [b, -1],
          ] as const,
      )
      .sort((x, y) => (x[0] === y[0] ? x[1] - y[1] : x[0] < y[0] ? -1 : 1));
    let now = 0;
    let peak = 0;
    for (const [, d] of events) peak = Math.max(peak, (now += d));
    assert.ok(peak <= 10, `peak ${peak} hosts at once`);
    assert.ok(peak >= 5, `peak ${peak}: the run was not concurrent at all`);
  });

  it('a second command to a host reuses its connection', async () => {
    const pool = new SshPool({
      hostKeys: new HostKeyChecker(new KnownHosts(f.knownHostsFile), 'strict'),
      keys: new KeyStore({ agentSocket: '' }),
    });
    try {
      const logBefore = f.hosts.map((h) => f.log(h).length);
      const eps = f.hosts.map((h) => resolveTarget(h.target, null, { identityFiles: [f.clientKey] }));
      const first = await Promise.all(eps.map((e) => pool.exec(e, 'echo one')));
      const second = await Promise.all(eps.map((e) => pool.exec(e, 'echo two')));
      assert.ok(first.every((r) => r.stdout === 'one\n') && second.every((r) => r.stdout === 'two\n'));
      assert.equal(pool.stats.connects - pool.stats.retries, 50);
      assert.equal(pool.stats.reuses, 50);
      const accepted = f.hosts.map(
        (h, i) =>
          (
            f
              .log(h)
              .slice(logBefore[i])
              .match(/Accepted publickey/g) ?? []
          ).length,
      );
      assert.ok(
        accepted.every((n) => n === 1),
        `logins per host: ${accepted.join(',')}`,
      );
    } finally {
      pool.close();
    }
  });

  it('keeps channels per connection under MaxSessions', async () => {
    const pool = new SshPool({
      hostKeys: new HostKeyChecker(new KnownHosts(f.knownHostsFile), 'strict'),
      keys: new KeyStore({ agentSocket: '' }),
    });
    try {
      const ep = resolveTarget(f.hosts[0].target, null, { identityFiles: [f.clientKey] });
      // 30 commands to one host at once: more than sshd's 10 sessions would fail with "Channel open failure"
      const rs = await Promise.all(Array.from({ length: 30 }, (_, i) => pool.exec(ep, `sleep 0.1; echo ${i}`)));
      assert.deepEqual(
        rs.map((r) => r.stdout),
        Array.from({ length: 30 }, (_, i) => `${i}\n`),
      );
      assert.equal(pool.stats.connects, 1);
    } finally {
      pool.close();
    }
  });
});
