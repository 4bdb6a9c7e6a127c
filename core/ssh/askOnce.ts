// The ask-once rule of the `ask` host-key policy, for every front end: run on all hosts; hosts whose
// key is unknown fail that pass and their keys are collected (HostKeyChecker); one question lists
// every new fingerprint; the keys the user trusts are pinned and only those hosts run again
// (forHosts.ts runs the hosts; this asks).
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
