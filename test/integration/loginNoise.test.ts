// Hosts whose login talks, as real ones do (real sshd, plain users): an rc file that writes to stdout
// and stderr (with bash's own `warning: setlocale: LC_ALL: cannot change locale`), a slow rc file, a
// home directory that does not exist (sshd's "Could not chdir to home directory"). On every path a
// command's output takes (fleet run plain, --json, --stream; kept shells, as the editor's pool runs
// them; fleet expect; the agent bridge) the output is the command's own: the wrapper's protocol never
// shows, the login's words are kept apart (`login` in --json), and nothing of the command's is lost.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { openSocketStream } from '../../core/agentClient/socketStream';
import { KeyStore } from '../../core/ssh/auth';
import type { SshEndpoint } from '../../core/ssh/endpoint';
import { HostKeyChecker } from '../../core/ssh/hostKeyPolicy';
import { KnownHosts } from '../../core/ssh/knownHosts';
import { SshPool } from '../../core/ssh/pool';
import { resolveTarget } from '../../core/targets/resolve';
import { fleet, scratchHome } from '../harness/cli';
import { SshFleet } from '../harness/sshFleet';

/** an rc file that talks on both streams, leaves stdout without a newline, and makes bash warn */
const noisyRc = [
  'echo "rc-out: welcome to this host"',
  'echo "rc-err: message of the day" >&2',
  "printf 'rc-partial'",
  'export LC_ALL=xx_YY.UTF-8',
  '',
].join('\n');
/** an rc file that talks, takes a second, and talks again */
const slowRc = ['echo "rc: loading"', 'echo "rc: loading" >&2', 'sleep 1', 'echo "rc: ready" >&2', ''].join('\n');

/**
 * a command whose output is known to the byte, on both streams (as the remote shell runs it, and as fleet run's argv)
 */
const script = 'echo out-1; echo err-1 >&2; printf out-2';
const command = ['sh', '-c', script];
const wantOut = 'out-1\nout-2';
const wantErr = 'err-1\n';

