// `fleet ssh-config HOST...` in process: ssh -G's format for each host (a blank line between hosts),
// the command line as ssh's -l -p -J, a config ssh would refuse refused with its file and line (exit
// 65), a Match exec said on stderr. Against ssh -G itself: test/integration/sshConfigDifferential.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryIO } from '../../cli/io';
import { main } from '../../cli/main';

async function fleet(args: string[]) {
  const io = memoryIO(args);
  const code = await main(io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

function configFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'fleet-sshcfg-')), 'config');
  writeFileSync(file, text);
  return file;
}

describe('fleet ssh-config', () => {
  const file = configFile(
    [
      'Host web*',
      '  HostName %h.Prod.Example.com',
      '  User deploy',
      '  ProxyJump bastion never-read',
      'Host db1',
      `  ProxyCommand sh -c "aws ssm start-session --target %h --parameters 'portNumber=%p'"`,
      '  ConnectTimeout 1m30s',
      'Match exec "true"',
      '  Port 1',
    ].join('\n'),
  );

  it("prints each host in ssh -G's format and order, a blank line between hosts", async () => {
    const r = await fleet(['ssh-config', '--ssh-config', file, 'web1', 'ops@db1:2222']);
    assert.equal(r.code, 0, r.stderr);
    const [web, db] = r.stdout.split('\n\n');
    assert.match(web, /^host web1\nuser deploy\nhostname web1\.prod\.example\.com\nport 22\n/);
    assert.match(web, /\nproxyjump bastion$/);
    assert.match(db, /^host db1\nuser ops\nhostname db1\nport 2222\n/);
    assert.match(
      db,
      /\nconnecttimeout 90\nproxycommand sh -c "aws ssm start-session --target %h --parameters 'portNumber=%p'"\n$/,
    );
    assert.match(r.stderr, /line 8: Match exec is not run by Fleet/);
  });

  it('takes -l, -p and -J as ssh does: the command line first', async () => {
    const r = await fleet([
      'ssh-config',
      '--ssh-config',
      file,
      '--user',
      'me',
      '--port',
      '2200',
      '--jump',
      'j1,j2',
      'db1',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^host db1\nuser me\nhostname db1\nport 2200\n/);
    assert.match(r.stdout, /\nproxyjump j1,j2\n$/);
    assert.doesNotMatch(r.stdout, /proxycommand/);
  });

  it('refuses a config ssh refuses, naming the file and line (exit 65)', async () => {
    const bad = configFile('Host a\n  Port 70000\n');
    const r = await fleet(['ssh-config', '--ssh-config', bad, 'a']);
    assert.equal(r.code, 65);
    assert.equal(r.stderr, `fleet: ${bad}: line 2: Bad port '70000'.\n`);
  });

  it('needs a host (exit 64)', async () => {
    const r = await fleet(['ssh-config']);
    assert.equal(r.code, 64);
    assert.match(r.stderr, /no host given: use fleet ssh-config HOST/);
  });
});
