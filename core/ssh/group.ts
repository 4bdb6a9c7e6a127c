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

/** the grouped report `fleet run` prints and the extension shows: a header per group, its output, the summary */
export function formatGroups(results: readonly HostResult[]): string {
  let out = '';
  for (const g of groupResults(results)) {
    const status = g.error ? `error: ${g.error}` : g.signal ? `killed by SIG${g.signal}` : `exit ${g.exitCode}`;
    out += `── ${g.hosts.join(', ')} (${g.hosts.length} host${g.hosts.length === 1 ? '' : 's'}, ${status})\n`;
    if (g.stdout) out += g.stdout.endsWith('\n') ? g.stdout : g.stdout + '\n';
    if (g.stderr)
      out += g.stderr
        .replace(/\n$/, '')
        .split('\n')
        .map((l) => `stderr: ${l}\n`)
        .join('');
  }
  return out + formatSummary(summarize(results)) + '\n';
}
