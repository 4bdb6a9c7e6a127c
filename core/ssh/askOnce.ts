// The ask-once rule of the `ask` host-key policy, for every front end: run on all hosts; hosts whose
// key is unknown fail that pass and their keys are collected (HostKeyChecker); one question lists
// every new fingerprint; the keys the user trusts are pinned and only those hosts run again.
import { HostKeyError } from '../errors';
import type { HostKeyChecker, NewHostKey } from './hostKeyPolicy';

/** shows the new keys; resolves the known_hosts names the user trusts (empty: none) */
export type AskHostKeys = (keys: NewHostKey[]) => Promise<string[]>;

/**
 * Asks once about the unknown keys met since the last call, leaving out names in `skip` (declined
 * earlier); pins the chosen ones. Resolves the labels of the hosts now trusted and the names asked about.
 */
export async function askAboutNewKeys(
  checker: HostKeyChecker,
  ask: AskHostKeys,
  skip: ReadonlySet<string> = new Set(),
): Promise<{ trusted: string[]; trustedNames: Set<string>; asked: string[] }> {
  const keys = checker.takePending().filter((k) => !skip.has(k.name));
  if (keys.length === 0) return { trusted: [], trustedNames: new Set(), asked: [] };
  const names = await ask(keys);
  const chosen = keys.filter((k) => names.includes(k.name));
  checker.pin(chosen);
  return {
    trusted: chosen.map((k) => k.label),
    trustedNames: new Set(chosen.map((k) => k.name)),
    asked: keys.map((k) => k.name),
  };
}

/** runs on the endpoints, asks once about new keys, runs again the hosts whose keys were trusted */
export async function runAskingOnce<E extends { label: string }, R extends { host: string; error: unknown }>(
  checker: HostKeyChecker,
  endpoints: readonly E[],
  ask: AskHostKeys,
  run: (eps: E[]) => Promise<R[]>,
): Promise<R[]> {
  const results = await run([...endpoints]);
  // any host may be under `ask` (its ssh_config's StrictHostKeyChecking): asked only if keys are pending
  const { trustedNames } = await askAboutNewKeys(checker, ask);
  // every host that failed on a key now pinned (two names of one host meet the same key)
  const retry = new Set(
    results
      .filter(
        (r) =>
          r.error instanceof HostKeyError &&
          r.error.kind === 'unknown' &&
          trustedNames.has(r.error.got.line.split(' ')[0]),
      )
      .map((r) => r.host),
  );
  if (retry.size === 0) return results;
  const again = new Map((await run(endpoints.filter((e) => retry.has(e.label)))).map((r) => [r.host, r]));
  return results.map((r) => again.get(r.host) ?? r);
}
