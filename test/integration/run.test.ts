// `fleet run` against real sshd processes: grouping, exit codes, host keys, errors, deadlines.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, copyFileSync, chmodSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { killMatching, pidsMatching } from '../harness/agentProcess';
import { cliPath, fleet, scratchHome } from '../harness/cli';
import { waitFor } from '../harness/net';
import { keygen, SshFleet } from '../harness/sshFleet';

describe('fleet run (real sshd)', function () {
  this.timeout(120_000);
  let f: SshFleet;
  let home: string;
  const keyArgs = () => ['--identity', f.clientKey, '--known-hosts', f.knownHostsFile];

  before(async () => {
    f = await SshFleet.start(20);
    home = scratchHome();
  });
  after(async () => f?.stop());

  it('runs uname -a on 20 hosts: one group, exit 0, 20 ok', async () => {
    const r = await fleet(['run', ...f.hosts.map((h) => h.target), ...keyArgs(), '--', 'uname', '-a'], { home });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const headers = r.stdout.split('\n').filter((l) => l.startsWith('── '));
    assert.equal(headers.length, 1);
    assert.match(headers[0], /\(20 hosts, exit 0\)$/);
    assert.match(r.stdout, /^Linux /m);
    assert.equal(r.stdout.trim().split('\n').at(-1), '20 ok, 0 failed, 0 unreachable');
  });

  it('keeps each argument one word on the remote shell', async () => {
    const r = await fleet(['run', f.hosts[0].target, ...keyArgs(), '--', 'echo', 'a; b', '$(id)'], { home });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^a; b \$\(id\)$/m);
  });

  it('groups differing outputs and exit codes, and exits 1', async () => {
    // each host prints the last octet's parity and exits 1 on odd ones
    const hosts = f.hosts.slice(0, 6);
    const script = 'n=$(echo $SSH_CONNECTION | cut -d" " -f3 | cut -d. -f4); echo $((n % 2)); exit $((n % 2))';
    const r = await fleet(['run', ...hosts.map((h) => h.target), ...keyArgs(), '--json', '--', 'sh', '-c', script], {
      home,
    });
    assert.equal(r.code, 1);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(lines.length, 6);
    for (const l of lines) {
      const odd = Number(l.host.split(':')[0].split('.').at(-1)) % 2;
      assert.equal(l.exitCode, odd);
      assert.equal(l.stdout, `${odd}\n`);
      assert.equal(l.error, null);
      assert.equal(typeof l.durationMs, 'number');
    }
    const text = await fleet(['run', ...hosts.map((h) => h.target), ...keyArgs(), '--', 'sh', '-c', script], { home });
    assert.equal(text.stdout.split('\n').filter((l) => l.startsWith('── ')).length, 2);
    assert.match(text.stdout, /3 ok, 3 failed, 0 unreachable\n$/);
  });

  it('--stream prints each line as it arrives, prefixed with its host, then the summary', async () => {
    const hosts = f.hosts.slice(0, 3).map((h) => h.target);
    const script = 'for i in 1 2 3; do echo out-$i; echo err-$i >&2; sleep 0.1; done';
    const r = await fleet(['run', ...hosts, ...keyArgs(), '--stream', '--', 'sh', '-c', script], { home });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    for (const h of hosts) {
      const mine = r.stdout.split('\n').filter((l) => l.startsWith(`${h} | `));
      assert.deepEqual(
        mine,
        [1, 2, 3].map((i) => `${h} | out-${i}`),
        'each host its lines, in order',
      );
      assert.match(r.stderr, new RegExp(`^${h.replace(/[.]/g, '\\.')} \\| err-3$`, 'm'), 'stderr lines to stderr');
    }
    assert.equal(r.stdout.trim().split('\n').at(-1), '3 ok, 0 failed, 0 unreachable');
  });

  it('--stream runs until Ctrl-C, which stops every remote command (exit 130)', async () => {
    const hosts = f.hosts.slice(3, 5).map((h) => h.target);
    const marker = `fleet-stream-${process.pid}`;
    const child = spawn(
      process.execPath,
      [
        cliPath,
        'run',
        ...hosts,
        ...keyArgs(),
        '--stream',
        '--',
        'sh',
        '-c',
        `echo started; exec sleep 600 # ${marker}`,
      ],
      { env: { ...process.env, HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => child.on('close', (c) => r(c)));
    try {
      await waitFor(async () => assert.equal(out.split('\n').filter((l) => l.endsWith('| started')).length, 2), 30_000);
      // the remote commands (one per host) carry the marker, and so does this CLI's own argv
      const remote = () => pidsMatching(marker).filter((p) => p !== child.pid);
      await waitFor(async () => assert.equal(remote().length, 2), 10_000);
      child.kill('SIGINT');
      assert.equal(await exited, 130, out);
      assert.match(out, /0 ok, 2 failed, 0 unreachable \(stopped by Ctrl-C\)/);
      await waitFor(async () => assert.deepEqual(remote(), []), 10_000);
    } finally {
      child.kill('SIGKILL');
      killMatching(marker);
    }
  });

  it('keeps stdout and stderr apart', async () => {
    const r = await fleet(
      ['run', f.hosts[1].target, ...keyArgs(), '--json', '--', 'sh', '-c', 'echo out; echo err >&2'],
      { home },
    );
    const l = JSON.parse(r.stdout);
    assert.equal(l.stdout, 'out\n');
    assert.equal(l.stderr, 'err\n');
  });

  describe('host keys', () => {
    it('strict refuses an unknown host before any authentication is attempted', async () => {
      const h = f.hosts[2];
      const kh = join(home, 'empty_known_hosts');
      writeFileSync(kh, '');
      const before = f.log(h).length;
      const r = await fleet(
        ['run', h.target, '--identity', f.clientKey, '--known-hosts', kh, '--host-key-policy', 'strict', '--', 'true'],
        { home },
      );
      assert.equal(r.code, 2);
      assert.match(r.stdout, /unknown host key ssh-ed25519 SHA256:/);
      assert.equal(readFileSync(kh, 'utf8'), '');
      const log = await f.logSince(h, before);
      assert.match(log, /SSH2_MSG_KEXINIT received/, 'the key exchange took place');
      assert.match(log, /Disconnected from .*\[preauth\]/);
      assert.doesNotMatch(log, /userauth-request|Postponed|Accepted|Failed publickey|authenticating user/);
    });

    it('accept-new records the key in OpenSSH format so ssh agrees', async () => {
      const h = f.hosts[3];
      const kh = join(home, 'kh_accept');
      writeFileSync(kh, '');
      const r = await fleet(
        [
          'run',
          h.target,
          '--identity',
          f.clientKey,
          '--known-hosts',
          kh,
          '--host-key-policy',
          'accept-new',
          '--',
          'true',
        ],
        { home },
      );
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(readFileSync(kh, 'utf8'), h.knownHostsLine + '\n');
      assert.match(
        f.log(h),
        new RegExp(`userauth-request for user ${f.loginName} `),
        'sshd logs auth requests (so their absence above means something)',
      );
      // OpenSSH's own client accepts the file as written
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

    it('refuses a re-keyed host (exit 2) while the others succeed, and leaves known_hosts alone', async () => {
      const kh = join(home, 'kh_rekey');
      copyFileSync(f.knownHostsFile, kh);
      const victim = f.hosts[4];
      await f.rekey(victim);
      const before = readFileSync(kh, 'utf8');
      const targets = f.hosts.slice(4, 8).map((h) => h.target);
      const r = await fleet(
        [
          'run',
          ...targets,
          '--identity',
          f.clientKey,
          '--known-hosts',
          kh,
          '--host-key-policy',
          'accept-new',
          '--json',
          '--',
          'echo',
          'hi',
        ],
        { home },
      );
      assert.equal(r.code, 2);
      const lines = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      const bad = lines.find((l) => l.host === victim.target);
      assert.match(
        bad.error,
        /host key changed \(was ssh-ed25519 SHA256:.*, now ssh-ed25519 SHA256:.*ssh-keygen -f .* -R '\[.*\]:2222'/,
      );
      assert.equal(lines.filter((l) => l.stdout === 'hi\n').length, 3);
      assert.equal(readFileSync(kh, 'utf8'), before);
      f.writeKnownHosts();
    });
  });

  describe('errors', () => {
    it('a wrong key is an authentication failure, exit 2', async () => {
      const wrong = join(home, 'wrong_key');
      keygen(wrong, 'wrong');
      const r = await fleet(
        ['run', f.hosts[5].target, '--identity', wrong, '--known-hosts', f.knownHostsFile, '--', 'true'],
        { home },
      );
      assert.equal(r.code, 2);
      assert.match(r.stdout, /authentication failed for \S+@.*\(tried: identity files\); check --identity/);
      assert.match(r.stdout, /0 ok, 0 failed, 1 unreachable/);
    });

    it('a closed port is unreachable at once', async () => {
      // a deadline far beyond the harness's own (120 s, then SIGKILL and no exit code): only an
      // answer that did not wait for it exits 2, however slow the machine
      const target = `${f.loginName}@${f.hosts[0].address}:2999`;
      const r = await fleet(['run', target, ...keyArgs(), '--timeout', '3600', '--', 'true'], { home });
      assert.equal(r.code, 2, 'did not wait for the deadline');
      assert.match(r.stdout, /ECONNREFUSED/);
    });

    it('a TCP server that never speaks SSH times out at the deadline', async () => {
      const addr = f.hosts[0].address;
      const silent: Server = createServer(() => undefined);
      await new Promise<void>((res) => silent.listen(2998, addr, res));
      try {
        const r = await fleet(
          ['run', `${f.loginName}@${addr}:2998`, ...keyArgs(), '--timeout', '2', '--json', '--', 'true'],
          {
            home,
          },
        );
        assert.equal(r.code, 2);
        const l = JSON.parse(r.stdout);
        assert.match(l.error, /SSH handshake timed out after 2s/);
        assert.ok(l.durationMs >= 1900, `gave up after ${l.durationMs} ms`);
      } finally {
        silent.close();
      }
    });

    it('kills a command that passes --timeout, and the remote process is gone', async () => {
      const marker = `sleep ${600 + Math.floor(Math.random() * 300)}`;
      const pgrep = () => {
        try {
          return execFileSync('pgrep', ['-f', `^${marker}$`], { encoding: 'utf8' }).trim();
        } catch {
          return ''; // pgrep exits 1 when nothing matches
        }
      };
      const running = fleet(
        ['run', f.hosts[6].target, ...keyArgs(), '--timeout', '2', '--', 'sh', '-c', `${marker}; echo never`],
        { home },
      );
      // the remote process ran (so its absence below means it was killed)
      await waitFor(async () => assert.notEqual(pgrep(), ''), 10_000);
      const r = await running;
      assert.equal(r.code, 1);
      assert.match(r.stdout, /command timed out after 2s/);
      await waitFor(async () => assert.equal(pgrep(), '', `remote "${marker}" still runs`), 5_000);
    });

    it('a command past --timeout gets SIGTERM first: its cleanup runs (a lock file removed) before it ends', async () => {
      const tag = `cleanup-${process.pid}-${Date.now()}`;
      const lock = join(f.home, `${tag}.lock`);
      const cleaned = join(f.home, `${tag}.cleaned`);
      // the talk's case: a program holding a lock, which it removes when told to stop
      const script = `touch ${lock}; trap 'rm -f ${lock}; echo done > ${cleaned}; exit 143' TERM; sleep 600 & wait`;
      const r = await fleet(['run', f.hosts[7].target, ...keyArgs(), '--timeout', '2', '--', 'sh', '-c', script], {
        home,
      });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /command timed out after 2s/);
      await waitFor(async () => assert.equal(readFileSync(cleaned, 'utf8'), 'done\n'), 10_000);
      assert.throws(() => readFileSync(lock), /ENOENT/, 'the lock file was left behind');
    });

    it('a command that ignores SIGTERM is killed after --kill-after', async () => {
      const marker = `sleep ${1200 + Math.floor(Math.random() * 300)}`;
      const pgrep = () => pidsMatching(marker);
      const r = await fleet(
        [
          'run',
          f.hosts[8].target,
          ...keyArgs(),
          '--timeout',
          '2',
          '--kill-after',
          '1',
          '--',
          'sh',
          '-c',
          `trap '' TERM; ${marker}; echo never`,
        ],
        { home },
      );
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.doesNotMatch(r.stdout, /never/);
      await waitFor(async () => assert.deepEqual(pgrep(), [], `remote "${marker}" still runs`), 10_000);
    });

    it('Ctrl-C without --stream stops the remote commands the same way (SIGTERM first), then exit 130', async () => {
      const tag = `ctrlc-${process.pid}-${Date.now()}`;
      const cleaned = join(f.home, `${tag}.cleaned`);
      const sleeper = `sleep ${1600 + Math.floor(Math.random() * 300)}`;
      const child = spawn(
        process.execPath,
        [
          cliPath,
          'run',
          f.hosts[9].target,
          ...keyArgs(),
          '--',
          'sh',
          '-c',
          `trap 'echo done > ${cleaned}; exit 143' TERM; ${sleeper} & wait`,
        ],
        { env: { ...process.env, HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const exited = new Promise<number | null>((r) => child.on('close', (c) => r(c)));
      try {
        // started: the remote shell has set its trap and runs sleep
        await waitFor(async () => assert.ok(pidsMatching(sleeper).some((p) => p !== child.pid)), 30_000);
        child.kill('SIGINT');
        assert.equal(await exited, 130);
        await waitFor(async () => assert.equal(readFileSync(cleaned, 'utf8'), 'done\n'), 10_000);
      } finally {
        child.kill('SIGKILL');
      }
    });

    it('an unknown alias fails as unreachable naming it', async () => {
      const r = await fleet(['run', 'no-such-alias.invalid', ...keyArgs(), '--', 'true'], { home });
      assert.equal(r.code, 2);
      assert.match(r.stdout, /no-such-alias\.invalid.*ENOTFOUND/);
    });
  });

  it('resolves names from ~/.ssh/config', async () => {
    const h = f.hosts[7];
    const cfgHome = scratchHome();
    copyFileSync(f.clientKey, join(cfgHome, '.ssh', 'id_test'));
    chmodSync(join(cfgHome, '.ssh', 'id_test'), 0o600);
    writeFileSync(
      join(cfgHome, '.ssh', 'config'),
      `Host web7\n  HostName ${h.address}\n  Port ${h.port}\n  User ${f.loginName}\n  IdentityFile ~/.ssh/id_test\n`,
    );
    copyFileSync(f.knownHostsFile, join(cfgHome, '.ssh', 'known_hosts'));
    const r = await fleet(['run', 'web7', '--json', '--', 'echo', 'via-config'], { home: cfgHome });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(JSON.parse(r.stdout).host, 'web7');
    assert.equal(JSON.parse(r.stdout).stdout, 'via-config\n');
  });

  it('follows Include in ~/.ssh/config and skips an IdentityFile that does not exist, as ssh does', async () => {
    const h = f.hosts[8];
    const cfgHome = scratchHome();
    copyFileSync(f.clientKey, join(cfgHome, '.ssh', 'id_test'));
    chmodSync(join(cfgHome, '.ssh', 'id_test'), 0o600);
    mkdirSync(join(cfgHome, '.ssh', 'conf.d'));
    writeFileSync(
      join(cfgHome, '.ssh', 'config'),
      'Include conf.d/*.conf\nHost *\n  IdentityFile ~/.ssh/id_fleet\n  IdentityFile ~/.ssh/id_test\n',
    );
    writeFileSync(
      join(cfgHome, '.ssh', 'conf.d', 'db.conf'),
      `Host db1\n  HostName ${h.address}\n  User ${f.loginName}\n  Port ${h.port}\n`,
    );
    copyFileSync(f.knownHostsFile, join(cfgHome, '.ssh', 'known_hosts'));
    const r = await fleet(['run', 'db1', '--json', '--', 'echo', 'via-include'], {
      home: cfgHome,
      env: { FLEET_DEBUG: '1' },
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(JSON.parse(r.stdout).stdout, 'via-include\n');
    assert.match(r.stderr, /identity file .*id_fleet does not exist; skipped/);
  });

  it('takes hosts from an inventory group', async () => {
    const inv = join(home, 'fleet.json');
    writeFileSync(
      inv,
      JSON.stringify({
        defaults: { user: f.loginName, port: f.port, identityFile: f.clientKey },
        hosts: f.hosts
          .slice(0, 4)
          .map((h, i) => ({ name: `n${i}`, host: h.address, groups: i % 2 ? ['odd'] : ['even'] })),
      }),
    );
    const r = await fleet(
      ['run', '--inventory', inv, '--group', 'odd', '--known-hosts', f.knownHostsFile, '--json', '--', 'true'],
      { home },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).host),
      ['n1', 'n3'],
    );
  });
});
