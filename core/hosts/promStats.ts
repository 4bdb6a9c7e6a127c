// The Fleet view's host stats from Prometheus instead of one SSH session per host: three instant
// queries per refresh whatever the fleet's size (the agents' raw series, their CPU rates, the time of
// their last scrape), matched to the inventory by the `host` label that `fleet prometheus config`
// gives each target. A host Prometheus does not scrape is left out of the answer: the caller asks
// it over SSH.
import type { PackageStatus } from '../protocol/agent';
import { checkJobName } from '../prometheus/jobName';
import { PrometheusClient, type Sample } from '../prometheus/client';
import type { HostProbe, ProbeResult } from './probe';

export interface PrometheusSource {
  client: PrometheusClient;
  /** the scrape job of the agents (`fleet prometheus config --job`, default fleet-agents) */
  job: string;
}

export interface PromHost {
  probe: ProbeResult;
  packages?: PackageStatus[];
}

export const defaultJob = 'fleet-agents';

const series = [
  'up',
  'node_memory_MemTotal_bytes',
  'node_memory_MemAvailable_bytes',
  'node_load1',
  'node_boot_time_seconds',
  'node_time_seconds',
  'node_uname_info',
  'fleet_agent_info',
  'fleet_package_state',
  'fleet_package_restarts_total',
  'fleet_package_info',
];

/** the queries of one refresh (exported for the docs and the benchmark) */
export function statsQueries(job: string): { raw: string; cpu: string; scraped: string } {
  const j = `job="${checkJobName(job)}"`;
  return {
    raw: `{${j},__name__=~"${series.join('|')}"}`,
    cpu: `avg by (host, mode) (irate(node_cpu_seconds_total{${j},mode=~"idle|iowait"}[5m]))`,
    scraped: `timestamp(up{${j}})`,
  };
}

/** every host Prometheus scrapes for the job, by its `host` label */
export async function statsFromPrometheus(src: PrometheusSource, signal?: AbortSignal): Promise<Map<string, PromHost>> {
  const q = statsQueries(src.job);
  const [raw, cpu, scraped] = await Promise.all([
    src.client.query(q.raw, signal),
    src.client.query(q.cpu, signal),
    src.client.query(q.scraped, signal),
  ]);
  return foldStats(raw, cpu, scraped);
}

/** the answers of the three queries, host by host (pure: unit-tested with hand-made samples) */
export function foldStats(raw: Sample[], cpu: Sample[], scraped: Sample[]): Map<string, PromHost> {
  const byHost = new Map<string, Sample[]>();
  for (const s of raw) {
    const h = s.labels.host;
    if (!h) continue;
    let list = byHost.get(h);
    if (!list) byHost.set(h, (list = []));
    list.push(s);
  }
  const cpuOf = (host: string, mode: string) => cpu.find((s) => s.labels.host === host && s.labels.mode === mode);
  const out = new Map<string, PromHost>();
  for (const [host, samples] of byHost) {
    const one = (name: string) => samples.find((s) => s.labels.__name__ === name);
    const up = one('up');
    if (!up) continue;
    const lastScrape = scraped.find((s) => s.labels.host === host);
    const at = new Date(lastScrape ? lastScrape.value * 1000 : up.at);
    if (up.value !== 1) {
      out.set(host, {
        probe: { ok: false, error: 'Prometheus could not scrape its agent (up is 0)', at, source: 'prometheus' },
      });
      continue;
    }
    const total = one('node_memory_MemTotal_bytes')?.value ?? null;
    const avail = one('node_memory_MemAvailable_bytes')?.value ?? null;
    const idle = cpuOf(host, 'idle');
    const iowait = cpuOf(host, 'iowait');
    const u = one('node_uname_info')?.labels;
    const agent = one('fleet_agent_info')?.labels;
    const boot = one('node_boot_time_seconds')?.value;
    const time = one('node_time_seconds')?.value;
    const probe: HostProbe = {
      uname: u ? [u.sysname, u.nodename, u.release, u.version, u.machine].filter(Boolean).join(' ') : '',
      cpuPct: idle ? round1(100 * (1 - idle.value)) : null,
      memTotalBytes: total,
      memUsedBytes: total !== null && avail !== null ? total - avail : null,
      agentSocket: true, // it answered Prometheus: an agent runs there
      ...(agent?.version && agent.build ? { agentId: `${agent.version}-${agent.build}` } : {}),
      ...(iowait ? { iowaitPct: round1(100 * iowait.value) } : {}),
      ...(one('node_load1') ? { load1: one('node_load1')!.value } : {}),
      ...(boot && time ? { uptimeSecs: Math.round(time - boot) } : {}),
    };
    out.set(host, { probe: { ok: true, probe, at, source: 'prometheus' }, packages: packagesOf(samples) });
  }
  return out;
}

/** what the view shows of each package; the rest of PackageStatus is not in the metrics */
function packagesOf(samples: Sample[]): PackageStatus[] {
  const names = new Set(samples.filter((s) => s.labels.package).map((s) => s.labels.package));
  return [...names].sort().map((name) => {
    const mine = samples.filter((s) => s.labels.package === name);
    const state = mine.find((s) => s.labels.__name__ === 'fleet_package_state' && s.value === 1)?.labels.state;
    const info = mine.find((s) => s.labels.__name__ === 'fleet_package_info')?.labels;
    const restarts = mine.find((s) => s.labels.__name__ === 'fleet_package_restarts_total')?.value ?? 0;
    return {
      name,
      binary: '',
      args: [],
      state: (state ?? 'stopped') as PackageStatus['state'],
      desired: state === 'stopped' ? 'stopped' : 'running',
      pid: null,
      restarts,
      startedAt: null,
      lastExit: null,
      sha256: info?.sha256 ?? '',
      version: info?.version ?? '',
      installedAt: '',
      previous: null,
    };
  });
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
