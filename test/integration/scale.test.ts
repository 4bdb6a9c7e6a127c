// 50 real sshd hosts: the concurrency bound holds end to end, and the pool reuses connections.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

  it('never runs more than --concurrency hosts at once, and does run that many', async () => {
    // Each command checks in at a barrier on this machine (the hosts share its disk) and waits there
    // until its group of 10 has arrived: only a run that really keeps 10 hosts going at once gets
    // past it, however slow the machine, and a run that keeps more than 10 shows it in the spans.
    // A command that waits 60 s gives up with exit 3, so a run that is not concurrent fails, not hangs.
    const barrier = mkdtempSync(join(tmpdir(), 'barrier-'));
    chmodSync(barrier, 0o777);
    const script = [
      'date +%s%N',
      'k=1; while ! mkdir "$B/$k" 2>/dev/null; do k=$((k+1)); done', // my place in the order of arrival
      'need=$(( (k + 9) / 10 * 10 ))',
      'n=0; while [ "$(ls "$B" | wc -l)" -lt "$need" ]; do n=$((n+1)); [ $n -gt 1200 ] && exit 3; sleep 0.05; done',
      'date +%s%N',
    ].join('\n');
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
        'env',
        `B=${barrier}`,
        'sh',
        '-c',
        script,
      ],
      { home: scratchHome() },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
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
    // every group of 10 met at the barrier, so 10 were running at once; more would show as a higher peak
    assert.equal(peak, 10, `peak ${peak} hosts at once`);
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
      // 30 commands to one host at once, 5 times: more than sshd's 10 sessions would fail with "Channel
      // open failure"; so would a channel opened just after another closed, while sshd still counts the
      // closed one ("no more sessions" in its log: it frees sessions lazily), unless that open is retried
      for (let round = 0; round < 5; round++) {
        const rs = await Promise.all(Array.from({ length: 30 }, (_, i) => pool.exec(ep, `sleep 0.1; echo ${i}`)));
        assert.deepEqual(
          rs.map((r) => r.stdout),
          Array.from({ length: 30 }, (_, i) => `${i}\n`),
        );
      }
      assert.equal(pool.stats.connects, 1);
    } finally {
      pool.close();
    }
  });
});
