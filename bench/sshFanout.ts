// Benchmark: `uname -a` on 50 harness sshd hosts, fleet vs parallel-ssh -p 50 vs ansible -f 50,
// 3 runs each in one session; medians and ratios. Also a pooled second command to all 50 hosts
// and the client CPU per fresh host (measured in-process through core/). Not a test: run with
// `npm run bench -- ssh` and copy the table into BENCHMARKS.md.
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeyStore } from '../core/ssh/auth';
import { resolveTarget } from '../core/targets/resolve';
import { runOnHosts } from '../core/ssh/fanout';
import { HostKeyChecker } from '../core/ssh/hostKeyPolicy';
import { KnownHosts } from '../core/ssh/knownHosts';
import { SshPool, type PoolOptions } from '../core/ssh/pool';
import { cliPath } from '../test/harness/cli';
import { SshFleet } from '../test/harness/sshFleet';
import { LatencyProxyProcess, type LatencyOptions } from '../test/harness/latencyProxy';
import { median, requireTool, table, timeIt } from './util';

/**
 * Who logs in: the harness fleet's plain /bin/sh user (root's ~/.bashrc on these machines runs
 * `pyenv init` in every SSH session, which would dominate); FLEET_BENCH_USER names another.
 */
export async function benchSshFanout(n = 50, runs = 3, latency?: LatencyOptions): Promise<string> {
  const f = await SshFleet.start(n, { extraConfig: ['LogLevel ERROR'] });
  const user = process.env.FLEET_BENCH_USER ?? f.loginName;
  // with latency: each host behind its own proxy on 127.201.X.Y (same port), known to every tool by that address
  let proxies: LatencyProxyProcess | undefined;
  let knownHostsFile = f.knownHostsFile;
  let hosts = f.hosts.map((h) => ({ address: h.address, port: h.port }));
  if (latency) {
    const routes = f.hosts.map((h, i) => ({
      listen: { host: `127.201.${i >> 8}.${(i & 255) + 1}`, port: h.port },
      target: { host: h.address, port: h.port },
    }));
    proxies = await LatencyProxyProcess.start(routes, latency);
    hosts = routes.map((r) => ({ address: r.listen.host, port: r.listen.port }));
    knownHostsFile = join(f.dir, 'known_hosts_proxied');
    writeFileSync(
      knownHostsFile,
      f.hosts.map((h, i) => h.knownHostsLine.replace(`[${h.address}]`, `[${hosts[i].address}]`)).join('\n') + '\n',
    );
  }
  try {
    const dir = f.dir;
    const targets = hosts.map((h) => `${user}@${h.address}:${h.port}`);
    const psshHosts = join(dir, 'pssh_hosts');
    writeFileSync(psshHosts, targets.join('\n') + '\n');
    const inventory = join(dir, 'ansible_hosts');
    writeFileSync(
      inventory,
      '[fleet]\n' + hosts.map((h) => `${h.address} ansible_port=${h.port} ansible_user=${user}`).join('\n') + '\n',
    );
    const sshOpts = `-o UserKnownHostsFile=${knownHostsFile} -o StrictHostKeyChecking=yes -o GlobalKnownHostsFile=/dev/null -o BatchMode=yes`;

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
            knownHostsFile,
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
    /** a fresh pool, host keys checked, every host's handshake at once */
    const newPool = (o: Partial<PoolOptions> = {}) =>
      new SshPool({
        hostKeys: new HostKeyChecker(new KnownHosts(knownHostsFile), 'strict'),
        keys: new KeyStore({ agentSocket: '' }),
        maxHandshakes: n,
        ...o,
      });
    const pool = newPool();
    const eps = targets.map((t) => resolveTarget(t, null, { identityFiles: [f.clientKey] }));
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const first = await runOnHosts(pool, eps, 'uname -a', { concurrency: n });
    const freshMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    /** five timed runs of `uname -a` on every host over `p`'s connections, in ms */
    const fiveRuns = async (p: SshPool, what: string): Promise<number[]> => {
      const ms: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t1 = performance.now();
        const again = await runOnHosts(p, eps, 'uname -a', { concurrency: n });
        ms.push(performance.now() - t1);
        if (again.some((r) => r.exitCode !== 0)) throw new Error(`${what} run failed`);
      }
      return ms;
    };
    const pooled = await fiveRuns(pool, 'pooled');
    pool.close();
    // the same fresh connections again in this now warm process (the JIT has compiled ssh2's hot
    // paths): what a long-lived process (the extension, a rollout) pays per host, against the cold
    // first batch that a one-shot `fleet run` pays
    const warmPool = newPool();
    const warmCpu0 = process.cpuUsage();
    const tWarm = performance.now();
    const warm = await runOnHosts(warmPool, eps, 'uname -a', { concurrency: n });
    const warmMs = performance.now() - tWarm;
    const warmCpu = process.cpuUsage(warmCpu0);
    warmPool.close();
    if (warm.some((r) => r.exitCode !== 0)) throw new Error('warm fresh run failed');
    // the Fleet view's pool: a shell kept on each connection (core/ssh/shellSession.ts); its first
    // command is an exec, the second starts the shell, the 5 timed ones run in it
    const keepPool = newPool({ keepShell: true });
    for (let i = 0; i < 2; i++) await runOnHosts(keepPool, eps, 'uname -a', { concurrency: n });
    const keptRuns = await fiveRuns(keepPool, 'kept-shell');
    keepPool.close();
    // one host alone: round trips without 50 sshd sharing 2 cores (what one host far away costs)
    const oneFresh: number[] = [];
    const onePooled: number[] = [];
    for (let i = 0; i < 5; i++) {
      const p1 = newPool({ maxHandshakes: undefined });
      let t = performance.now();
      const a = await runOnHosts(p1, [eps[i]], 'uname -a');
      oneFresh.push(performance.now() - t);
      t = performance.now();
      const b = await runOnHosts(p1, [eps[i]], 'uname -a');
      onePooled.push(performance.now() - t);
      p1.close();
      if (a[0].exitCode !== 0 || b[0].exitCode !== 0) throw new Error('single-host run failed');
    }
    if (first.some((r) => r.exitCode !== 0))
      throw new Error('fresh run failed: ' + first.find((r) => r.error)?.error?.message);
    const cpuPerHost = (cpu.user + cpu.system) / 1000 / n;
    const warmCpuPerHost = (warmCpu.user + warmCpu.system) / 1000 / n;

    // fleet's own start: Node plus the bundle, what every `fleet` command pays before any SSH
    const startup = median(
      Array.from({ length: 5 }, () =>
        timeIt(() => spawnSync(process.execPath, [cliPath, '--version'], { encoding: 'utf8' })),
      ),
    );
    const nodeAlone = median(
      Array.from({ length: 5 }, () => timeIt(() => spawnSync(process.execPath, ['-e', '0'], { encoding: 'utf8' }))),
    );
    const rtt = latency ? 2 * latency.oneWayMs : 0;
    const floorFresh = floorRoundTrips.fresh * rtt;
    const floorPooled = floorRoundTrips.pooled * rtt;
    const vsFloor = (ms: number) => (latency ? ` (${(ms / floorFresh).toFixed(2)}× the floor)` : '');
    return [
      `### uname -a on ${n} sshd hosts as ${user}${latency ? `, each behind a ${rtt} ms RTT proxy` : ''} (${runs} runs each, interleaved)`,
      '',
      table(
        ['tool', 'runs (s)', 'median (s)', 'vs fleet', ...(latency ? ['vs floor'] : [])],
        rows.map((r, i) => [
          ...r,
          ...(latency ? [`${(median(times.get(tools[i].name)!) / floorFresh).toFixed(2)}×`] : []),
        ]),
      ),
      ...(latency
        ? [
            '',
            `Floor: a fresh exec needs ${floorRoundTrips.fresh} round trips (${floorRoundTrips.why}) = ${floorFresh} ms at ${rtt} ms RTT; a command on a pooled connection ${floorRoundTrips.pooled} (channel open, exec) = ${floorPooled} ms.`,
          ]
        : []),
      '',
      table(
        ['fleet in-process (core/ssh)', 'value'],
        [
          ['fresh connections, wall', `${(freshMs / 1000).toFixed(2)} s${vsFloor(freshMs)}`],
          ['client CPU per fresh host', `${cpuPerHost.toFixed(2)} ms`],
          ['the same again in the warm process: wall', `${(warmMs / 1000).toFixed(2)} s${vsFloor(warmMs)}`],
          ['the same again in the warm process: client CPU per fresh host', `${warmCpuPerHost.toFixed(2)} ms`],
          ['`fleet --version` wall (median of 5)', `${startup.toFixed(0)} ms (node -e 0: ${nodeAlone.toFixed(0)} ms)`],
          [
            'one host alone, fresh connection (median of 5; all 5)',
            `${median(oneFresh).toFixed(0)} ms${latency ? ` (${(median(oneFresh) / floorFresh).toFixed(2)}× the floor)` : ''}; ${oneFresh.map((t) => t.toFixed(0)).join(' / ')} ms`,
          ],
          [
            'one host alone, second command pooled (median of 5)',
            `${median(onePooled).toFixed(0)} ms${latency ? ` (${(median(onePooled) / floorPooled).toFixed(2)}× its floor)` : ''}`,
          ],
          [
            `second command over pooled connections (median of 5)`,
            `${median(pooled).toFixed(0)} ms${latency ? ` (${(median(pooled) / floorPooled).toFixed(2)}× its floor)` : ''}`,
          ],
          [
            `a command over pooled connections in kept shells (the Fleet view's pool; median of 5)`,
            `${median(keptRuns).toFixed(0)} ms${latency ? ` (${(median(keptRuns) / floorPooled).toFixed(2)}× the exec floor: one round trip, not two)` : ''}`,
          ],
        ],
      ),
      '',
      `machine: ${execFileSync('nproc').toString().trim()} cores, node ${process.version}`,
    ].join('\n');
  } finally {
    await proxies?.stop();
    await f.stop();
  }
}

/**
 * Round trips an SSH client cannot avoid, publickey auth, OpenSSH server: TCP (1); both sides send
 * their version and KEXINIT at once, then ECDH init -> reply + NEWKEYS (1); NEWKEYS + service
 * request -> accept (1); publickey with its signature -> success (1; a client that first asks
 * whether the key is acceptable pays 1 more); channel open -> confirmation (1); exec -> output,
 * exit status and close (1).
 */
export const floorRoundTrips = {
  fresh: 6,
  pooled: 2,
  why: 'TCP, key exchange, service request, publickey with signature, channel open, exec',
};
