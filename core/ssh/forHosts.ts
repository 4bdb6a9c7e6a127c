// The fan-out every verb that acts on many hosts runs on: an operation per host, at most
// `concurrency` at once, each host's outcome typed (its value, or the error it failed with; never a
// rejected batch), reported as it ends; under the `ask` host-key policy one question about every new
// key (askOnce.ts), after which only the hosts whose keys the user trusted run again. A host waiting
// on that question is reported once, with its final outcome. `fleet run`, push, expect, agent
// deploy/pin/uninstall and the editor's commands are operations on it; cli/exitCodes.ts's exitOf
// turns the outcomes into the exit code.
import { HostKeyError } from '../errors';
import { mapLimit } from '../limit';
import { askAboutNewKeys, type AskHostKeys } from './askOnce';
import type { SshEndpoint } from './endpoint';
import type { HostKeyChecker } from './hostKeyPolicy';

export type HostOutcome<T> =
  | { host: string; ok: true; value: T; durationMs: number }
  | { host: string; ok: false; error: unknown; durationMs: number };

export interface ForHostsOptions<T> {
  concurrency: number;
  /** stops hosts not started yet (each operation is handed the signal for the ones running) */
  signal?: AbortSignal;
  /** each host's final outcome, as it ends */
  onOutcome?: (o: HostOutcome<T>) => void;
  /** ask once about new host keys (absent: an unknown key is the host's failure) */
  hostKeys?: { checker: HostKeyChecker; ask: AskHostKeys };
}

export async function forHosts<E extends Pick<SshEndpoint, 'label'>, T>(
  endpoints: readonly E[],
  op: (ep: E, signal?: AbortSignal) => Promise<T>,
  opts: ForHostsOptions<T>,
): Promise<HostOutcome<T>[]> {
  const waiting = (o: HostOutcome<T>) => !!opts.hostKeys && unknownKeyOf(o) !== undefined;
  const pass = (eps: readonly E[], deferUnknown: boolean) =>
    mapLimit([...eps], opts.concurrency, async (ep) => {
      const o = await outcomeOf(ep, op, opts.signal);
      if (!(deferUnknown && waiting(o))) opts.onOutcome?.(o);
      return o;
    });
  const first = await pass(endpoints, true);
  if (!opts.hostKeys) return first;
  const { trustedNames } = await askAboutNewKeys(opts.hostKeys.checker, opts.hostKeys.ask);
  // every host that failed on a key now pinned (two names of one host meet the same key)
  const retry = new Set(first.filter((o) => trustedNames.has(unknownKeyOf(o) ?? '')).map((o) => o.host));
  for (const o of first) if (waiting(o) && !retry.has(o.host)) opts.onOutcome?.(o);
  if (retry.size === 0) return first;
  const again = new Map(
    (
      await pass(
        endpoints.filter((e) => retry.has(e.label)),
        false,
      )
    ).map((o) => [o.host, o]),
  );
  return first.map((o) => again.get(o.host) ?? o);
}

/** the known_hosts name of the unknown key an outcome failed on (waiting for the user), if it did */
export function unknownKeyOf(o: HostOutcome<unknown>): string | undefined {
  return !o.ok && o.error instanceof HostKeyError && o.error.kind === 'unknown'
    ? o.error.got.line.split(' ')[0]
    : undefined;
}

async function outcomeOf<E extends Pick<SshEndpoint, 'label'>, T>(
  ep: E,
  op: (ep: E, signal?: AbortSignal) => Promise<T>,
  signal?: AbortSignal,
): Promise<HostOutcome<T>> {
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  try {
    signal?.throwIfAborted();
    const value = await op(ep, signal);
    return { host: ep.label, ok: true, value, durationMs: ms() };
  } catch (error) {
    return { host: ep.label, ok: false, error, durationMs: ms() };
  }
}