describe('hosts whose login talks (real sshd, plain users)', function () {
  this.timeout(120_000);
  const fleets: Record<'noisy' | 'slow' | 'nohome', SshFleet | undefined> = {
    noisy: undefined,
    slow: undefined,
    nohome: undefined,
  };
  const f = (k: keyof typeof fleets) => fleets[k]!;

  before(async () => {
    // stream-local forwarding off: the agent bridge is what reaches the socket
    fleets.noisy = await SshFleet.start(1, { shell: '/bin/bash', extraConfig: ['AllowStreamLocalForwarding no'] });
    fleets.noisy.user!.writeHomeFile('.bashrc', noisyRc);
    fleets.slow = await SshFleet.start(1, { shell: '/bin/bash' });
    fleets.slow.user!.writeHomeFile('.bashrc', slowRc);
    fleets.nohome = await SshFleet.start(1);
    fleets.nohome.user!.moveHome(`/nonexistent-fleet-${process.pid}`);
  });
  after(async () => {
    for (const x of Object.values(fleets)) await x?.stop();
  });

  const cli = (k: keyof typeof fleets, flags: string[]) =>
    fleet(['run', f(k).hosts[0].target, '--identity', f(k).clientKey, '--known-hosts', f(k).knownHostsFile, ...flags], {
      home: scratchHome(),
    });

  for (const k of ['noisy', 'slow', 'nohome'] as const) {
    describe(`${k} host`, () => {
      it('fleet run --json: stdout and stderr are the command’s own; the login’s words are in `login`', async () => {
        const r = await cli(k, ['--json', '--', ...command]);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        const res = JSON.parse(r.stdout);
        assert.equal(res.stdout, wantOut);
        assert.equal(res.stderr, wantErr);
        if (k === 'noisy') {
          assert.equal(res.login.stdout, 'rc-out: welcome to this host\nrc-partial');
          assert.match(res.login.stderr, /^rc-err: message of the day\n/);
          assert.match(res.login.stderr, /warning: setlocale: LC_ALL: cannot change locale/);
        } else if (k === 'slow')
          assert.deepEqual(res.login, { stdout: 'rc: loading\n', stderr: 'rc: loading\nrc: ready\n' });
        else assert.match(res.login.stderr, /Could not chdir to home directory \/nonexistent-fleet-/);
      });

      it('fleet run: the grouped output shows the command’s lines, never the wrapper’s', async () => {
        const r = await cli(k, ['--', ...command]);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.match(r.stdout, /\nout-1\nout-2\n/);
        assert.match(r.stdout, /\nstderr: err-1\n/);
        assert.doesNotMatch(r.stdout + r.stderr, /FLEET-|rc-|rc:|chdir/);
        assert.match(r.stdout, /1 ok, 0 failed, 0 unreachable/);
      });

      it('fleet run --stream: every line of the command is printed as it comes, and only those', async () => {
        const r = await cli(k, ['--stream', '--', ...command]);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        const label = f(k).hosts[0].target;
        const lines = (s: string) => s.split('\n').filter(Boolean);
        assert.deepEqual(lines(r.stdout), [`${label} | out-1`, `${label} | out-2`, '1 ok, 0 failed, 0 unreachable']);
        assert.deepEqual(lines(r.stderr), [`${label} | err-1`]);
      });

      it('fleet run --stream --json: the same lines as JSON', async () => {
        const r = await cli(k, ['--stream', '--json', '--', ...command]);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        const got = r.stdout
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as { stream: string; line: string });
        // stdout and stderr come over two pipes: their lines interleave in any order, each in its own
        const of = (stream: string) => got.filter((x) => x.stream === stream).map((x) => x.line);
        assert.deepEqual(of('stdout'), ['out-1', 'out-2']);
        assert.deepEqual(of('stderr'), ['err-1']);
        assert.equal(got.length, 3);
      });

      it('kept shells (the editor’s pool): the shell is had, and each command’s output is its own', async () => {
        const pool = new SshPool({
          hostKeys: new HostKeyChecker(new KnownHosts(f(k).knownHostsFile), 'strict'),
          keys: new KeyStore({ agentSocket: '' }),
          keepShell: true,
        });
        try {
          const ep = resolveTarget(f(k).hosts[0].target, null, { identityFiles: [f(k).clientKey] });
          const first = await pool.exec(ep, script, { timeoutMs: 30_000 });
          assert.deepEqual([first.stdout, first.stderr], [wantOut, wantErr]);
          const streamed: string[] = [];
          const shells: string[] = [];
          for (let i = 0; i < 3; i++) {
            const r = await pool.exec(ep, `${script}; echo " $$" >&2`, {
              timeoutMs: 30_000,
              onStdout: (b) => streamed.push(b.toString()),
            });
            assert.equal(r.stdout, wantOut);
            assert.match(r.stderr, /^err-1\n \d+\n$/);
            shells.push(r.stderr);
          }
          // a subshell's $$ is its shell's: one kept shell ran the three (an exec would show three)
          assert.equal(new Set(shells).size, 1, `one shell: ${shells.join(' | ')}`);
          assert.equal(streamed.join(''), wantOut.repeat(3));
        } finally {
          pool.close();
        }
      });
    });
  }

  it('fleet expect: the transcript is the program’s, with neither the wrapper nor the rc file in it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'noisy-expect-'));
    const file = join(dir, 'script.json');
    writeFileSync(
      file,
      JSON.stringify({
        command: 'printf "Continue? [Y/n] "; read a; echo "answer=$a"',
        steps: [{ expect: 'Continue? [Y/n]', send: 'Y\n' }, { expect: 'answer=Y' }],
      }),
    );
    const n = f('noisy');
    const r = await fleet(
      ['expect', n.hosts[0].target, file, '--identity', n.clientKey, '--known-hosts', n.knownHostsFile],
      { home: scratchHome() },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^Continue\? \[Y\/n\] Y\r?\n/);
    assert.doesNotMatch(r.stdout, /FLEET-|rc-|setlocale/);
  });

  describe('the agent bridge (sshd with AllowStreamLocalForwarding no)', () => {
    let server: Server;
    let sock: string;
    before(async () => {
      const n = f('noisy');
      // the bridge runs the Fleet runtime's node from the host's ~/.fleet: this node stands in for it
      const bin = n.userDir(join(n.home, '.fleet', 'agent', 'current', 'bin'));
      symlinkSync(process.execPath, join(bin, 'node'));
      const dir = mkdtempSync(join(tmpdir(), 'noisy-sock-'));
      chmodSync(dir, 0o755);
      sock = join(dir, 'echo.sock');
      server = createServer((s) => s.on('data', (d) => s.write(`pong:${d}`)));
      await new Promise<void>((r) => server.listen(sock, r));
      chmodSync(sock, 0o666);
    });
    after(() => {
      server?.close();
      rmSync(join(f('noisy').home, '.fleet'), { recursive: true, force: true });
    });

    it('the socket’s bytes come through alone: no rc output ahead of them', async () => {
      const n = f('noisy');
      const pool = new SshPool({
        hostKeys: new HostKeyChecker(new KnownHosts(n.knownHostsFile), 'strict'),
        keys: new KeyStore({ agentSocket: '' }),
      });
      const ep: SshEndpoint = resolveTarget(n.hosts[0].target, null, { identityFiles: [n.clientKey] });
      try {
        const got = await pool.withClient(ep, async (c) => {
          const s: Duplex = await openSocketStream(c, sock, ep.label);
          const answer = new Promise<string>((resolve) => {
            let text = '';
            s.on('data', (d: Buffer) => {
              text += d.toString();
              if (text.includes('\n')) resolve(text);
            });
          });
          s.write('ping\n');
          const text = await answer;
          s.end();
          return text;
        });
        assert.equal(got, 'pong:ping\n');
      } finally {
        pool.close();
      }
    });
  });
});
