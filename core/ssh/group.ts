// Groups per-host results whose output is identical, so 50 hosts answering the same thing
// print once under the list of their names (the way users read fleet-wide output).
import { outcomeOf, type HostResult, type Outcome } from './fanout';

export interface OutputGroup {
  hosts: string[];
  outcome: Outcome;
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  error: string | null;
}

export function groupResults(results: readonly HostResult[]): OutputGroup[] {
  const groups = new Map<string, OutputGroup>();
  for (const r of results) {
    const g: Omit<OutputGroup, 'hosts'> = {
      outcome: outcomeOf(r),
      exitCode: r.exitCode,
      signal: r.signal,
      stdout: r.stdout,
      stderr: r.stderr,
      error: r.error ? errorWithoutHost(r.error.message, r.host) : null,
    };
    const key = JSON.stringify(g);
    const existing = groups.get(key);
    if (existing) existing.hosts.push(r.host);
    else groups.set(key, { hosts: [r.host], ...g });
  }
  return [...groups.values()];
}

export interface Summary {
  ok: number;
  failed: number;
  unreachable: number;
}

export function summarize(results: readonly HostResult[]): Summary {
  const s: Summary = { ok: 0, failed: 0, unreachable: 0 };
  for (const r of results) s[outcomeOf(r)]++;
  return s;
}

export function formatSummary(s: Summary): string {
  return `${s.ok} ok, ${s.failed} failed, ${s.unreachable} unreachable`;
}

/** errors start `host X: ...`; within a group the host list already says which */
function errorWithoutHost(message: string, host: string): string {
  const prefix = `host ${host}: `;
  return message.startsWith(prefix) ? message.slice(prefix.length) : message;
}
