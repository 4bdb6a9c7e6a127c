// What the Fleet view shows of a host, gathered with one SSH command per refresh over pooled
// connections: uname, two /proc/stat samples (CPU %), /proc/meminfo, and whether the agent's
// socket exists. The parser is pure; the remote output is data, never a path or a command.
import { errorMessage, HostKeyError } from '../errors';
import type { SshEndpoint } from '../ssh/endpoint';
import type { SshPool } from '../ssh/pool';

export const probeCommand = [
  'uname -a',
  'echo @@',
  'head -n 1 /proc/stat',
  'sleep 0.2',
  'head -n 1 /proc/stat',
  'echo @@',
  "grep -E '^(MemTotal|MemAvailable):' /proc/meminfo",
  'echo @@',
  'if [ -S "$HOME/.fleet-agent/agent.sock" ]; then echo agent; else echo none; fi',
  'echo @@',
  'readlink "$HOME/.fleet/agent/current" 2>/dev/null || true',
].join('; ');

export interface HostProbe {
  uname: string;
  cpuPct: number | null;
  memTotalBytes: number | null;
  memUsedBytes: number | null;
  agentSocket: boolean;
  /** the agent build `current` points at (`0.1.0-1a2b3c4d5e6f`); absent for an agent from before builds had ids */
  agentId?: string;
  /** from Prometheus only (the SSH probe stays one cheap command) */
  iowaitPct?: number;
  load1?: number;
  uptimeSecs?: number;
}

export function parseProbe(stdout: string): HostProbe {
  const [uname = '', stat = '', mem = '', agent = '', current = ''] = stdout.split('@@\n');
  const id = current.trim();
  const samples = stat
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('cpu '))
    .map((l) => l.trim().split(/\s+/).slice(1, 9).map(Number));
  let cpuPct: number | null = null;
  if (samples.length === 2) {
    const d = samples[1].map((v, i) => v - samples[0][i]);
    const total = d.reduce((a, b) => a + b, 0);
    if (total > 0) cpuPct = Math.round(((total - d[3] - d[4]) / total) * 1000) / 10;
  }
  const kb = (k: string) => {
    const m = new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(mem);
    return m ? Number(m[1]) * 1024 : null;
  };
  const total = kb('MemTotal');
  const avail = kb('MemAvailable');
  return {
    uname: uname.trim(),
    cpuPct,
    memTotalBytes: total,
    memUsedBytes: total !== null && avail !== null ? total - avail : null,
    agentSocket: agent.trim() === 'agent',
    ...(/^\d+\.\d+\.\d+[A-Za-z0-9.+-]*-[0-9a-f]{12}$/.test(id) ? { agentId: id } : {}),
  };
}

/** where a host's values came from: one SSH command, or Prometheus' last scrape of its agent */
export type ProbeSource = 'ssh' | 'prometheus';

export type ProbeResult =
  /** at: when the values were taken (Prometheus: its last scrape) */
  | { ok: true; probe: HostProbe; at: Date; source?: ProbeSource }
  /** hostKey: the host was reached but its key is unknown (waiting for the user) or changed */
  | { ok: false; error: string; at: Date; hostKey?: 'unknown' | 'changed' | 'revoked'; source?: ProbeSource };

export async function probeHost(
  pool: SshPool,
  ep: SshEndpoint,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<ProbeResult> {
  try {
    const r = await pool.exec(ep, probeCommand, { timeoutMs, signal });
    if (r.exitCode !== 0 && !r.stdout)
      return { ok: false, error: `probe exited ${r.exitCode}: ${r.stderr.trim().slice(0, 200)}`, at: new Date() };
    return { ok: true, probe: parseProbe(r.stdout), at: new Date() };
  } catch (e) {
    return {
      ok: false,
      error: errorMessage(e),
      at: new Date(),
      ...(e instanceof HostKeyError ? { hostKey: e.kind } : {}),
    };
  }
}
