// Runs one command on many hosts: at most `concurrency` hosts at once, one result per host,
// never a rejected batch because one host failed (each failure is a typed error in its result).
import { FleetError, TimeoutError, UnreachableError, errorMessage } from '../errors';
import { Semaphore } from '../limit';
import type { SshEndpoint } from './endpoint';
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
  /** per host: connect and command together; the command is killed when it passes */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** called as each host finishes, for progress */
  onResult?: (r: HostResult) => void;
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
  try {
    const r = await pool.exec(ep, command, { timeoutMs: opts.timeoutMs, signal: opts.signal, label: ep.label });
    return { ...base, ...r, durationMs: Math.round(performance.now() - started), error: null };
  } catch (err) {
    const partial = (err as { partial?: { stdout: string; stderr: string } }).partial;
    const error = err instanceof FleetError ? err : new UnreachableError(ep.label, errorMessage(err), { cause: err });
    return { ...base, ...partial, durationMs: Math.round(performance.now() - started), error };
  }
}

/** ok: ran and exited 0; failed: ran and failed or timed out; unreachable: never ran */
export function outcomeOf(r: HostResult): Outcome {
  if (r.error) return r.error instanceof TimeoutError && r.error.what === 'command' ? 'failed' : 'unreachable';
  return r.exitCode === 0 ? 'ok' : 'failed';
}
