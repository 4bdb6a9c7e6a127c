// Benchmark: `fleet agent deploy` to 20 sshd hosts on which no node can run (node hidden in the
// servers' mount namespace, as in test/integration/agentDeploy.test.ts): the first deploy (runtime +
// agent), an agent upgrade (a second build), and a deploy of the current build (up to date), with the
// bytes sent per host from the deploy's own report. For scale, parallel-scp of the same two files
// to the same hosts: the bare copy, with no check, unpack or start, is the floor.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runtimePins } from '../core/agentInstall/runtimePins';
import { killMatching } from '../test/harness/agentProcess';
import { cliPath, testCacheDir } from '../test/harness/cli';
import { hidingWrapper, nodeBinaries } from '../test/harness/hiddenPrograms';
import { SshFleet } from '../test/harness/sshFleet';
import { requireTool, table, timeIt } from './util';

interface Sent {
  runtime: number;
  agent: number;
}

export async function benchAgentDeploy(n = 20): Promise<string> {
  const homes: string[] = [];
  const f = await SshFleet.start(n, {
    wrapper: hidingWrapper(nodeBinaries()),
    hostConfig: (i, dir, fleet) => {
      homes[i] = fleet.userDir(join(dir, 'home'));
      return [`SetEnv HOME=${homes[i]}`];
    },
  });
  try {
    const agentJs = join(__dirname, '../dist/agent.js');
    const build2 = join(f.dir, 'agent-build2.js');
    writeFileSync(build2, readFileSync(agentJs, 'utf8') + '\n// a second build, for the upgrade\n');
    const targets = f.hosts.map((h) => h.target);
    const flags = ['--identity', f.clientKey, '--known-hosts', f.knownHostsFile, '--concurrency', String(n), '--json'];
    const env = { ...process.env, FLEET_CACHE_DIR: process.env.FLEET_CACHE_DIR ?? testCacheDir };
    const deploy = (extra: string[]): { ms: number; sent: Sent[] } => {
      let out = '';
      const ms = timeIt(() => {
        const p = spawnSync(process.execPath, [cliPath, 'agent', 'deploy', ...targets, ...flags, ...extra], {
          encoding: 'utf8',
          env,
        });
        if (p.status !== 0)
          throw new Error(`fleet agent deploy exited ${p.status}: ${(p.stdout + p.stderr).slice(0, 2000)}`);
        out = p.stdout;
      });
      const sent = out
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { sent: Sent }).sent);
      return { ms, sent };
    };
    const first = deploy([]);
    const upgrade = deploy(['--agent-js', build2]);
    const again = deploy(['--agent-js', build2]);

    // the floor: parallel-scp of the runtime tarball and the gzip'd agent, nothing else
    const tgz = join(env.FLEET_CACHE_DIR!, 'runtime', runtimePins['linux-x64'].tarball);
    const hostsFile = join(f.dir, 'pscp_hosts');
    writeFileSync(hostsFile, targets.join('\n') + '\n');
    const sshOpts = `-i ${f.clientKey} -o UserKnownHostsFile=${f.knownHostsFile} -o StrictHostKeyChecking=yes -o GlobalKnownHostsFile=/dev/null -o BatchMode=yes`;
    const pscp = requireTool('parallel-scp', 'pssh');
    const scpMs = timeIt(() => {
      const p = spawnSync(pscp, ['-h', hostsFile, '-p', String(n), '-t', '300', '-x', sshOpts, tgz, '/tmp/'], {
        encoding: 'utf8',
      });
      if (p.status !== 0) throw new Error(`parallel-scp exited ${p.status}: ${(p.stderr || p.stdout).slice(0, 1000)}`);
    });

    const mb = (b: number) => (b / 1e6).toFixed(2);
    const perHost = (s: Sent[]) => {
      const xs = s.map((x) => x.runtime + x.agent);
      return `${mb(Math.min(...xs))}–${mb(Math.max(...xs))}`;
    };
    return [
      `### fleet agent deploy to ${n} sshd hosts without node (one run each)`,
      '',
      table(
        ['step', 'wall (s)', 'sent per host (MB)'],
        [
          ['first deploy: runtime + agent, started, answering', (first.ms / 1000).toFixed(2), perHost(first.sent)],
          ['upgrade to a second agent build (runtime stays)', (upgrade.ms / 1000).toFixed(2), perHost(upgrade.sent)],
          ['deploy of the current build (up to date)', (again.ms / 1000).toFixed(2), perHost(again.sent)],
          [
            'floor: parallel-scp -p 20 of the runtime tarball alone',
            (scpMs / 1000).toFixed(2),
            mb(runtimePins['linux-x64'].tarballBytes),
          ],
        ],
      ),
    ].join('\n');
  } finally {
    for (const h of homes) killMatching(h);
    await f.stop();
    spawnSync('rm', ['-f', `/tmp/${runtimePins['linux-x64'].tarball}`]);
  }
}
