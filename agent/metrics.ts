// The agent's /metrics in Prometheus text: the host in node_exporter's names (so dashboards and
// queries written for node_exporter work: node_cpu_seconds_total, node_memory_*_bytes, node_load1,
// node_boot_time_seconds, node_uname_info), the agent (fleet_agent_info) and its packages
// (fleet_package_state, fleet_package_restarts_total, fleet_package_info). Read from /proc at scrape
// time, never by spawning a process; a file a host lacks leaves its metrics out.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { AgentInfo, DebugVars, PackageStatus } from '../core/protocol/agent';
import { readProcStat } from './stats';

const states = ['running', 'starting', 'backoff', 'crashed', 'stopped'] as const;
const cpuModes = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;
/** /proc/stat counts in USER_HZ, 100 on every Linux architecture Fleet supports (x86-64, arm64) */
const userHz = 100;

type Labels = Record<string, string>;

export function prometheusText(vars: DebugVars, packages: PackageStatus[], info?: AgentInfo): string {
  const lines: string[] = [];
  const metric = (name: string, help: string, type: string, samples: Array<[Labels, number]>) => {
    if (!samples.length) return;
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, v] of samples) lines.push(`${name}${labelText(labels)} ${v}`);
  };

  const procStat = tryRead(() => readFileSync('/proc/stat', 'utf8')); // read once: CPU ticks and boot time
  const ticks = procStat === undefined ? {} : readProcStat(procStat);
  metric(
    'node_cpu_seconds_total',
    'Seconds the CPUs spent in each mode.',
    'counter',
    Object.entries(ticks)
      .filter(([id]) => id !== 'cpu-total')
      .flatMap(([id, t]) =>
        cpuModes.map((mode, i) => [{ cpu: id.replace(/^cpu/, ''), mode }, (t[i] ?? 0) / userHz] as [Labels, number]),
      ),
  );
  const cpu = vars['system-cpu']?.CPU ?? [];
  metric(
    'fleet_host_cpu_busy_percent',
    'CPU time not idle over the agent sample interval, in percent.',
    'gauge',
    cpu.map((c) => [{ cpu: c.ID }, round2(100 - c.Idle)]),
  );
  metric(
    'fleet_host_cpu_iowait_percent',
    'CPU time waiting for I/O over the agent sample interval, in percent.',
    'gauge',
    cpu.map((c) => [{ cpu: c.ID }, c.IOWait]),
  );
  const mem = vars['system-mem'];
  if (mem) {
    metric('node_memory_MemTotal_bytes', 'Memory information field MemTotal_bytes.', 'gauge', [[{}, mem.Total]]);
    metric('node_memory_MemAvailable_bytes', 'Memory information field MemAvailable_bytes.', 'gauge', [
      [{}, mem.Avail],
    ]);
    metric('node_memory_MemFree_bytes', 'Memory information field MemFree_bytes.', 'gauge', [[{}, mem.Free]]);
  }
  const load = tryRead(() => readFileSync('/proc/loadavg', 'utf8').split(/\s+/).slice(0, 3).map(Number));
  if (load?.every(Number.isFinite)) {
    metric('node_load1', '1m load average.', 'gauge', [[{}, load[0]]]);
    metric('node_load5', '5m load average.', 'gauge', [[{}, load[1]]]);
    metric('node_load15', '15m load average.', 'gauge', [[{}, load[2]]]);
  }
  const btime = Number(/^btime (\d+)$/m.exec(procStat ?? '')?.[1]);
  if (btime) metric('node_boot_time_seconds', 'Node boot time, in unixtime.', 'gauge', [[{}, btime]]);
  metric('node_time_seconds', 'System time in seconds since epoch (1970).', 'gauge', [[{}, Date.now() / 1000]]);
  metric('node_uname_info', 'Labeled system information as provided by the uname system call.', 'gauge', [
    [
      {
        sysname: os.type(),
        nodename: os.hostname(),
        release: os.release(),
        version: os.version(),
        machine: os.machine(),
      },
      1,
    ],
  ]);

  if (info)
    metric('fleet_agent_info', 'The Fleet agent that serves these metrics (value 1).', 'gauge', [
      [{ version: info.version, build: info.build, node: info.node }, 1],
    ]);
  metric(
    'fleet_package_state',
    'Supervised program state (1 for the current state).',
    'gauge',
    packages.flatMap((p) =>
      states.map((s) => [{ package: p.name, state: s }, p.state === s ? 1 : 0] as [Labels, number]),
    ),
  );
  metric(
    'fleet_package_restarts_total',
    'Restarts of the program since the agent started.',
    'counter',
    packages.map((p) => [{ package: p.name }, p.restarts]),
  );
  metric(
    'fleet_package_info',
    'The installed version of each package (value 1).',
    'gauge',
    packages.map((p) => [{ package: p.name, version: p.version, sha256: p.sha256 }, 1]),
  );
  return lines.join('\n') + '\n';
}

/** label values escaped as the text format says (backslash, double quote, newline) */
function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(
    ([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`,
  );
  return parts.length ? `{${parts.join(',')}}` : '';
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function tryRead<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}
