// Benchmark: push 20 MB to 20 harness hosts, fleet push (sha256 verified on each host) vs
// parallel-scp -p 20 (pssh package, no verification), 3 runs each interleaved.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliPath } from '../test/harness/cli';
import { SshFleet } from '../test/harness/sshFleet';
import { median, requireTool, table, timeIt } from './util';

export async function benchPush(n = 20, runs = 3): Promise<string> {
  const homes: string[] = [];
  const f = await SshFleet.start(n, {
    hostConfig: (i, dir, fleet) => {
      homes[i] = fleet.userDir(join(dir, 'home'));
      return [`SetEnv HOME=${homes[i]}`];
    },
  });
  try {
    const file = join(f.dir, 'payload.bin');
    writeFileSync(file, randomBytes(20 * 1024 * 1024));
    const hostsFile = join(f.dir, 'pscp_hosts');
    writeFileSync(hostsFile, f.hosts.map((h) => h.target).join('\n') + '\n');
    const sshOpts = `-i ${f.clientKey} -o UserKnownHostsFile=${f.knownHostsFile} -o StrictHostKeyChecking=yes -o GlobalKnownHostsFile=/dev/null -o BatchMode=yes`;
    const tools: Array<[string, string, string[]]> = [
      [
        'fleet push (sha256 verified)',
        process.execPath,
        [
          cliPath,
          'push',
          ...f.hosts.map((h) => h.target),
          file,
          '~/payload.bin',
          '--identity',
          f.clientKey,
          '--known-hosts',
          f.knownHostsFile,
          '--host-key-policy',
          'strict',
          '--concurrency',
          String(n),
        ],
      ],
      // the 20 test hosts share one filesystem: parallel-scp writes one path 20 times, as each real host would
      [
        'parallel-scp -p 20 (no verification)',
        requireTool('parallel-scp', 'pssh'),
        [
          '-h',
          hostsFile,
          '-p',
          String(n),
          '-t',
          '120',
          '-x',
          sshOpts,
          file,
          `/tmp/fleet-bench-pscp-${process.pid}.bin`,
        ],
      ],
    ];
    const times = new Map<string, number[]>(tools.map(([name]) => [name, []]));
    for (let r = 0; r < runs; r++) {
      for (const [name, bin, args] of tools) {
        times.get(name)!.push(
          timeIt(() => {
            const p = spawnSync(bin, args, { encoding: 'utf8' });
            if (p.status !== 0) throw new Error(`${name} exited ${p.status}: ${(p.stderr || p.stdout).slice(0, 1000)}`);
          }),
        );
      }
    }
    const base = median(times.get(tools[0][0])!);
    return [
      `### Push 20 MB to ${n} sshd hosts (${runs} runs each, interleaved)`,
      '',
      table(
        ['tool', 'runs (s)', 'median (s)', 'vs fleet'],
        tools.map(([name]) => {
          const ts = times.get(name)!;
          return [
            name,
            ts.map((t) => (t / 1000).toFixed(2)).join(' / '),
            (median(ts) / 1000).toFixed(2),
            `${(median(ts) / base).toFixed(2)}×`,
          ];
        }),
      ),
    ].join('\n');
  } finally {
    spawnSync('rm', ['-f', `/tmp/fleet-bench-pscp-${process.pid}.bin`]);
    await f.stop();
  }
}
