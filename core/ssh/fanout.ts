// Runs one command on many hosts, an operation on the fan-out (forHosts.ts): at most `concurrency`
// hosts at once, one result per host, never a rejected batch because one host failed (each failure
// is a typed error in its result, with the output the command made before it).
import { FleetError, StoppedError, TimeoutError, UnreachableError, errorMessage } from '../errors';
import type { SshEndpoint } from './endpoint';
import type { ExecResult } from './exec';
import { forHosts, type ForHostsOptions, type HostOutcome } from './forHosts';
import { LineSplitter } from './lines';
import type { SshPool } from './pool';

export interface HostResult {
  host: string;
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  error: FleetError | null;
  /** what the host's login wrote before the command ran (exec.ts), when it wrote anything */
  login?: { stdout: string; stderr: string };
}

export type Outcome = 'ok' | 'failed' | 'unreachable';

export interface FanoutOptions {
  concurrency?: number;
  /** per host: connect and command together; the command is stopped when it passes */
  timeoutMs?: number;
  /** a stopped command gets SIGTERM, then SIGKILL after this (`timeout -k`; default 5 s) */
  killAfterMs?: number;
  signal?: AbortSignal;
  /** called as each host finishes, for progress */
  onResult?: (r: HostResult) => void;
  /** each line of output as it arrives (streaming: `tail -f` on many hosts) */
  onLine?: (host: string, stream: 'stdout' | 'stderr', line: string) => void;
  /** most bytes of each stream kept for the result (default 16 MiB; streaming keeps less) */
  maxOutputBytes?: number;
  /** ask once about new host keys, then run the hosts whose keys were trusted (forHosts.ts) */
  hostKeys?: ForHostsOptions<ExecResult>['hostKeys'];
}

export async function runOnHosts(
  pool: SshPool,
  endpoints: readonly SshEndpoint[],
  command: string,
  opts: FanoutOptions = {},
): Promise<HostResult[]> {
  const outcomes = await forHosts(endpoints, (ep) => runOnHost(pool, ep, command, opts), {
    concurrency: opts.concurrency ?? 50,
    hostKeys: opts.hostKeys,
    onOutcome: opts.onResult && ((o) => opts.onResult!(hostResult(o))),
  });
  return outcomes.map(hostResult);
}

/** the command on one host; throws what stopped it, with the output it had made (`partial`) */
async function runOnHost(pool: SshPool, ep: SshEndpoint, command: string, opts: FanoutOptions) {
  const split = (stream: 'stdout' | 'stderr') =>
    opts.onLine ? new LineSplitter((line) => opts.onLine!(ep.label, stream, line)) : undefined;
  const out = split('stdout');
  const err = split('stderr');
  try {
    return await pool.exec(ep, command, {
      timeoutMs: opts.timeoutMs,
      killAfterMs: opts.killAfterMs,
      signal: opts.signal,
      label: ep.label,
      maxOutputBytes: opts.maxOutputBytes,
      ...(out && err ? { onStdout: (b: Buffer) => out.push(b), onStderr: (b: Buffer) => err.push(b) } : {}),
    });
  } finally {
    out?.end();
    err?.end();
  }
}

/** a host's outcome as `fleet run` shows it: what the command did, or the typed error that stopped it */
function hostResult(o: HostOutcome<ExecResult>): HostResult {
  const base = { host: o.host, exitCode: null, signal: null, stdout: '', stderr: '', durationMs: o.durationMs };
  if (o.ok) return { ...base, ...o.value, durationMs: o.durationMs, error: null };
  const partial = (o.error as { partial?: { stdout: string; stderr: string } }).partial;
  const error =
    o.error instanceof FleetError ? o.error : new UnreachableError(o.host, errorMessage(o.error), { cause: o.error });
  return { ...base, ...partial, error };
}

/** ok: ran and exited 0; failed: ran and failed, timed out or was stopped; unreachable: never ran */
export function outcomeOf(r: HostResult): Outcome {
  if (r.error instanceof StoppedError) return 'failed';
  if (r.error) return r.error instanceof TimeoutError && r.error.what === 'command' ? 'failed' : 'unreachable';
  return r.exitCode === 0 ? 'ok' : 'failed';
}
