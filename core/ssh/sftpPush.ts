// Copies a local file to a host the safe way: SFTP to a temporary name beside the target, the
// sha256 checked on the host (ssh2's fastPut has corrupted files on some servers), then an atomic
// rename into place. A host whose SSH server offers no SFTP subsystem (Dropbear without
// sftp-server, hardened sshd) gets the bytes over an exec channel (`cat` into the temporary file)
// instead; the result says which way they went. A failed check removes the temporary file and
// leaves the target untouched.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Client, ClientChannel, SFTPWrapper } from 'ssh2';
import { FleetError } from '../errors';
import type { SshEndpoint } from './endpoint';
import type { SshPool } from './pool';
import { shellQuote } from './quote';
import { pidMarker } from './remoteProcess';
import { loginShellOf, wireCommand } from './remoteShell';
import { openSession } from './sessionOpen';

export class PushError extends FleetError {}

export interface PushResult {
  host: string;
  bytes: number;
  sha256: string;
  durationMs: number;
  /** how the bytes went: SFTP, or an exec channel when the host has no SFTP subsystem */
  via: 'sftp' | 'exec';
}

export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(file), h);
  return h.digest('hex');
}

/**
 * pushes `local` to `remote`: `~/x` is x in the remote user's $HOME, other relative paths are from the login directory
 */
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
  const via = await uploadFile(pool, ep, local, tmp, {
    mode: opts.mode,
    onProgress: opts.onProgress,
    signal: opts.signal,
  });
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
  return { host: ep.label, bytes: size, sha256: sha, durationMs: Math.round(performance.now() - started), via };
}

/**
 * Only the copy: `local` to the exact path `remote` (no check, no rename), over SFTP or, on a host
 * without it, an exec channel. For callers that check and place the file themselves in one command
 * of their own (the agent deploy: one round trip instead of three).
 */
export async function uploadFile(
  pool: SshPool,
  ep: SshEndpoint,
  local: string,
  remote: string,
  opts: { mode?: number; onProgress?: (bytes: number) => void; signal?: AbortSignal } = {},
): Promise<'sftp' | 'exec'> {
  return pool.withClient(
    ep,
    async (c) => {
      try {
        await upload(c, local, remote, opts.mode ?? 0o644, opts.onProgress);
        return 'sftp' as const;
      } catch (e) {
        if (!(e instanceof NoSftpError)) throw e;
        try {
          await uploadViaExec(c, local, remote, opts.mode ?? 0o644, opts.onProgress);
        } catch (e2) {
          throw new PushError(
            `host ${ep.label}: the host's SSH server offers no SFTP subsystem (${e.message}), and the copy over an exec channel failed too: ${(e2 as Error).message}`,
          );
        }
        return 'exec' as const;
      }
    },
    opts.signal,
  );
}

class NoSftpError extends PushError {}

/** streams a local file to a remote path over one SFTP session, which is always closed */
export function upload(
  c: Client,
  local: string,
  remote: string,
  mode: number,
  onProgress?: (bytes: number) => void,
): Promise<void> {
  const send = (sftp: SFTPWrapper) =>
    new Promise<void>((resolve, reject) => {
      const ws = sftp.createWriteStream(remote, { mode });
      const rs = createReadStream(local);
      let sent = 0;
      rs.on('data', (d) => onProgress?.((sent += d.length)));
      // the channel counts as free only once the server has closed it too: Dropbear refuses a channel
      // opened in that moment ("Unable to exec" on the next command)
      const closed = () =>
        new Promise<void>((r) => (sftp.once('close', () => r()), sftp.end(), setTimeout(r, 5000).unref()));
      pipeline(rs, ws).then(
        () => closed().then(resolve),
        (e: Error) => closed().then(() => reject(new PushError(`sftp upload to ${remote}: ${e.message}`))),
      );
    });
  return openSession<SFTPWrapper, void>((cb) => c.sftp(cb), send).catch((err: Error) => {
    throw err instanceof PushError ? err : new NoSftpError(`sftp: ${err.message}`);
  });
}

/** streams a local file into a remote path with `cat` over an exec channel (no SFTP needed) */
export function uploadViaExec(
  c: Client,
  local: string,
  remote: string,
  mode: number,
  onProgress?: (bytes: number) => void,
): Promise<void> {
  const script = `umask 077 && cat > ${shellQuote(remote)} && chmod ${mode.toString(8)} ${shellQuote(remote)}`;
  const send = (ch: ClientChannel) =>
    new Promise<void>((resolve, reject) => {
      let stderr = '';
      let code: number | null = null;
      ch.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
      ch.on('data', () => undefined);
      ch.on('exit', (x: number | null) => (code = x));
      ch.on('close', () => {
        const why = stderr
          .split('\n')
          .filter((l) => l && !l.startsWith(pidMarker))
          .join(' ')
          .trim();
        if (code === 0) resolve();
        else reject(new Error(`cat into ${remote} exited ${code}${why ? `: ${why}` : ''}`));
      });
      const rs = createReadStream(local);
      let sent = 0;
      rs.on('data', (d) => onProgress?.((sent += d.length)));
      pipeline(rs, ch).catch((e: Error) => reject(new Error(`sending ${local}: ${e.message}`)));
    });
  return openSession<ClientChannel, void>((cb) => c.exec(wireCommand(script, loginShellOf(c)), cb), send);
}
