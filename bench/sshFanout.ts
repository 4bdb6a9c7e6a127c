// Benchmark: `uname -a` on 50 harness sshd hosts, fleet vs parallel-ssh -p 50 vs ansible -f 50,
// 3 runs each in one session; medians and ratios. Also a pooled second command to all 50 hosts
// and the client CPU per fresh host (measured in-process through core/). Not a test: run with
// `npm run bench -- ssh` and copy the table into BENCHMARKS.md.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeyStore } from '../core/ssh/auth';
import { resolveTarget } from '../core/targets/resolve';
import { runOnHosts } from '../core/ssh/fanout';
import { HostKeyChecker } from '../core/ssh/hostKeyPolicy';
import { KnownHosts } from '../core/ssh/knownHosts';
import { SshPool } from '../core/ssh/pool';
import { cliPath } from '../test/harness/cli';
import { SshFleet } from '../test/harness/sshFleet';
import { median, requireTool, table, timeIt } from './util';

/**
 * user: who logs in. root's ~/.bashrc on these machines runs `pyenv init` in every SSH session
 * (~85 ms of server CPU), which dominates; FLEET_BENCH_USER=fleetbench measures with a user whose
 * shell is /bin/sh (create it: useradd -M -d /tmp -s /bin/sh fleetbench && usermod -p '*' fleetbench).
 */
export async function benchSshFanout(n = 50, runs = 3, user = process.env.FLEET_BENCH_USER ?? 'root'): Promise<string> {
  const f = await SshFleet.start(n, { extraConfig: ['LogLevel ERROR'] });
  // a non-root user must be able to read the shared authorized_keys
  chmodSync(f.dir, 0o755);
  chmodSync(join(f.dir, 'authorized_keys'), 0o644);
  try {
    const dir = f.dir;
    const targets = f.hosts.map((h) => `${user}@${h.address}:${h.port}`);
    const psshHosts = join(dir, 'pssh_hosts');
    writeFileSync(psshHosts, targets.join('\n') + '\n');
    const inventory = join(dir, 'ansible_hosts');
    writeFileSync(
      inventory,
      '[fleet]\n' + f.hosts.map((h) => `${h.address} ansible_port=${h.port} ansible_user=${user}`).join('\n') + '\n',
    );
    const sshOpts = `-o UserKnownHostsFile=${f.knownHostsFile} -o StrictHostKeyChecking=yes -o GlobalKnownHostsFile=/dev/null -o BatchMode=yes`;

    const tools: Array<{ name: string; cmd: () => { file: string; args: string[]; env?: NodeJS.ProcessEnv } }> = [
      {
        name: 'fleet run',
        cmd: () => ({
          file: process.execPath,
          args: [
            cliPath,
            'run',
            ...targets,
            '--identity',
            f.clientKey,
            '--known-hosts',
            f.knownHostsFile,
            '--host-key-policy',
            'strict',
            '--concurrency',
            String(n),
            '--',
            'uname',
            '-a',
          ],
        }),
      },
      {
        name: 'parallel-ssh -p 50',
        cmd: () => ({
          file: requireTool('parallel-ssh', 'pssh'),
          args: ['-h', psshHosts, '-p', String(n), '-t', '60', '-x', `-i ${f.clientKey} ${sshOpts}`, 'uname -a'],
        }),
      },
      {
        name: 'ansible -f 50 -m command',
        cmd: () => ({
          file: requireTool('ansible', 'ansible'),
          args: [
            'fleet',
            '-i',
            inventory,
            '-f',
            String(n),
            '-m',
            'command',
            '-a',
            'uname -a',
            '--private-key',
            f.clientKey,
            `--ssh-common-args=${sshOpts}`,
          ],
          env: {
            ...process.env,
            ANSIBLE_PYTHON_INTERPRETER: 'auto_silent',
            ANSIBLE_LOCALHOST_WARNING: 'false',
            ANSIBLE_HOME: join(dir, 'ansible'),
          },
        }),
      },
    ];
    const times = new Map<string, number[]>(tools.map((t) => [t.name, []]));
    // interleave the tools so slow drift of the machine's load hits each alike
    for (let r = 0; r < runs; r++) {
      for (const t of tools) {
        const c = t.cmd();
        const ms = timeIt(() => {
          const p = spawnSync(c.file, c.args, { env: c.env, encoding: 'utf8', maxBuffer: 64 << 20 });
          if (p.status !== 0) throw new Error(`${t.name} exited ${p.status}: ${(p.stderr || p.stdout).slice(0, 2000)}`);
        });
        times.get(t.name)!.push(ms);
      }
    }
    const fleetMedian = median(times.get('fleet run')!);
    const rows = tools.map((t) => {
      const ts = times.get(t.name)!;
      return [
        t.name,
        ts.map((x) => (x / 1000).toFixed(2)).join(' / '),
        (median(ts) / 1000).toFixed(2),
        (median(ts) / fleetMedian).toFixed(1) + '×',
      ];
    });

    // in-process: fresh connections (client CPU per host), then a pooled second command
    const pool = new SshPool({
      hostKeys: new HostKeyChecker(new KnownHosts(f.knownHostsFile), 'strict'),
      keys: new KeyStore({ agentSocket: '' }),
      maxHandshakes: n,
    });
    const eps = targets.map((t) => resolveTarget(t, null, { identityFiles: [f.clientKey] }));
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const first = await runOnHosts(pool, eps, 'uname -a', { concurrency: n });
    const freshMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const pooled: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t1 = performance.now();
      const again = await runOnHosts(pool, eps, 'uname -a', { concurrency: n });
      pooled.push(performance.now() - t1);
      if (again.some((r) => r.exitCode !== 0)) throw new Error('pooled run failed');
    }
    pool.close();
    if (first.some((r) => r.exitCode !== 0))
      throw new Error('fresh run failed: ' + first.find((r) => r.error)?.error?.message);
    const cpuPerHost = (cpu.user + cpu.system) / 1000 / n;

    return [
      `### uname -a on ${n} sshd hosts as ${user} (${runs} runs each, interleaved)`,
      '',
      table(['tool', 'runs (s)', 'median (s)', 'vs fleet'], rows),
      '',
      table(
        ['fleet in-process (core/ssh)', 'value'],
        [
          ['fresh connections, wall', `${(freshMs / 1000).toFixed(2)} s`],
          ['client CPU per fresh host', `${cpuPerHost.toFixed(2)} ms`],
          [`second command over pooled connections (median of 5)`, `${median(pooled).toFixed(0)} ms`],
        ],
      ),
      '',
      `machine: ${execFileSync('nproc').toString().trim()} cores, node ${process.version}`,
    ].join('\n');
  } finally {
    await f.stop();
  }
}
