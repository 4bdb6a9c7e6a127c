// Runs one command on many hosts: at most `concurrency` hosts at once, one result per host,
// never a rejected batch because one host failed (each failure is a typed error in its result).
import { FleetError, StoppedError, TimeoutError, UnreachableError, errorMessage } from '../errors';
import { Semaphore } from '../limit';
import type { SshEndpoint } from './endpoint';
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
}

export async function runOnHosts(
  pool: SshPool,
  endpoints: readonly SshEndpoint[],
  command: string,
  opts: FanoutOptions = {},
): Promise<HostResult[]> {
  const limit = new Semaphore(opts.concurrency ?? 50);
  return Promise.all(
    endpoints.map((ep) =>
      limit.run(async () => {
        const r = await runOnHost(pool, ep, command, opts);
        opts.onResult?.(r);
        return r;
      }),
    ),
  );
}

async function runOnHost(pool: SshPool, ep: SshEndpoint, command: string, opts: FanoutOptions): Promise<HostResult> {
  const started = performance.now();
  const base = { host: ep.label, exitCode: null, signal: null, stdout: '', stderr: '' };
  const split = (stream: 'stdout' | 'stderr') =>
    opts.onLine ? new LineSplitter((line) => opts.onLine!(ep.label, stream, line)) : undefined;
  const out = split('stdout');
  const err = split('stderr');
  try {
    const r = await pool.exec(ep, command, {
      timeoutMs: opts.timeoutMs,
      killAfterMs: opts.killAfterMs,
      signal: opts.signal,
      label: ep.label,
      maxOutputBytes: opts.maxOutputBytes,
      ...(out && err ? { onStdout: (b: Buffer) => out.push(b), onStderr: (b: Buffer) => err.push(b) } : {}),
    });
    out?.end();
    err?.end();
    return { ...base, ...r, durationMs: Math.round(performance.now() - started), error: null };
  } catch (e) {
    out?.end();
    err?.end();
    const partial = (e as { partial?: { stdout: string; stderr: string } }).partial;
    const error = e instanceof FleetError ? e : new UnreachableError(ep.label, errorMessage(e), { cause: e });
    return { ...base, ...partial, durationMs: Math.round(performance.now() - started), error };
  }
}

/** ok: ran and exited 0; failed: ran and failed, timed out or was stopped; unreachable: never ran */
export function outcomeOf(r: HostResult): Outcome {
  if (r.error instanceof StoppedError) return 'failed';
  if (r.error) return r.error instanceof TimeoutError && r.error.what === 'command' ? 'failed' : 'unreachable';
  return r.exitCode === 0 ? 'ok' : 'failed';
}
