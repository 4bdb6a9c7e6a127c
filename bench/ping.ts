// Benchmark: which of a /24 answer ping, `fleet ping` (one system ping per host, 64 at once) against
// `fping -g` (one process, its default 10 ms between targets), 3 runs each, interleaved, the same
// answers checked. The /24 is 127.0.0.0/24: every address answers on loopback, so what is measured
// is each tool's own pace, not the network.
import { spawnSync } from 'node:child_process';
import { addresses, parseCidr } from '../core/inventory/cidr';
import { cliPath } from '../test/harness/cli';
import { median, requireTool, table, timeIt } from './util';

export async function benchPing(cidr = '127.0.0.0/24', runs = 3): Promise<string> {
  const fping = requireTool('fping', 'fping');
  // as fping -g: without the network and broadcast addresses
  const hosts = [...addresses(parseCidr(cidr))].slice(1, -1);
  const times = { fleet: [] as number[], fping: [] as number[] };
  let fleetAlive: string[] = [];
  let fpingAlive: string[] = [];
  for (let r = 0; r < runs; r++) {
    times.fleet.push(
      timeIt(() => {
        const p = spawnSync(process.execPath, [cliPath, 'ping', ...hosts, '--json'], { encoding: 'utf8' });
        fleetAlive = p.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { host: string; alive: boolean })
          .filter((x) => x.alive)
          .map((x) => x.host);
      }),
    );
    times.fping.push(
      timeIt(() => {
        const p = spawnSync(fping, ['-q', '-a', '-g', cidr], { encoding: 'utf8' });
        fpingAlive = p.stdout.trim().split('\n').filter(Boolean);
      }),
    );
  }
  const same = fleetAlive.slice().sort().join() === fpingAlive.slice().sort().join();
  if (!same) throw new Error(`different answers: fleet ${fleetAlive.length} alive, fping ${fpingAlive.length}`);
  const f = median(times.fleet);
  return [
    `### Which of ${cidr} answer ping (${runs} runs each, interleaved)`,
    '',
    table(
      ['tool', 'runs (s)', 'median (s)', 'vs fleet', 'alive'],
      [
        ['fleet ping (64 at once)', times.fleet, fleetAlive.length] as const,
        ['fping -q -a -g (defaults)', times.fping, fpingAlive.length] as const,
      ].map(([name, ts, n]) => [
        name,
        ts.map((x) => (x / 1000).toFixed(2)).join(' / '),
        (median(ts) / 1000).toFixed(2),
        `${(median(ts) / f).toFixed(1)}×`,
        String(n),
      ]),
    ),
    '',
    'Same answers from both (checked). fping waits 10 ms between targets by default (`-i`), which sets its pace on a /24.',
  ].join('\n');
}
