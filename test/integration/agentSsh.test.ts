// Agents reached through real sshd: the ssh:// endpoint (stream-local forwarding to the agent's
// unix socket, no token). Deploying the agent itself is test/integration/agentDeploy.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildExamples } from '../../examples/build';
import { AgentProcess, killMatching } from '../harness/agentProcess';
import { fleet, scratchHome } from '../harness/cli';
import { freePort, httpGet, waitFor } from '../harness/net';
import { SshFleet } from '../harness/sshFleet';

describe('agent over SSH (real sshd)', function () {
  this.timeout(120_000);
  let f: SshFleet;
  let zips: Record<string, string>;
  let remoteHome = '';
  const tag = `web-ssh-${process.pid}`;
  let flags: string[];

  before(async () => {
    // the deployed agent lives in the session's HOME: the fleet's login user's own
    f = await SshFleet.start(1);
    remoteHome = f.home;
    zips = await buildExamples(mkdtempSync(join(tmpdir(), 'zips-')));
    flags = ['--identity', f.clientKey, '--known-hosts', f.knownHostsFile];
  });
  after(async () => {
    if (remoteHome) killMatching(remoteHome);
    killMatching(tag);
    await f?.stop();
  });

  it('reaches a local agent socket through ssh:// with no token', async () => {
    // the agent runs as the user the SSH session logs in as: its socket is that user's (0600)
    const agent = await AgentProcess.start({ runAs: f.user! });
    try {
      const ep = `ssh://${f.loginName}@${f.hosts[0].address}:${f.port}${agent.socket}`;
      const port = await freePort();
      const inst = await fleet(
        [
          'agent',
          'install',
          ep,
          'web',
          zips['web-v1'],
          'web',
          ...flags,
          '--json',
          '--',
          '--port',
          String(port),
          '--node',
          tag,
        ],
        { home: scratchHome() },
      );
      assert.equal(inst.code, 0, inst.stdout + inst.stderr);
      assert.equal(JSON.parse(inst.stdout).state, 'running');
      assert.match(await waitFor(() => httpGet(`http://127.0.0.1:${port}/`)), /\(v1\)/);
      const list = await fleet(['agent', 'list', ep, ...flags], { home: scratchHome() });
      assert.match(list.stdout, /^web\s+running\s+\d+/m);
    } finally {
      await agent.stop();
      killMatching(tag);
    }
  });
});
