// ServerAliveCountMax and ConnectionAttempts, acted on as OpenSSH 9.2 acts on them (issue 27), counted
// rather than timed: the same config given to `ssh` and to Fleet.
// - ServerAliveCountMax: a proxy between the client and a real sshd stops passing anything on once
//   the client is logged in, and counts what the client still sends: ssh and Fleet each send that many
//   keepalives, then give the connection up.
// - ConnectionAttempts: in a network namespace of its own (unshare -n), where the kernel's count of
//   TCP connections opened (ActiveOpens in /proc/net/snmp) is theirs alone, each tries an address
//   that refuses that many times. A server that accepts and then drops the connection is another
//   failure: ssh gives up at once, Fleet's pool retries it on its own count (sshd's MaxStartups), and
//   ConnectionAttempts does not multiply that (core/ssh/pool.ts says why).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyStore } from '../../core/ssh/auth';
import { connect } from '../../core/ssh/connect';
import { HostKeyChecker } from '../../core/ssh/hostKeyPolicy';
import { KnownHosts } from '../../core/ssh/knownHosts';
import { SshConfig } from '../../core/ssh/sshConfig';
import { resolveTarget } from '../../core/targets/resolve';
import { cliPath, fleet, scratchHome } from '../harness/cli';
import { waitFor } from '../harness/net';
import { requireSshClient, writeConfig } from '../harness/sshAndFleet';
import { SshFleet } from '../harness/sshFleet';

/** a TCP proxy to `host:port` that, once frozen, passes nothing on and records what the client sends */
function freezingProxy(host: string, port: number) {
  const sent: number[] = [];
  let frozen = false;
  let clientClosed = false;
  const sockets = new Set<Socket>();
  const server: Server = createServer((c) => {
    const up = tcpConnect(port, host);
    for (const s of [c, up]) {
      sockets.add(s);
      s.on('error', () => undefined);
    }
    c.on('data', (b) => (frozen ? sent.push(b.length) : up.write(b)));
    up.on('data', (b) => frozen || c.write(b));
    c.on('close', () => ((clientClosed = true), up.destroy()));
  });
  return {
    listen: () =>
      new Promise<number>((r) => server.listen(0, '127.0.0.1', () => r((server.address() as { port: number }).port))),
    freeze: () => void (frozen = true),
    /** waits (bounded) until the client closes its end; then how many packets it sent after the freeze */
    async keepalivesSent(): Promise<number> {
      await waitFor(async () => assert.ok(clientClosed, 'the client still holds the connection'), 60_000);
      if (sent.length === 0) return 0;
      // one keepalive per read, unless reads coalesced: every keepalive packet has the same size
      const one = Math.min(...sent);
      assert.ok(
        sent.every((s) => s % one === 0),
        `packets of other sizes than keepalives: ${sent}`,
      );
      return sent.reduce((a, b) => a + b, 0) / one;
    },
    close: () => (server.close(), sockets.forEach((s) => s.destroy())),
  };
}

