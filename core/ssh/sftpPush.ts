// Copies a local file to a host the safe way: SFTP to a temporary name beside the target, the
// sha256 checked on the host (ssh2's fastPut has corrupted files on some servers), then an atomic
// rename into place. A failed check removes the temporary file and leaves the target untouched.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Client, SFTPWrapper } from 'ssh2';
import { FleetError } from '../errors';
import type { SshEndpoint } from './endpoint';
import type { SshPool } from './pool';
import { shellQuote } from './quote';

export class PushError extends FleetError {}

export interface PushResult {
  host: string;
  bytes: number;
  sha256: string;
  durationMs: number;
}

export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(file), h);
  return h.digest('hex');
}

/** pushes `local` to `remote`: `~/x` is x in the remote user's $HOME, other relative paths are from the login directory */
export async function pushFile(
  pool: SshPool,
  ep: SshEndpoint,
  local: string,
  remoteGiven: string,
  opts: { sha256?: string; mode?: number; onProgress?: (bytes: number) => void; signal?: AbortSignal } = {},
): Promise<PushResult> {
  const started = performance.now();
  let remote = remoteGiven;
  if (remote.startsWith('~/')) {
    const home = (await pool.exec(ep, 'printf %s "$HOME"', { timeoutMs: 30_000, signal: opts.signal })).stdout;
    if (!home.startsWith('/')) throw new PushError(`host ${ep.label}: cannot learn $HOME to place ${remoteGiven}`);
    remote = `${home}/${remote.slice(2)}`;
  }
  const size = statSync(local).size;
  const sha = opts.sha256 ?? (await sha256File(local));
  const slash = remote.lastIndexOf('/');
  const tmp = `${remote.slice(0, slash + 1)}.${remote.slice(slash + 1)}.fleet-${randomBytes(4).toString('hex')}`;
  await pool.withClient(ep, (c) => upload(c, local, tmp, opts.mode ?? 0o644, opts.onProgress), opts.signal);
  const check = await pool.exec(ep, `sha256sum ${shellQuote(tmp)}`, { timeoutMs: 120_000, signal: opts.signal });
  const got = check.stdout.split(/\s+/)[0];
  if (check.exitCode !== 0 || got !== sha) {
    await pool.exec(ep, `rm -f ${shellQuote(tmp)}`, { timeoutMs: 30_000 }).catch(() => undefined);
    throw new PushError(
      `host ${ep.label}: ${remote}: the copy on the host hashes to ${got || `nothing (${check.stderr.trim() || `sha256sum exited ${check.exitCode}`})`}, expected ${sha}; the upload was corrupted and was removed, ${remote} is unchanged`,
    );
  }
  const mv = await pool.exec(ep, `mv -f ${shellQuote(tmp)} ${shellQuote(remote)}`, { timeoutMs: 30_000 });
  if (mv.exitCode !== 0)
    throw new PushError(`host ${ep.label}: cannot move the upload into place at ${remote}: ${mv.stderr.trim()}`);
  return { host: ep.label, bytes: size, sha256: sha, durationMs: Math.round(performance.now() - started) };
}

/** streams a local file to a remote path over one SFTP session, which is always closed */
export function upload(
  c: Client,
  local: string,
  remote: string,
  mode: number,
  onProgress?: (bytes: number) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    c.sftp((err, sftp: SFTPWrapper) => {
      if (err) return reject(new PushError(`sftp: ${err.message} (does the server have the sftp subsystem?)`));
      const ws = sftp.createWriteStream(remote, { mode });
      const rs = createReadStream(local);
      let sent = 0;
      rs.on('data', (d) => onProgress?.((sent += d.length)));
      pipeline(rs, ws).then(
        () => (sftp.end(), resolve()),
        (e: Error) => (sftp.end(), reject(new PushError(`sftp upload to ${remote}: ${e.message}`))),
      );
    });
  });
}
