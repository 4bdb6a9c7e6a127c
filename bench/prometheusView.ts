// Benchmark: a refresh of the Fleet view's 1,000 hosts from a real Prometheus (what the extension
// runs when fleet.prometheus.url is set) against the same 1,000 hosts asked over SSH (simulated
// probes, as in bench/extension.ts: 1,000 sshd on 2 cores would measure the machine, not Fleet).
// A test exporter serves agent-like /metrics for 1,000 targets (one port each) and Prometheus
// scrapes them every 5 s; the benchmark waits until all are up and their CPU rates exist.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { FleetModel, type FleetHost } from '../core/hosts/fleetModel';
import type { HostProbe } from '../core/hosts/probe';
import { statsQueries } from '../core/hosts/promStats';
import { treeRoots } from '../core/fleetView/treeModel';
import { PrometheusClient } from '../core/prometheus/client';
import { KeyStore } from '../core/ssh/auth';
import { HostKeyChecker } from '../core/ssh/hostKeyPolicy';
import { KnownHosts } from '../core/ssh/knownHosts';
import { SshPool } from '../core/ssh/pool';
import { freePort, waitFor } from '../test/harness/net';
import { PrometheusProcess } from '../test/harness/prometheus';
import { median, table } from './util';

const n = 1000;

function metricsOf(i: number, t: number): string {
  const idle = 1000 * t + i;
  return [
    `node_cpu_seconds_total{cpu="0",mode="idle"} ${idle}`,
    `node_cpu_seconds_total{cpu="0",mode="iowait"} ${t}`,
    `node_memory_MemTotal_bytes 8589934592`,
    `node_memory_MemAvailable_bytes ${4e9 + i}`,
    `node_load1 0.${i % 100}`,
    `node_boot_time_seconds 1700000000`,
    `node_time_seconds ${Date.now() / 1000}`,
    `node_uname_info{sysname="Linux",nodename="h${i}",release="6.1.0",version="#1 SMP",machine="x86_64"} 1`,
    `fleet_agent_info{version="0.2.0",build="abcdef123456",node="v20.20.2"} 1`,
    `fleet_package_state{package="web",state="running"} 1`,
    `fleet_package_restarts_total{package="web"} 0`,
    `fleet_package_info{package="web",version="v2",sha256="ab"} 1`,
    '',
  ].join('\n');
}

export async function benchPrometheusView(): Promise<string> {
  const servers: Server[] = [];
  const ports: number[] = [];
  for (let i = 0; i < n; i++) {
    const port = await freePort();
    const s = createServer((_req, res) => res.end(metricsOf(i, Math.floor(Date.now() / 1000))));
    await new Promise<void>((r) => s.listen(port, '127.0.0.1', r));
    servers.push(s);
    ports.push(port);
  }
  const targets = ports.map((p, i) => ({ targets: [`127.0.0.1:${p}`], labels: { host: `h${i}` } }));
  const dir = mkdtempSync(join(tmpdir(), 'bench-prom-'));
  writeFileSync(join(dir, 'targets.json'), JSON.stringify(targets));
  const prom = await PrometheusProcess.startWith(
    [
      '- job_name: "fleet-agents"',
      '  file_sd_configs:',
      `    - files: [${JSON.stringify(join(dir, 'targets.json'))}]`,
    ].join('\n'),
    '5s',
  );
  const pool = new SshPool({
    hostKeys: new HostKeyChecker(new KnownHosts(join(dir, 'known_hosts')), 'strict'),
    keys: new KeyStore({ agentSocket: '' }),
  });
  try {
    const client = new PrometheusClient(prom.url, { timeoutMs: 30_000 });
    await waitFor(async () => {
      const cpu = await client.query(statsQueries('fleet-agents').cpu);
      if (cpu.length < 2 * n) throw new Error(`${cpu.length / 2} of ${n} hosts have CPU rates`);
    }, 120_000);
    const hosts: FleetHost[] = Array.from({ length: n }, (_, i) => ({
      name: `h${i}`,
      groups: [`g${i % 10}`],
      endpoint: { host: '127.0.0.1', port: 1, user: 'nobody', label: `h${i}` } as FleetHost['endpoint'],
    }));
    const model = new FleetModel(pool, () => undefined);
    model.setHosts(hosts);
    model.prometheus = { client, job: 'fleet-agents' };
    const walls: number[] = [];
    const blocks: number[] = [];
    for (let r = 0; r < 5; r++) {
      const h = monitorEventLoopDelay({ resolution: 5 });
      h.enable();
      const t = performance.now();
      await model.refresh({ skipSsh: () => true });
      const roots = treeRoots([...model.states.values()]); // the view's rows for them
      walls.push(performance.now() - t);
      h.disable();
      blocks.push(h.max / 1e6);
      if (roots.length !== 10) throw new Error('groups missing');
    }
    const fromProm = [...model.states.values()].filter((s) => s.probe?.source === 'prometheus' && s.probe.ok).length;
    if (fromProm !== n) throw new Error(`${fromProm} of ${n} hosts from Prometheus`);

    // the same 1,000 hosts over SSH, simulated: each answers a real probe's shape after 0.2-0.5 s
    // (the probe's own 0.2 s CPU sample plus a loopback-like round trip), 50 at once as the view does
    const sample: HostProbe = { ...(model.states.get('h0')!.probe as { probe: HostProbe }).probe };
    const ssh = new FleetModel(
      pool,
      () => undefined,
      async () => {
        await new Promise((r) => setTimeout(r, 200 + Math.random() * 300));
        return { ok: true, probe: sample, at: new Date() };
      },
    );
    ssh.setHosts(hosts);
    const h2 = monitorEventLoopDelay({ resolution: 5 });
    h2.enable();
    const t2 = performance.now();
    await ssh.refresh({ concurrency: 50 });
    treeRoots([...ssh.states.values()]);
    const sshWall = performance.now() - t2;
    h2.disable();
    return [
      '### Fleet view at 1,000 hosts: Prometheus against SSH (`npm run bench -- prometheus-view`)',
      '',
      table(
        ['measure', 'value', 'goal'],
        [
          [
            'refresh of 1,000 hosts from Prometheus (3 queries) + tree rows, median of 5',
            `${median(walls).toFixed(0)} ms`,
            '< 1 s',
          ],
          ['longest event-loop block during it (max of 5)', `${Math.max(...blocks).toFixed(1)} ms`, '< 50 ms'],
          ['refresh of the same 1,000 hosts over SSH (simulated probes, 50 at once)', `${sshWall.toFixed(0)} ms`, ''],
          ['longest event-loop block during it', `${(h2.max / 1e6).toFixed(1)} ms`, ''],
        ],
      ),
      '',
      `Prometheus ${prom.url} scraped ${n} exporter targets every 5 s; ratio SSH/Prometheus wall time ${(sshWall / median(walls)).toFixed(1)}×.`,
    ].join('\n');
  } finally {
    pool.close();
    await prom.stop();
    for (const s of servers) s.close();
  }
}
