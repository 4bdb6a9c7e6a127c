// Host CPU and memory, sampled every resolution seconds into the seed's /debug/vars shape, and
// rendered as Prometheus text for /metrics. Serving never spawns a process: CPU comes from
// /proc/stat, memory from /proc/meminfo (see ARCHITECTURE.md for why not systeminformation).
import { readFileSync } from 'node:fs';
import type { CpuPerf, DebugVars, PackageStatus } from '../core/protocol/agent';
import { sleep } from '../core/sleep';

type Ticks = Record<string, number[]>; // cpu id -> user nice system idle iowait irq softirq steal

function readProcStat(): Ticks {
  const out: Ticks = {};
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    if (!line.startsWith('cpu')) continue;
    const [id, ...nums] = line.trim().split(/\s+/);
    out[id === 'cpu' ? 'cpu-total' : id] = nums.slice(0, 8).map(Number);
  }
  return out;
}

export class Stats {
  private last: Ticks = readProcStat();
  private current: DebugVars = { 'system-cpu': null, 'system-mem': null };
  private timer?: NodeJS.Timeout;

  constructor(readonly resolutionSecs: number) {}

  /** resolves once the first sample is in: /debug/vars waits for it, never answers empty */
  ready: Promise<void> = Promise.resolve();

  /**
   * A first sample over a short window (so the numbers are never an average since boot), taken in
   * the background: the agent answers while it runs, and only stats requests wait for it.
   */
  start(): void {
    this.ready = (async () => {
      await sleep(200);
      await this.sample();
    })().catch(() => undefined); // no /proc: the vars stay null, as the seed's shape allows
    this.timer = setInterval(() => void this.sample().catch(() => undefined), this.resolutionSecs * 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  get vars(): DebugVars {
    return this.current;
  }

  async sample(): Promise<void> {
    const now = readProcStat();
    const cpus: CpuPerf[] = [];
    for (const [id, t] of Object.entries(now)) {
      const p = this.last[id] ?? t.map(() => 0);
      const d = t.map((v, i) => v - (p[i] ?? 0));
      const total = d.reduce((a, b) => a + b, 0) || 1;
      const pct = (x: number) => Math.round((x / total) * 10000) / 100;
      cpus.push({
        ID: id,
        User: pct(d[0] + d[1]),
        System: pct(d[2]),
        Idle: pct(d[3]),
        IOWait: pct(d[4]),
        IRQ: pct(d[5] + d[6]),
      });
    }
    this.last = now;
    const m = readMeminfo();
    const nano = Date.now() * 1e6;
    this.current = {
      'system-cpu': { ResolutionSecs: this.resolutionSecs, UnixTimeNano: nano, CPU: cpus },
      'system-mem': {
        ResolutionSecs: this.resolutionSecs,
        UnixTimeNano: nano,
        Total: m.total,
        Free: m.free,
        Avail: m.available,
      },
    };
  }
}

/** bytes from /proc/meminfo: MemTotal, MemFree, MemAvailable */
export function readMeminfo(text = readFileSync('/proc/meminfo', 'utf8')): {
  total: number;
  free: number;
  available: number;
} {
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
  return { total: kb('MemTotal'), free: kb('MemFree'), available: kb('MemAvailable') };
}

const states = ['running', 'starting', 'backoff', 'crashed', 'stopped'] as const;

export function prometheusText(vars: DebugVars, packages: PackageStatus[]): string {
  const lines: string[] = [];
  const metric = (name: string, help: string, type: string, samples: Array<[string, number]>) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, v] of samples) lines.push(`${name}${labels} ${v}`);
  };
  const cpu = vars['system-cpu']?.CPU ?? [];
  metric(
    'fleet_host_cpu_busy_percent',
    'CPU time not idle over the last sample interval, in percent.',
    'gauge',
    cpu.map((c) => [`{cpu="${c.ID}"}`, Math.round((100 - c.Idle) * 100) / 100]),
  );
  const mem = vars['system-mem'];
  if (mem) {
    metric('fleet_host_memory_total_bytes', 'Total memory.', 'gauge', [['', mem.Total]]);
    metric('fleet_host_memory_available_bytes', 'Memory available for new programs.', 'gauge', [['', mem.Avail]]);
    metric('fleet_host_memory_free_bytes', 'Unused memory.', 'gauge', [['', mem.Free]]);
  }
  metric(
    'fleet_package_state',
    'Supervised program state (1 for the current state).',
    'gauge',
    packages.flatMap((p) =>
      states.map((s) => [`{package="${p.name}",state="${s}"}`, p.state === s ? 1 : 0] as [string, number]),
    ),
  );
  metric(
    'fleet_package_restarts_total',
    'Restarts of the program since the agent started.',
    'counter',
    packages.map((p) => [`{package="${p.name}"}`, p.restarts]),
  );
  return lines.join('\n') + '\n';
}
