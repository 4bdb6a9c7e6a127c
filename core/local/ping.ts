// Liveness through the system's ping (no raw-socket privileges needed), the talk's hostAlive, with
// each platform's flags (the controller runs where VS Code runs): Linux -c 1 -W secs (-t is a TTL
// there); macOS and FreeBSD -c 1 -t secs (a whole-run timeout); OpenBSD -c 1 -w secs; Windows -n 1
// -w ms, where a reply is a line with TTL= (its exit code is 0 for "host unreachable" replies too).
import { mapLimit } from '../limit';
import { requireProgram } from './program';
import { runProgram } from './run';

export interface PingResult {
  host: string;
  alive: boolean;
  rttMs: number | null;
  /** why it is not alive when ping itself could not run (bad name, ...) */
  error?: string;
}

export interface PingOptions {
  timeoutSecs?: number;
  concurrency?: number;
  signal?: AbortSignal;
  pingPath?: string;
  /** the platform whose ping runs (tests inject another) */
  platform?: NodeJS.Platform;
}

/** one ping of `host` with a reply timeout of `secs`, numeric output, in the platform's flags */
export function pingArgs(host: string, secs: number, platform: NodeJS.Platform = process.platform): string[] {
  switch (platform) {
    case 'win32':
      return ['-n', '1', '-w', String(secs * 1000), host];
    case 'darwin':
    case 'freebsd':
      return ['-n', '-c', '1', '-t', String(secs), '--', host];
    case 'openbsd':
      return ['-n', '-c', '1', '-w', String(secs), '--', host];
    default:
      return ['-n', '-c', '1', '-W', String(secs), '--', host];
  }
}

const hostPattern = /^[A-Za-z0-9:][A-Za-z0-9.:%_-]*$/;

export async function ping(host: string, opts: PingOptions = {}): Promise<PingResult> {
  // A leading '-' would be read by ping as a flag: names are checked, and '--' ends the options anyway.
  if (!hostPattern.test(host))
    return { host, alive: false, rttMs: null, error: `not a host name or address: ${JSON.stringify(host)}` };
  const bin = opts.pingPath ?? requireProgram('ping');
  const secs = Math.max(1, Math.round(opts.timeoutSecs ?? 2));
  const platform = opts.platform ?? process.platform;
  const r = await runProgram(bin, pingArgs(host, secs, platform), {
    timeoutMs: (secs + 2) * 1000,
    signal: opts.signal,
    env: { ...process.env, LC_ALL: 'C' },
  });
  const alive = platform === 'win32' ? /TTL=/i.test(r.stdout) : r.exitCode === 0;
  const m = /time[=<]([\d.]+) ?ms/.exec(r.stdout);
  const result: PingResult = { host, alive, rttMs: alive && m ? Number(m[1]) : null };
  if (!alive && r.exitCode === 2 && r.stderr.trim()) result.error = r.stderr.trim().split('\n')[0];
  return result;
}

/** pings many hosts, at most `concurrency` at once (default 64), results in input order */
export async function pingMany(hosts: readonly string[], opts: PingOptions = {}): Promise<PingResult[]> {
  const bin = opts.pingPath ?? requireProgram('ping');
  return mapLimit(hosts, opts.concurrency ?? 64, (h) => ping(h, { ...opts, pingPath: bin }));
}
