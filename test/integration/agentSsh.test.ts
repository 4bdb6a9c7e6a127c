// Agents reached through real sshd: the ssh:// endpoint (stream-local forwarding to the agent's
// unix socket, no token) and `fleet agent deploy` then install through the deployed agent.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildExamples } from '../../examples/build';
import { AgentProcess, killMatching, pidsMatching } from '../harness/agentProcess';
import { fleet, scratchHome } from '../harness/cli';
import { freePort, httpGet, waitFor } from '../harness/net';
import { SshFleet } from '../harness/sshFleet';

describe('agent over SSH (real sshd)', function () {
  this.timeout(120_000);
  let f: SshFleet;
  let zips: Record<string, string>;
  const remoteHome = mkdtempSync(join(tmpdir(), 'fleet-remote-home-'));
  const tag = `web-ssh-${process.pid}`;
  let flags: string[];

  before(async () => {
    // the deployed agent lives in the session's HOME: point it at a scratch dir, not /root
    f = await SshFleet.start(2, { extraConfig: [`SetEnv HOME=${remoteHome}`] });
    zips = await buildExamples(mkdtempSync(join(tmpdir(), 'zips-')));
    flags = ['--identity', f.clientKey, '--known-hosts', f.knownHostsFile];
  });
  after(async () => {
    killMatching(remoteHome);
    killMatching(tag);
    await f?.stop();
  });

  it('reaches a local agent socket through ssh:// with no token', async () => {
    const agent = await AgentProcess.start();
    try {
      const ep = `ssh://root@${f.hosts[0].address}:${f.port}${agent.socket}`;
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

  it('deploys the agent to a host, installs through it, and upgrades it without losing packages', async () => {
    const host = `root@${f.hosts[1].address}:${f.port}`;
    mkdirSync(remoteHome, { recursive: true });
    const d1 = await fleet(['agent', 'deploy', host, ...flags], { home: scratchHome() });
    assert.equal(d1.code, 0, d1.stdout + d1.stderr);
    assert.match(d1.stdout, /agent installed \((detached|systemd), node v\d+/);
    const port = await freePort();
    const ep = `ssh://${host}`;
    const inst = await fleet(
      ['agent', 'install', ep, 'web', zips['web-v2'], 'web', ...flags, '--', '--port', String(port), '--node', tag],
      { home: scratchHome() },
    );
    assert.equal(inst.code, 0, inst.stdout + inst.stderr);
    assert.match(await waitFor(() => httpGet(`http://127.0.0.1:${port}/`)), /\(v2\)/);
    const pid = pidsMatching(tag);
    assert.equal(pid.length, 1);
    const d2 = await fleet(['agent', 'deploy', host, ...flags], { home: scratchHome() });
    assert.equal(d2.code, 0, d2.stdout + d2.stderr);
    assert.match(d2.stdout, /agent upgraded/);
    const st = await fleet(['agent', 'status', ep, 'web', ...flags, '--json'], { home: scratchHome() });
    assert.equal(JSON.parse(st.stdout).state, 'running');
    assert.deepEqual(pidsMatching(tag), pid, 'the package kept running and was adopted');
    assert.equal(pidsMatching(`${remoteHome}/.fleet-agent/bin/agent.js`).length, 1, 'one agent runs');
  });
});
