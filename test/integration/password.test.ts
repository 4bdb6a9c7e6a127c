// Password authentication against a real sshd with PasswordAuthentication for a test user the
// test creates (and removes): from a 0600 file, refused from a file others can read, never argv.
// keyboard-interactive is not covered: without PAM (UsePAM no, as root's test sshd must run),
// OpenSSH on Linux offers no keyboard-interactive device to test against.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fleet, scratchHome } from '../harness/cli';
import { SshFleet } from '../harness/sshFleet';

const user = 'fleetpwtest';
const password = `pw-${process.pid}-Secret!`;

describe('password auth (real sshd, a test user)', function () {
  this.timeout(60_000);
  let f: SshFleet;
  const dir = mkdtempSync(join(tmpdir(), 'pw-'));

  before(async () => {
    try {
      execFileSync('id', [user], { stdio: 'ignore' });
    } catch {
      execFileSync('useradd', ['-m', '-s', '/bin/sh', user], { stdio: 'pipe' });
    }
    execFileSync('chpasswd', [], { input: `${user}:${password}\n` });
    f = await SshFleet.start(1, { extraConfig: ['PasswordAuthentication yes'] });
  });
  after(async () => {
    await f?.stop();
    try {
      execFileSync('userdel', ['-r', user], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  });

  const target = () => `${user}@${f.hosts[0].address}:${f.port}`;
  const file = (name: string, content: string, mode: number) => {
    const p = join(dir, name);
    writeFileSync(p, content);
    chmodSync(p, mode);
    return p;
  };

  it('logs in with the password from a 0600 file', async () => {
    const r = await fleet(
      [
        'run',
        target(),
        '--password-file',
        file('ok', password + '\n', 0o600),
        '--known-hosts',
        f.knownHostsFile,
        '--json',
        '--',
        'id',
        '-un',
      ],
      { home: scratchHome() },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(JSON.parse(r.stdout).stdout, `${user}\n`);
    assert.ok(!r.stdout.includes(password) && !r.stderr.includes(password));
  });

  it('takes the file from FLEET_SSH_PASSWORD_FILE too', async () => {
    const r = await fleet(['run', target(), '--known-hosts', f.knownHostsFile, '--', 'true'], {
      home: scratchHome(),
      env: { FLEET_SSH_PASSWORD_FILE: file('env', password, 0o600) },
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  it('a wrong password is an authentication failure (2)', async () => {
    const r = await fleet(
      [
        'run',
        target(),
        '--password-file',
        file('wrong', 'nope', 0o600),
        '--known-hosts',
        f.knownHostsFile,
        '--',
        'true',
      ],
      { home: scratchHome() },
    );
    assert.equal(r.code, 2);
    assert.match(r.stdout, /authentication failed for fleetpwtest@/);
  });
});
