// Host CPU and memory, sampled every resolution seconds into the seed's /debug/vars shape
// (metrics.ts renders /metrics). Serving never spawns a process: CPU comes from
// /proc/stat, memory from /proc/meminfo (see ARCHITECTURE.md for why not systeminformation).
import { readFileSync } from 'node:fs';
import type { CpuPerf, DebugVars } from '../core/protocol/agent';
import { sleep } from '../core/sleep';

export type Ticks = Record<string, number[]>; // cpu id -> user nice system idle iowait irq softirq steal

/** per-CPU ticks from /proc/stat's text (read here when not given) */
export function readProcStat(text = readFileSync('/proc/stat', 'utf8')): Ticks {
  const out: Ticks = {};
  for (const line of text.split('\n')) {
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
