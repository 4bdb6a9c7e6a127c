// Runs one command on an open connection: stdout and stderr apart, exit code or signal, and a
// deadline that really ends the remote command: the command reports its pid and process group on
// stderr first (remoteProcess.ts), and on timeout or abort what it started is killed over a second
// channel (its group under OpenSSH, its process tree under Dropbear), then the channel closed.
import type { Client, ClientChannel } from 'ssh2';
import { killRemote, parsePidLine, pidMarker, type RemotePid } from './remoteProcess';
import { Capture } from './capture';
import { openSession } from './sessionOpen';
import { armDeadline } from './deadline';
import { loginShellOf, refusedBy, rememberLoginShell, wireCommand } from './remoteShell';

export interface ExecResult {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  /** most bytes kept of each stream (default 16 MiB); more is dropped and counted */
  maxOutputBytes?: number;
  /** label used in errors */
  label?: string;
  /** each chunk as it arrives (stderr without the pid report), for streaming */
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
}

/**
 * Runs `command` (POSIX shell syntax) under the login shell, or through /bin/sh when the login
 * shell is csh or fish: a first attempt such a shell refuses (nothing ran) is retried that way once,
 * and the connection remembers it.
 */
export async function execCommand(client: Client, command: string, opts: ExecOptions = {}): Promise<ExecResult> {
  const shell = loginShellOf(client);
  let r = await execOnce(client, wireCommand(command, shell), opts);
  const refused = shell === 'posix' && !r.reported && r.stdout === '' ? refusedBy(r.stderr) : null;
  if (refused) {
    rememberLoginShell(client, refused);
    r = await execOnce(client, wireCommand(command, refused), opts);
  } else if (r.reported) rememberLoginShell(client, shell);
  return { exitCode: r.exitCode, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

function execOnce(client: Client, wrapped: string, opts: ExecOptions): Promise<ExecResult & { reported: boolean }> {
  const max = opts.maxOutputBytes ?? 16 * 1024 * 1024;
  const run = (ch: ClientChannel) =>
    new Promise<ExecResult & { reported: boolean }>((resolve, reject) => {
      const out = new Capture(max);
      const errs = new Capture(max);
      let pid: RemotePid | null = null;
      let head = '';
      let headDone = false;
      let exitCode: number | null = null;
      let sig: string | null = null;
      let failure: Error | null = null;
      // streamed only once the command reported its pid: a login shell that refused the line (csh,
      // fish: retried through /bin/sh) must not stream its complaint. sshd reads the command's stdout
      // and stderr from two pipes, so stdout written just after the report may arrive before it: it is
      // held (at most 1 MiB, in order) and passed on when the report comes
      let early: Buffer[] | null = opts.onStdout ? [] : null;
      let earlyBytes = 0;
      ch.on('data', (b: Buffer) => {
        out.add(b);
        if (pid) opts.onStdout?.(b);
        else if (!headDone && early && earlyBytes + b.length <= 1 << 20) {
          early.push(b);
          earlyBytes += b.length;
        }
      });
      const errChunk = (b: Buffer) => {
        errs.add(b);
        if (pid && b.length) opts.onStderr?.(b);
      };
      ch.stderr.on('data', (b: Buffer) => {
        if (headDone) return errChunk(b);
        head += b.toString('latin1');
        const nl = head.indexOf('\n');
        if (nl < 0 && head.length < 64) return;
        headDone = true;
        const first = nl < 0 ? head : head.slice(0, nl);
        pid = first.startsWith(pidMarker) ? parsePidLine(first) : null;
        if (pid) for (const c of early ?? []) opts.onStdout?.(c);
        early = null;
        errChunk(Buffer.from(pid ? head.slice(nl + 1) : head, 'latin1'));
      });
      ch.on('exit', (code: number | null, signalName?: string) => {
        exitCode = typeof code === 'number' ? code : null;
        sig = signalName ?? null;
      });
      const stop = (why: Error) => {
        if (failure) return;
        failure = why;
        stopRemote(client, ch, pid);
      };
      const disarm = armDeadline(opts, stop);
      ch.on('close', () => {
        disarm();
        if (!headDone) errChunk(Buffer.from(head, 'latin1'));
        if (failure) return reject(Object.assign(failure, { partial: { stdout: out.text(), stderr: errs.text() } }));
        resolve({ exitCode, signal: sig, stdout: out.text(), stderr: errs.text(), reported: pid !== null });
      });
    });
  return openSession<ClientChannel, ExecResult & { reported: boolean }>(
    (cb) => client.exec(wrapped, cb),
    run,
    opts.signal,
  );
}

/**
 * Ends what the command started (remoteProcess.ts), then the channel. The tree is killed before the
 * channel is signalled: a server that kills the shell on a signal request (Dropbear) would orphan
 * its children, and the tree could no longer be found from the shell.
 */
function stopRemote(client: Client, ch: ClientChannel, pid: RemotePid | null): void {
  const signalAndClose = () => {
    try {
      ch.signal('KILL');
    } catch {
      // not every server takes signal requests
    }
    ch.close();
  };
  if (!pid) return signalAndClose();
  void killRemote(client, pid).then(signalAndClose);
}
