// The controller runs where VS Code runs: Linux, macOS, Windows. What differs per platform is a
// function of the platform, injected here (the tests run on Linux; see README for what ran where).
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MissingProgramError } from '../../core/errors';
import { pingArgs } from '../../core/local/ping';
import { requireProgram } from '../../core/local/program';
import { defaultAgent } from '../../core/ssh/auth';
import { expandTokens, SshConfig } from '../../core/ssh/sshConfig';

describe('per platform', () => {
  it("ping's flags: one packet, a reply timeout, numeric, in each platform's words", () => {
    assert.deepEqual(pingArgs('10.0.0.1', 2, 'linux'), ['-n', '-c', '1', '-W', '2', '--', '10.0.0.1']);
    assert.deepEqual(pingArgs('10.0.0.1', 2, 'darwin'), ['-n', '-c', '1', '-t', '2', '--', '10.0.0.1']);
    assert.deepEqual(pingArgs('10.0.0.1', 2, 'freebsd'), ['-n', '-c', '1', '-t', '2', '--', '10.0.0.1']);
    assert.deepEqual(pingArgs('10.0.0.1', 2, 'openbsd'), ['-n', '-c', '1', '-w', '2', '--', '10.0.0.1']);
    assert.deepEqual(pingArgs('10.0.0.1', 2, 'win32'), ['-n', '1', '-w', '2000', '10.0.0.1']);
  });

  it('finds ping.EXE through PATHEXT on Windows, and names the package when a program is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'path-'));
    writeFileSync(join(dir, 'ping.EXE'), '');
    chmodSync(join(dir, 'ping.EXE'), 0o755);
    assert.equal(requireProgram('ping', dir, 'win32', '.COM;.EXE'), join(dir, 'ping.EXE'));
    assert.throws(
      () => requireProgram('ping', dir, 'linux'),
      (e) => e instanceof MissingProgramError && /apt-get install iputils-ping/.test(e.message),
    );
  });

  it('ssh-agent: SSH_AUTH_SOCK where set; on Windows the OpenSSH agent pipe, else Pageant', () => {
    const yes = () => true;
    const no = () => false;
    assert.equal(defaultAgent({ SSH_AUTH_SOCK: '/tmp/agent.1' }, 'linux', yes), '/tmp/agent.1');
    assert.equal(defaultAgent({ SSH_AUTH_SOCK: '/tmp/gone' }, 'linux', no), undefined);
    assert.equal(defaultAgent({}, 'linux', yes), undefined);
    assert.equal(defaultAgent({}, 'darwin', yes), undefined);
    assert.equal(defaultAgent({}, 'win32', yes), '\\\\.\\pipe\\openssh-ssh-agent');
    assert.equal(defaultAgent({}, 'win32', no), 'pageant');
    assert.equal(defaultAgent({ SSH_AUTH_SOCK: '\\\\.\\pipe\\my-agent' }, 'win32', yes), '\\\\.\\pipe\\my-agent');
  });

  it('~/.ssh paths and tokens come from the local context, not from this machine', () => {
    const local = { home: '/Users/ann', localUser: 'ann', localHost: 'mac.local' };
    assert.equal(SshConfig.defaultPath(local.home), '/Users/ann/.ssh/config');
    const r = { host: 'web', hostname: 'web.example.com', port: 2222, user: 'deploy' };
    assert.equal(expandTokens('~/.ssh/id_%h_%r_%p', r, local), '/Users/ann/.ssh/id_web.example.com_deploy_2222');
    assert.equal(expandTokens('%d/%u@%L %n %%', r, local), '/Users/ann/ann@mac web %');
  });
});
