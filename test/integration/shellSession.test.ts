// The kept shell (core/ssh/shellSession.ts) against a real sshd: a command's output, exit status and
// streams come back as an exec's would, whatever the output holds (no final newline, many lines, a
// megabyte cut anywhere by the channel); a command that does not parse, reads stdin or runs past its
// time leaves the shell usable; a second command at once runs beside it; sshd forks one session.
import assert from 'node:assert/strict';
import { KeyStore } from '../../core/ssh/auth';
import { HostKeyChecker } from '../../core/ssh/hostKeyPolicy';
import { KnownHosts } from '../../core/ssh/knownHosts';
import { SshPool } from '../../core/ssh/pool';
import type { SshEndpoint } from '../../core/ssh/endpoint';
import { resolveTarget } from '../../core/targets/resolve';
import { SshFleet } from '../harness/sshFleet';

describe('kept shell (real sshd)', function () {
  this.timeout(60_000);
  let f: SshFleet;
  let pool: SshPool;
  let ep: SshEndpoint;

  before(async () => {
    f = await SshFleet.start(1);
    pool = new SshPool({
      hostKeys: new HostKeyChecker(new KnownHosts(f.knownHostsFile), 'strict'),
      keys: new KeyStore({ agentSocket: '' }),
      keepShell: true,
    });
    ep = resolveTarget(f.hosts[0].target, null, { identityFiles: [f.clientKey] });
    await pool.exec(ep, 'true'); // the connection's first command is an exec; the shell comes with the second
  });
  after(async () => {
    pool?.close();
    await f?.stop();
  });

  const run = (cmd: string, o: Parameters<SshPool['exec']>[2] = {}) => pool.exec(ep, cmd, { timeoutMs: 20_000, ...o });

  it('gives back output, errors and exit status as they were', async () => {
    assert.deepEqual(await run("printf 'no newline'; printf 'e1\\ne2' >&2; exit 42"), {
      exitCode: 42,
      signal: null,
      stdout: 'no newline',
      stderr: 'e1\ne2',
    });
    const lines = await run('for i in 1 2 3; do\n  echo "line $i"\ndone');
    assert.equal(lines.stdout, 'line 1\nline 2\nline 3\n');
    const utf8 = await run("printf 'caf\\303\\251 \\342\\230\\203\\n'");
    assert.equal(utf8.stdout, 'café ☃\n');
  });

  it('a megabyte of output, streamed, arrives whole and in order', async () => {
    const chunks: Buffer[] = [];
    const r = await run('i=0; while [ $i -lt 20000 ]; do echo "row $i of a long output"; i=$((i+1)); done', {
      onStdout: (b) => chunks.push(b),
    });
    const want = Array.from({ length: 20000 }, (_, i) => `row ${i} of a long output\n`).join('');
    assert.equal(r.exitCode, 0);
    assert.equal(r.stdout, want);
    assert.equal(Buffer.concat(chunks).toString(), want);
    assert.ok(chunks.length > 1, 'streamed in more than one piece');
  });

  it('a line shows while the command still runs', async () => {
    let ended = false;
    const streamed: Array<{ text: string; ended: boolean }> = [];
    const r = await run('echo first; sleep 1; echo second', {
      onStdout: (b) => streamed.push({ text: b.toString(), ended }),
    }).finally(() => (ended = true));
    assert.equal(r.stdout, 'first\nsecond\n');
    assert.deepEqual(streamed[0], { text: 'first\n', ended: false });
  });

  it('a command that does not parse, or reads stdin, leaves the shell usable', async () => {
    const pid = (await run('echo $$')).stdout;
    const bad = await run("echo 'unbalanced");
    assert.notEqual(bad.exitCode, 0);
    assert.match(bad.stderr, /unexpected EOF|Syntax error|unterminated/i);
    assert.equal((await run('cat; echo "stdin was empty"')).stdout, 'stdin was empty\n');
    assert.equal((await run('exit 3')).exitCode, 3);
    assert.equal((await run('echo $$')).stdout, pid, 'the same shell');
  });

  it('a second command while the shell is busy runs beside it (an exec)', async () => {
    const [slow, quick] = await Promise.all([run('sleep 0.5; echo $$'), run('echo $$')]);
    assert.equal(slow.exitCode, 0);
    assert.equal(quick.exitCode, 0);
    assert.notEqual(slow.stdout, quick.stdout, 'two shells');
  });

  it('sshd starts no session for a command in the kept shell', async () => {
    await run('true');
    const h = f.hosts[0];
    // the connection's first command was an exec, and sshd logged its session
    assert.match(await f.logSince(h, 0), /Starting session: command/);
    const before = f.log(h).length;
    for (let i = 0; i < 5; i++) assert.equal((await run(`echo ${i}`)).stdout, `${i}\n`);
    const log = await f.logSince(h, before);
    assert.doesNotMatch(log, /Starting session/, log);
  });
});
