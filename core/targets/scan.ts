// The talk's "remotely run uname -a": ping every address of the networks, log in over SSH to
// those alive and run `uname -a` (on the fan-out, forHosts.ts). Records keep the seed's field names
// and come out in address order; a host whose new key waits for the one question waits with it.
import { pingMany } from '../local/ping';
import { errorMessage } from '../errors';
import { askAboutNewKeys } from '../ssh/askOnce';
import type { SshEndpoint } from '../ssh/endpoint';
import type { ExecResult } from '../ssh/exec';
import { forHosts, unknownKeyOf, type ForHostsOptions, type HostOutcome } from '../ssh/forHosts';
import type { SshPool } from '../ssh/pool';
import { addresses, type Cidr } from '../inventory/cidr';

export interface ScanRecord {
  Host: string;
  Reachable: boolean;
  LoginSSH: boolean;
  Uname: string;
  /** why login failed, when the host answered ping (Fleet's addition to the seed's record) */
  Error?: string;
}

export interface ScanOptions {
  /** builds the SSH endpoint of an address (user, port, keys from flags) */
  endpoint: (address: string) => SshEndpoint;
  pingConcurrency?: number;
  sshConcurrency?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** records in address order, as soon as each and all before it are done */
  onRecord?: (r: ScanRecord) => void;
  /** ask once, when every address is done, about the new host keys met (those hosts wait until then) */
  hostKeys?: ForHostsOptions<ExecResult>['hostKeys'];
  /** an address logged in to again after the user trusted its key */
  onTrusted?: (address: string) => void;
}

export async function scan(pool: SshPool, cidrs: readonly Cidr[], opts: ScanOptions): Promise<ScanRecord[]> {
  const hosts = cidrs.flatMap((c) => [...addresses(c)]);
  const records = new Array<ScanRecord | undefined>(hosts.length);
  let emitted = 0;
  const done = (i: number, r: ScanRecord) => {
    records[i] = r;
    while (emitted < hosts.length && records[emitted]) opts.onRecord?.(records[emitted++]!);
  };
  const record = (host: string, o: HostOutcome<ExecResult>): ScanRecord => {
    if (!o.ok) return { Host: host, Reachable: true, LoginSSH: false, Uname: '', Error: errorMessage(o.error) };
    const ok = o.value.exitCode === 0;
    return {
      Host: host,
      Reachable: true,
      LoginSSH: true,
      Uname: ok ? o.value.stdout : '',
      ...(ok ? {} : { Error: `uname -a exited ${o.value.exitCode}` }),
    };
  };
  const login = (ep: SshEndpoint, signal?: AbortSignal) =>
    pool.exec(ep, 'uname -a', { timeoutMs: opts.timeoutMs ?? 10_000, signal });
  type Target = { i: number; ep: SshEndpoint };
  /** logs in to each target on the fan-out; `onOutcome` gets each with its target */
  const logIn = (targets: readonly Target[], onOutcome: (t: Target, o: HostOutcome<ExecResult>) => void) => {
    const byLabel = new Map(targets.map((t) => [t.ep.label, t]));
    return forHosts(
      targets.map((t) => t.ep),
      login,
      {
        concurrency: opts.sshConcurrency ?? 50,
        signal: opts.signal,
        onOutcome: (o) => onOutcome(byLabel.get(o.host)!, o),
      },
    );
  };
  // hosts whose key is new wait for the one question, asked when every address is done (not per chunk)
  const waiting: (Target & { o: HostOutcome<ExecResult> })[] = [];
  // ping in chunks so logins of early hosts overlap with pings of later ones
  const chunk = 256;
  for (let start = 0; start < hosts.length; start += chunk) {
    const pings = await pingMany(hosts.slice(start, start + chunk), {
      concurrency: opts.pingConcurrency ?? 64,
      signal: opts.signal,
      timeoutSecs: 1,
    });
    pings.forEach(
      (p, j) => !p.alive && done(start + j, { Host: p.host, Reachable: false, LoginSSH: false, Uname: '' }),
    );
    const alive = pings.flatMap((p, j) => (p.alive ? [{ i: start + j, ep: opts.endpoint(p.host) }] : []));
    await logIn(alive, (t, o) => {
      if (opts.hostKeys && unknownKeyOf(o) !== undefined) waiting.push({ ...t, o });
      else done(t.i, record(hosts[t.i], o));
    });
  }
  if (waiting.length && opts.hostKeys) {
    // one question for the whole scan; the hosts whose keys were trusted log in again
    const { trustedNames } = await askAboutNewKeys(opts.hostKeys.checker, opts.hostKeys.ask);
    const again = waiting.filter((w) => trustedNames.has(unknownKeyOf(w.o) ?? ''));
    for (const w of waiting) if (!again.includes(w)) done(w.i, record(hosts[w.i], w.o));
    await logIn(again, (t, o) => {
      if (o.ok) opts.onTrusted?.(hosts[t.i]);
      done(t.i, record(hosts[t.i], o));
    });
  }
  return records as ScanRecord[];
}