describe('ServerAliveCountMax and ConnectionAttempts: Fleet acts as ssh does (counted, never timed)', function () {
  this.timeout(120_000);
  let f: SshFleet;
  let dir: string;
  let n = 0;

  before(async () => {
    requireSshClient();
    f = await SshFleet.start(1);
    dir = mkdtempSync(join(tmpdir(), 'ssh-retries-'));
  });
  after(async () => {
    await f?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('ServerAliveCountMax (ServerAliveInterval 1), a server that stops answering once logged in', () => {
    const cfgThrough = (port: number, countMax: number) =>
      writeConfig(dir, `config${n++}`, [
        'Host t',
        '  HostName 127.0.0.1',
        `  Port ${port}`,
        `  HostKeyAlias ${f.hosts[0].knownHostsLine.split(' ')[0]}`,
        `  User ${f.loginName}`,
        `  IdentityFile ${f.clientKey}`,
        '  IdentitiesOnly yes',
        `  UserKnownHostsFile ${f.knownHostsFile}`,
        '  GlobalKnownHostsFile none',
        '  ServerAliveInterval 1',
        `  ServerAliveCountMax ${countMax}`,
      ]);

    async function sshKeepalives(countMax: number): Promise<number> {
      const p = freezingProxy(f.hosts[0].address, f.hosts[0].port);
      try {
        const cfg = cfgThrough(await p.listen(), countMax);
        const ssh = spawn('ssh', ['-F', cfg, '-o', 'BatchMode=yes', 't', 'echo ready; exec sleep 100'], {
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        let out = '';
        ssh.stdout.on('data', (b) => {
          out += b;
          if (out.includes('ready')) p.freeze();
        });
        try {
          return await p.keepalivesSent();
        } finally {
          ssh.kill('SIGKILL');
        }
      } finally {
        p.close();
      }
    }

    async function fleetKeepalives(countMax: number): Promise<number> {
      const p = freezingProxy(f.hosts[0].address, f.hosts[0].port);
      try {
        const ep = resolveTarget('t', SshConfig.load(cfgThrough(await p.listen(), countMax)));
        const c = await connect(ep, {
          hostKeys: new HostKeyChecker(new KnownHosts(f.knownHostsFile), 'strict'),
          keys: new KeyStore({ agentSocket: '' }),
        });
        let gaveUp: Error | undefined;
        c.on('error', (e) => (gaveUp = e));
        p.freeze();
        try {
          const sent = await p.keepalivesSent();
          assert.match(String(gaveUp), /Keepalive timeout/);
          return sent;
        } finally {
          c.end();
        }
      } finally {
        p.close();
      }
    }

    for (const countMax of [0, 1, 5])
      it(`${countMax}: each sends ${countMax} keepalive(s), then gives the connection up`, async () => {
        assert.equal(await sshKeepalives(countMax), countMax, 'ssh');
        assert.equal(await fleetKeepalives(countMax), countMax, 'fleet');
      });
  });

  describe('ConnectionAttempts', () => {
    let home: string;
    before(() => {
      for (const p of ['/usr/bin/unshare', '/usr/sbin/ip'])
        if (!existsSync(p)) throw new Error(`${p} is missing: install the Debian packages util-linux and iproute2`);
      home = scratchHome();
    });
    after(() => rmSync(home, { recursive: true, force: true }));

    const cfg = (port: number, extra: string[]) =>
      writeConfig(dir, `config${n++}`, [
        'Host t',
        '  HostName 127.0.0.1',
        `  Port ${port}`,
        '  User nobody',
        `  UserKnownHostsFile ${f.knownHostsFile}`,
        '  GlobalKnownHostsFile none',
        ...extra.map((l) => `  ${l}`),
      ]);

    /** runs argv in a network namespace of its own; the TCP connections it opened there */
    function connectionsOpened(argv: string[]): number {
      const out = join(dir, `snmp${n++}`);
      const script = 'ip link set lo up || exit 97; out=$1; shift; "$@" >/dev/null 2>&1; cat /proc/net/snmp > "$out"';
      const r = spawnSync('unshare', ['-n', 'sh', '-c', script, 'sh', out, ...argv], {
        env: { ...process.env, HOME: home, SSH_AUTH_SOCK: '' },
        stdio: 'pipe',
        timeout: 60_000,
      });
      assert.equal(r.status, 0, `unshare -n: ${r.stderr}`);
      const [names, values] = readFileSync(out, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('Tcp:'))
        .map((l) => l.split(/\s+/));
      return Number(values[names.indexOf('ActiveOpens')]);
    }

    for (const [extra, tries] of [
      [['ConnectionAttempts 3'], 3],
      [[], 1],
    ] as const)
      it(`${extra[0] ?? 'unset'}: an address that refuses is tried ${tries} time(s) by each`, () => {
        const c = cfg(9, [...extra]);
        assert.equal(connectionsOpened(['ssh', '-F', c, '-o', 'BatchMode=yes', 't', 'true']), tries, 'ssh');
        assert.equal(
          connectionsOpened([process.execPath, cliPath, 'run', '--ssh-config', c, 't', '--', 'true']),
          tries,
          'fleet',
        );
      });

    it('ConnectionAttempts 3, a server that accepts and drops: ssh tries once, Fleet its own 4 (not 3 x 4)', async () => {
      let accepted = 0;
      const server = createServer((s) => (accepted++, s.destroy()));
      const port = await new Promise<number>((r) =>
        server.listen(0, '127.0.0.1', () => r((server.address() as { port: number }).port)),
      );
      try {
        const c = cfg(port, ['ConnectionAttempts 3']);
        // not spawnSync: this process's server must answer while ssh waits
        const ssh = spawn('ssh', ['-F', c, '-o', 'BatchMode=yes', 't', 'true'], { stdio: 'ignore' });
        const code = await new Promise<number | null>((r) => ssh.on('exit', r));
        assert.notEqual(code, 0);
        assert.equal(accepted, 1, 'ssh');
        accepted = 0;
        const r = await fleet(['run', '--ssh-config', c, 't', '--', 'true'], { home });
        assert.notEqual(r.code, 0);
        assert.equal(accepted, 4, `fleet: ${r.stdout}${r.stderr}`);
      } finally {
        server.close();
      }
    });
  });
});
