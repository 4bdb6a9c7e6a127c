// ProxyCommand from ~/.ssh/config: the connection runs over a command's stdin/stdout (here a small
// relay to a harness sshd, as SSM, IAP or Teleport's commands would be), host keys are still
// checked, its stderr goes to the debug log, it ends with the connection, and a failing command is
// an unreachable host with the command's own words. The line goes to the shell as written, quotes and
// all (AWS's `sh -c "aws ssm start-session … --parameters 'portNumber=%p'"`), and %h is the host name
// lower-cased, as ssh gives it (a hashed known_hosts entry of that name is found).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pidsMatching } from '../harness/agentProcess';
import { fleet, scratchHome } from '../harness/cli';
import { waitFor } from '../harness/net';
import { SshFleet } from '../harness/sshFleet';

describe('ProxyCommand (real sshd behind a relay command)', function () {
  this.timeout(60_000);
  let f: SshFleet;
  const dir = mkdtempSync(join(tmpdir(), 'proxycmd-'));
  const relay = join(dir, 'fleet-test-relay.js');
  writeFileSync(
    relay,
    [
      "const s = require('node:net').connect(Number(process.argv[3]), process.argv[2]);",
      "s.on('connect', () => process.stderr.write(`relay: connected to ${process.argv[2]}:${process.argv[3]}\\n`));",
      's.on("error", (e) => { process.stderr.write(`relay: ${e.message}\\n`); process.exit(1); });',
      'process.stdin.pipe(s); s.pipe(process.stdout);',
    ].join('\n'),
  );
  // an SSM look-alike: `ssm-relay --target NAME --address ADDR --parameters portNumber=PORT`, recording NAME
  const ssm = join(dir, 'fleet-test-ssm.js');
  writeFileSync(
    ssm,
    [
      'const a = process.argv.slice(2);',
      'const opt = (n) => a[a.indexOf(n) + 1];',
      "const m = /^portNumber=(\\d+)$/.exec(opt('--parameters') ?? '');",
      "if (!m || a.indexOf('--target') < 0) { process.stderr.write(`ssm: bad arguments ${JSON.stringify(a)}\\n`); process.exit(2); }",
      "require('node:fs').writeFileSync(process.env.FLEET_TEST_SEEN, opt('--target'));",
      "const s = require('node:net').connect(Number(m[1]), opt('--address'));",
      's.on("error", (e) => { process.stderr.write(`ssm: ${e.message}\\n`); process.exit(1); });',
      'process.stdin.pipe(s); s.pipe(process.stdout);',
    ].join('\n'),
  );
  before(async () => (f = await SshFleet.start(2)));
  after(async () => f?.stop());

  const home = (extra: string) => {
    const h = scratchHome();
    const [a, b] = f.hosts;
    writeFileSync(
      join(h, '.ssh', 'config'),
      [
        'Host viaproxy',
        `  HostName ${a.address}`,
        `  Port ${f.port}`,
        '  User root',
        `  IdentityFile ${f.clientKey}`,
        `  ProxyCommand ${process.execPath} ${relay} %h %p`,
        'Host broken',
        `  HostName ${b.address}`,
        `  Port ${f.port}`,
        `  ProxyCommand ${process.execPath} ${relay} 127.0.0.1 1`,
        extra,
      ].join('\n') + '\n',
    );
    writeFileSync(join(h, '.ssh', 'known_hosts'), f.hosts.map((x) => x.knownHostsLine).join('\n') + '\n');
    return h;
  };

  it('runs a command over the proxy; its stderr reaches the debug log; it ends with the connection', async () => {
    const r = await fleet(['run', 'viaproxy', '--json', '--', 'echo', 'via-proxy'], {
      home: home(''),
      env: { FLEET_DEBUG: '1' },
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(JSON.parse(r.stdout).stdout, 'via-proxy\n');
    assert.match(r.stderr, /fleet debug: ProxyCommand: relay: connected to /);
    await waitFor(async () => assert.deepEqual(pidsMatching('fleet-test-relay.js'), []), 5_000);
  });

  it('still checks the host key: a key that changed is refused (exit 2)', async () => {
    const h = home('');
    const [a] = f.hosts;
    writeFileSync(
      join(h, '.ssh', 'known_hosts'),
      a.knownHostsLine.replace(/ \S+$/, ' AAAAC3NzaC1lZDI1NTE5AAAAIE0mPd0h2yH6oQq8hb5Oj2z9Yxw1n2m3c4v5b6n7m8q9') + '\n',
    );
    const r = await fleet(['run', 'viaproxy', '--json', '--', 'true'], { home: h });
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(JSON.parse(r.stdout).error, /host key changed/);
  });

  it('a proxy command that fails is an unreachable host, with what the command said', async () => {
    const r = await fleet(['run', 'broken', '--json', '--', 'true'], { home: home('') });
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(JSON.parse(r.stdout).error, /ProxyCommand .*relay: connect ECONNREFUSED 127\.0\.0\.1:1/);
  });

  it("hands the shell the line as written: AWS SSM's quoted form works, %h lower-cased finds a hashed known_hosts entry", async () => {
    const h = scratchHome();
    const [a] = f.hosts;
    const seen = join(mkdtempSync(join(tmpdir(), 'ssm-seen-')), 'target');
    writeFileSync(
      join(h, '.ssh', 'config'),
      [
        'Host i-* mi-*',
        `  ProxyCommand sh -c "${process.execPath} ${ssm} --target %h --address ${a.address} --document-name AWS-StartSSHSession --parameters 'portNumber=%p'"`,
        `  Port ${f.port}`,
        `  User ${f.loginName}`,
        `  IdentityFile ${f.clientKey}`,
        'Host i-MixedCase',
        '  HostName I-0ABC.Fleet.Test',
      ].join('\n') + '\n',
    );
    // the host's key under the lower-cased name, hashed as HashKnownHosts writes it
    const kh = join(h, '.ssh', 'known_hosts');
    writeFileSync(kh, a.knownHostsLine.replace(/^\S+/, `[i-0abc.fleet.test]:${f.port}`) + '\n');
    execFileSync('ssh-keygen', ['-q', '-H', '-f', kh], { stdio: 'ignore' });
    assert.doesNotMatch(readFileSync(kh, 'utf8'), /fleet\.test/, 'hashed');
    const r = await fleet(['run', 'i-MixedCase', '--json', '--host-key-policy', 'strict', '--', 'echo', 'via-ssm'], {
      home: h,
      env: { FLEET_TEST_SEEN: seen },
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(JSON.parse(r.stdout).stdout, 'via-ssm\n');
    assert.equal(readFileSync(seen, 'utf8'), 'i-0abc.fleet.test');
  });

  it('a jump host reached through a ProxyCommand (the first hop of a ProxyJump list keeps its own)', async () => {
    const h = home(
      [
        'Host behind',
        `  HostName ${f.hosts[1].address}`,
        `  Port ${f.port}`,
        `  User ${f.loginName}`,
        `  IdentityFile ${f.clientKey}`,
        '  ProxyJump viaproxy',
      ].join('\n'),
    );
    // viaproxy logs in as root in this file's config: the jump only forwards
    const r = await fleet(['run', 'behind', '--json', '--', 'echo', 'behind-proxy'], { home: h });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(JSON.parse(r.stdout).stdout, 'behind-proxy\n');
  });
});
