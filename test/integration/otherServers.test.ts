// SSH setups no one here wrote: Dropbear hosts (a POSIX sh user, a busybox ash user, one without an
// SFTP server) and OpenSSH users whose login shell is not POSIX (fish, tcsh). Commands keep their
// words, --timeout ends the remote work on every server, push falls back to an exec channel where
// there is no SFTP and says so, expect answers prompts, the Fleet view's probe reads each host.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeHost } from '../../core/hosts/probe';
import { KeyStore } from '../../core/ssh/auth';
import { HostKeyChecker } from '../../core/ssh/hostKeyPolicy';
import { KnownHosts } from '../../core/ssh/knownHosts';
import { SshPool } from '../../core/ssh/pool';
import { resolveTarget } from '../../core/targets/resolve';
import { shellQuote } from '../../core/ssh/quote';
import { pidsMatching } from '../harness/agentProcess';
import { fleet, scratchHome } from '../harness/cli';
import { DropbearHost } from '../harness/dropbearHost';
import { freePort, waitFor } from '../harness/net';
import { keygen, SshFleet } from '../harness/sshFleet';
import { createTestUser, type TestUser } from '../harness/testUser';

describe('other SSH servers and login shells (real Dropbear, real sshd)', function () {
  this.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'other-'));
  chmodSync(dir, 0o755);
  const clientKey = join(dir, 'client');
  keygen(clientKey, 'other-servers');
  const users: TestUser[] = [];
  const hosts: Record<string, { target: string; line: string }> = {};
  let dropbears: DropbearHost[] = [];
  let openssh: SshFleet;
  const knownHosts = join(dir, 'known_hosts');

  before(async () => {
    // busybox ash as a login shell: a link named ash (busybox picks the applet by name)
    const ash = join(dir, 'ash');
    symlinkSync(execFileSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).trim(), ash);
    // Dropbear takes only the login shells /etc/shells lists (as OpenWrt's does)
    appendFileSync('/etc/shells', `${ash}\n`);
    const shells: Array<[string, string]> = [
      ['fleetdbsh', '/bin/sh'],
      ['fleetdbash', ash],
      ['fleetdbnosftp', '/bin/sh'],
      ['fleetfish', '/usr/bin/fish'],
      ['fleettcsh', '/usr/bin/tcsh'],
    ];
    for (const [name, shell] of shells) users.push(createTestUser(name, shell));
    const [sh, ash2, nosftp, fish, tcsh] = users;
    const base = `127.${120 + (process.pid % 50)}.${Math.floor(Math.random() * 200)}`;
    dropbears = await Promise.all(
      [
        [sh, 10, false],
        [ash2, 11, false],
        [nosftp, 12, true],
      ].map(async ([u, last, noSftp]) =>
        DropbearHost.start({
          address: `${base}.${last}`,
          port: await freePort(),
          user: u as TestUser,
          clientKey,
          noSftp: noSftp as boolean,
        }),
      ),
    );
    hosts.dropbear = { target: dropbears[0].target, line: dropbears[0].knownHostsLine };
    hosts.ash = { target: dropbears[1].target, line: dropbears[1].knownHostsLine };
    hosts.nosftp = { target: dropbears[2].target, line: dropbears[2].knownHostsLine };
    // OpenSSH with per-user authorized_keys, for the fish and tcsh users
    openssh = await SshFleet.start(1, { extraConfig: ['AuthorizedKeysFile %h/.ssh/authorized_keys'] });
    for (const u of [fish, tcsh]) u.authorize(clientKey);
    const h = openssh.hosts[0];
    hosts.fish = { target: `${fish.name}@${h.address}:${h.port}`, line: h.knownHostsLine };
    hosts.tcsh = { target: `${tcsh.name}@${h.address}:${h.port}`, line: h.knownHostsLine };
    writeFileSync(knownHosts, [...new Set(Object.values(hosts).map((x) => x.line))].join('\n') + '\n');
  });
  after(async () => {
    await Promise.all(dropbears.map((d) => d.stop()));
    await openssh?.stop();
    for (const u of users) u.remove();
    writeFileSync(
      '/etc/shells',
      readFileSync('/etc/shells', 'utf8')
        .split('\n')
        .filter((l) => !l.startsWith(dir))
        .join('\n'),
    );
  });

  const flags = () => ['--identity', clientKey, '--known-hosts', knownHosts, '--host-key-policy', 'strict'];
  const all = ['dropbear', 'ash', 'nosftp', 'fish', 'tcsh'];

  it('runs a command on every kind of host, each argument one word', async () => {
    for (const k of all) {
      const r = await fleet(
        [
          'run',
          hosts[k].target,
          ...flags(),
          '--json',
          '--',
          'printf',
          '%s|',
          'a; b',
          '$HOME',
          "it's",
          'back\\slash',
          'x!y',
        ],
        { home: scratchHome() },
      );
      assert.equal(r.code, 0, `${k}: ${r.stdout}${r.stderr}`);
      assert.equal(JSON.parse(r.stdout).stdout, "a; b|$HOME|it's|back\\slash|x!y|", k);
    }
  });

  it('--timeout ends the remote command on every server and shell', async () => {
    for (const k of all) {
      const marker = `${700 + Math.floor(Math.random() * 200)}`;
      const running = fleet(
        ['run', hosts[k].target, ...flags(), '--timeout', '2', '--', 'sh', '-c', `sleep ${marker}; echo never`],
        { home: scratchHome() },
      );
      await waitFor(
        async () => assert.ok(pidsMatching(`sleep ${marker}`).length > 0, `${k}: the command runs`),
        15_000,
      );
      const r = await running;
      assert.equal(r.code, 1, `${k}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /command timed out after 2s/, k);
      await waitFor(
        async () => assert.deepEqual(pidsMatching(`sleep ${marker}`), [], `${k}: the remote sleep is gone`),
        5_000,
      );
    }
  });

  it('push: SFTP where the server has it, an exec channel where it does not, saying which; sha256 checked either way', async () => {
    const file = join(dir, 'payload.bin');
    writeFileSync(file, Buffer.alloc(300_000, 7));
    const sftp = await fleet(['push', hosts.dropbear.target, file, '~/payload.bin', ...flags()], {
      home: scratchHome(),
    });
    assert.equal(sftp.code, 0, sftp.stdout + sftp.stderr);
    assert.doesNotMatch(sftp.stdout, /exec channel/);
    const exec = await fleet(['push', hosts.nosftp.target, file, '~/payload.bin', ...flags()], { home: scratchHome() });
    assert.equal(exec.code, 0, exec.stdout + exec.stderr);
    assert.match(exec.stdout, /over an exec channel: the host has no SFTP/);
    for (const u of [users[0], users[2]])
      assert.ok(readFileSync(join(u.home, 'payload.bin')).equals(readFileSync(file)), u.name);
    const json = await fleet(['push', hosts.nosftp.target, file, '~/again.bin', ...flags(), '--json'], {
      home: scratchHome(),
    });
    assert.equal(JSON.parse(json.stdout).via, 'exec');
  });

  it('expect answers a prompt on Dropbear and under fish, and its deadline ends the remote program', async () => {
    const script = join(dir, 'ask.json');
    writeFileSync(
      script,
      JSON.stringify({
        command: 'printf "Continue? [Y/n] "; read a; echo "answer=$a"',
        steps: [{ expect: '[Y/n]', send: 'Y\n' }, { expect: 'answer=Y' }],
      }),
    );
    for (const k of ['dropbear', 'ash', 'fish']) {
      const r = await fleet(['expect', hosts[k].target, script, ...flags()], { home: scratchHome() });
      assert.equal(r.code, 0, `${k}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /answer=Y/);
      assert.doesNotMatch(r.stdout, /FLEET-PID/, `${k}: the pid report is not part of the transcript`);
    }
    const marker = `${910 + Math.floor(Math.random() * 80)}`;
    const slow = join(dir, 'slow.json');
    writeFileSync(
      slow,
      JSON.stringify({ command: `sleep ${marker}`, timeoutSecs: 1, steps: [{ expect: 'never printed' }] }),
    );
    const r = await fleet(['expect', hosts.dropbear.target, slow, ...flags()], { home: scratchHome() });
    assert.equal(r.code, 1);
    await waitFor(async () => assert.deepEqual(pidsMatching(`sleep ${marker}`), []), 5_000);
  });

  it("the Fleet view's probe reads Dropbear hosts and non-POSIX login shells", async () => {
    const keys = new KeyStore({ agentSocket: '' });
    const pool = new SshPool({ hostKeys: new HostKeyChecker(new KnownHosts(knownHosts), 'strict'), keys });
    try {
      for (const k of all) {
        const ep = resolveTarget(hosts[k].target, null, { identityFiles: [clientKey] });
        const p = await probeHost(pool, ep, 20_000);
        assert.ok(p.ok, `${k}: ${JSON.stringify(p)}`);
        assert.match(p.probe.uname, /^Linux /, k);
        assert.ok(p.probe.memTotalBytes && p.probe.memTotalBytes > 0, k);
      }
    } finally {
      pool.close();
    }
  });

  it("a kept shell (the Fleet view's pool) runs commands on every kind of host as exec does, and outlives a timeout", async () => {
    const keys = new KeyStore({ agentSocket: '' });
    const pool = new SshPool({
      hostKeys: new HostKeyChecker(new KnownHosts(knownHosts), 'strict'),
      keys,
      keepShell: true,
    });
    try {
      for (const k of all) {
        const ep = resolveTarget(hosts[k].target, null, { identityFiles: [clientKey] });
        const run = (cmd: string, timeoutMs = 20_000) => pool.exec(ep, cmd, { timeoutMs });
        assert.equal((await run('true')).exitCode, 0, k); // a connection's first command: an exec
        const words = ['a; b', '$HOME', "it's", 'back\\slash', 'x!y'];
        const r = await run(`printf '%s|' ${words.map(shellQuote).join(' ')}`);
        assert.deepEqual([r.exitCode, r.stdout], [0, "a; b|$HOME|it's|back\\slash|x!y|"], `${k}: ${r.stderr}`);
        // the same shell answers: $$ is the kept shell's pid in every command
        const pid = (await run('echo $$')).stdout;
        assert.equal((await run('echo $$')).stdout, pid, k);
        // a command's cd and exports stay its own; its stdin is empty
        assert.equal((await run('cd / && export FLEET_X=1 && pwd')).stdout, '/\n', k);
        assert.equal((await run('[ "$(pwd)" != / ] && echo "${FLEET_X-unset}"')).stdout, 'unset\n', k);
        assert.equal((await run('cat; echo eof')).stdout, 'eof\n', k);
        const r2 = await run('echo out; echo err >&2; exit 7');
        assert.deepEqual([r2.exitCode, r2.stdout, r2.stderr], [7, 'out\n', 'err\n'], k);
        // past its time the command and what it started are killed; the shell goes on
        const marker = `${700 + Math.floor(Math.random() * 200)}.${k.length}`;
        await assert.rejects(run(`sh -c 'sleep ${marker}; echo never'`, 1500), /timed out/, k);
        await waitFor(
          async () => assert.deepEqual(pidsMatching(`sleep ${marker}`), [], `${k}: the remote sleep is gone`),
          5_000,
        );
        assert.equal((await run('echo $$')).stdout, pid, `${k}: the same shell after the timeout`);
      }
    } finally {
      pool.close();
    }
  });
});
