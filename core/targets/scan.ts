// The talk's "remotely run uname -a": ping every address of the networks, log in over SSH to
// those alive and run `uname -a`. Records keep the seed's field names and come out in address order.
import { pingMany } from '../local/ping';
import { errorMessage } from '../errors';
import { mapLimit } from '../limit';
import type { SshEndpoint } from '../ssh/endpoint';
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
}

export async function scan(pool: SshPool, cidrs: readonly Cidr[], opts: ScanOptions): Promise<ScanRecord[]> {
  const hosts = cidrs.flatMap((c) => [...addresses(c)]);
  const records = new Array<ScanRecord | undefined>(hosts.length);
  let emitted = 0;
  const done = (i: number, r: ScanRecord) => {
    records[i] = r;
    while (emitted < hosts.length && records[emitted]) opts.onRecord?.(records[emitted++]!);
  };
  // ping in chunks so logins of early hosts overlap with pings of later ones
  const chunk = 256;
  const ssh = opts.sshConcurrency ?? 50;
  for (let start = 0; start < hosts.length; start += chunk) {
    const part = hosts.slice(start, start + chunk);
    const pings = await pingMany(part, {
      concurrency: opts.pingConcurrency ?? 64,
      signal: opts.signal,
      timeoutSecs: 1,
    });
    await mapLimit(pings, ssh, async (p, j) => {
      const i = start + j;
      if (!p.alive) return done(i, { Host: p.host, Reachable: false, LoginSSH: false, Uname: '' });
      try {
        const r = await pool.exec(opts.endpoint(p.host), 'uname -a', {
          timeoutMs: opts.timeoutMs ?? 10_000,
          signal: opts.signal,
        });
        const ok = r.exitCode === 0;
        done(i, {
          Host: p.host,
          Reachable: true,
          LoginSSH: true,
          Uname: ok ? r.stdout : '',
          ...(ok ? {} : { Error: `uname -a exited ${r.exitCode}` }),
        });
      } catch (err) {
        done(i, { Host: p.host, Reachable: true, LoginSSH: false, Uname: '', Error: errorMessage(err) });
      }
    });
  }
  return records as ScanRecord[];
}
