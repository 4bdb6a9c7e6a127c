// ProxyCommand from ~/.ssh/config: the connection runs over a command's stdin/stdout (here a small
// relay to a harness sshd, as SSM, IAP or Teleport's commands would be), host keys are still
// checked, its stderr goes to the debug log, it ends with the connection, and a failing command is
// an unreachable host with the command's own words.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
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
});
