// A package's programs are stopped even when they left the agent's process group: a child that
// calls setsid (util-linux), one that double-forks into a new session and ignores TERM, and a node
// child spawned detached. stop, remove, and stop after the agent was restarted (the program
// adopted) end every one of them: TERM first, KILL after the grace for the one that ignores TERM.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentProcess, killMatching, pidsMatching } from '../harness/agentProcess';
import { waitFor } from '../harness/net';
import { rawZip } from '../harness/rawZip';

describe('agent: stopping programs that left their process group (real agent process)', function () {
  this.timeout(120_000);
  const tag = `tree-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'tree-'));
  const zip = join(dir, 'escape.zip');
  const escapees = ['setsid', 'double', 'node'].map((k) => `${tag}-${k}`);
  let agent: AgentProcess;

  before(async () => {
    if (!existsSync('/usr/bin/setsid')) throw new Error('setsid is missing: install the Debian package util-linux');
    const loop = 'while :; do sleep 0.2; done';
    // the name is put together at run time: node's own command line must not match it
    const nodeChild = `require('child_process').spawn('sh', ['-c', '${loop}', '${tag}-' + 'node'], { detached: true, stdio: 'ignore' }).unref()`;
    writeFileSync(
      zip,
      rawZip([
        {
          name: 'run',
          mode: 0o100755,
          data: Buffer.from(
            [
              '#!/bin/sh',
              // a new session, by the setsid program
              `setsid sh -c '${loop}' ${escapees[0]} &`,
              // a double fork into a new session, deaf to TERM: the subshell exits, init adopts it
              `( setsid sh -c 'trap "" TERM; ${loop}' ${escapees[1]} & )`,
              // a node child with detached: true (setsid too)
              `${JSON.stringify(process.execPath)} -e ${JSON.stringify(nodeChild)}`,
              loop,
              '',
            ].join('\n'),
          ),
        },
      ]),
    );
    agent = await AgentProcess.start({ flags: ['--grace-ms', '1000'] });
  });
  after(async () => {
    await agent?.stop();
    killMatching(tag); // the program (its argument) and the escapees (their names)
  });

  const running = () => escapees.map((e) => pidsMatching(e).length);
  const allStarted = () => waitFor(async () => assert.deepEqual(running(), [1, 1, 1]), 15_000);

  it('the escapees really left the group and session of the program', async () => {
    await agent.client().install('escape', zip, { binary: 'run', args: [tag] });
    await allStarted();
    const main = (await agent.client().status('escape')).pid!;
    for (const e of escapees) {
      const stat = readFileSync(`/proc/${pidsMatching(e)[0]}/stat`, 'utf8');
      const [pgid, sid] = stat
        .slice(stat.lastIndexOf(')') + 2)
        .split(' ')
        .slice(2, 4)
        .map(Number);
      assert.notEqual(pgid, main, `${e} is in the program's group`);
      assert.notEqual(sid, main, `${e} is in the program's session`);
    }
  });

  it('stop ends all of them (the one that ignores TERM by KILL after the grace)', async () => {
    await allStarted();
    const s = await agent.client().action('escape', 'stop');
    assert.equal(s.state, 'stopped');
    assert.deepEqual(running(), [0, 0, 0], 'a process of the package outlived stop');
  });

  it('remove ends all of them', async () => {
    await agent.client().action('escape', 'start');
    await allStarted();
    await agent.client().remove('escape');
    assert.deepEqual(running(), [0, 0, 0], 'a process of the package outlived its removal');
  });

  it('stop after the agent was killed and restarted (the program adopted) ends all of them', async () => {
    await agent.client().install('escape', zip, { binary: 'run', args: [tag] });
    await allStarted();
    await agent.kill9();
    await agent.start();
    assert.match(agent.log, /escape: adopted running pid/);
    await agent.client().action('escape', 'stop');
    assert.deepEqual(running(), [0, 0, 0], 'a process of the adopted package outlived stop');
  });
});
