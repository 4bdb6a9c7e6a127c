// Runs one command on an open connection: stdout and stderr apart, exit code or signal, and a
// deadline that really ends the remote command: the command reports its pid and process group on
// stderr first (remoteProcess.ts), and on timeout or abort what it started is killed over a second
// channel (its group under OpenSSH, its process tree under Dropbear), then the channel closed. What
// the host's login writes before the command (rc files, sshd's notes) is kept apart from the
// command's output (`login`), by the marks the wire line writes on both streams (commandStart.ts).
import type { Client, ClientChannel } from 'ssh2';
import { killRemote, pidOfMark, type RemotePid } from './remoteProcess';
import { Capture } from './capture';
import { CommandStart } from './commandStart';
import { openSession } from './sessionOpen';
import { armDeadline } from './deadline';
import { commandMarks, loginShellOf, newNonce, refusedBy, rememberLoginShell, wireCommand } from './remoteShell';

export interface ExecResult {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** what the host's login wrote before the command ran (rc files, "Could not chdir…"); absent when nothing */
  login?: { stdout: string; stderr: string };
}

export interface ExecOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  /** most bytes kept of each stream (default 16 MiB); more is dropped and counted */
  maxOutputBytes?: number;
  /** label used in errors */
  label?: string;
  /** a command stopped (deadline, abort) gets SIGTERM, then SIGKILL after this (default 5 s, remoteProcess.ts) */
  killAfterMs?: number;
  /** each chunk of the command's own output as it arrives, for streaming */
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
}

/** what the login wrote: a stream kept up to 64 KiB */
const maxLoginBytes = 64 * 1024;

/**
 * Runs `command` (POSIX shell syntax) under the login shell, or through /bin/sh when the login
 * shell is csh or fish: a first attempt such a shell refuses (nothing ran) is retried that way once,
 * and the connection remembers it.
 */
export async function execCommand(client: Client, command: string, opts: ExecOptions = {}): Promise<ExecResult> {
  const shell = loginShellOf(client);
  let r = await execOnce(client, command, shell, opts);
  const refused = shell === 'posix' && !r.reported && r.stdout === '' ? refusedBy(r.stderr) : null;
  if (refused) {
    rememberLoginShell(client, refused);
    r = await execOnce(client, command, refused, opts);
  } else if (r.reported) rememberLoginShell(client, shell);
  const { reported: _, ...result } = r;
  return result;
}

function execOnce(
  client: Client,
  command: string,
  shell: ReturnType<typeof loginShellOf>,
  opts: ExecOptions,
): Promise<ExecResult & { reported: boolean }> {
  const max = opts.maxOutputBytes ?? 16 * 1024 * 1024;
  const nonce = newNonce();
  const marks = commandMarks(nonce);
  const run = (ch: ClientChannel) =>
    new Promise<ExecResult & { reported: boolean }>((resolve, reject) => {
      const out = new Capture(max);
      const errs = new Capture(max);
      const loginOut = new Capture(maxLoginBytes);
      const loginErr = new Capture(maxLoginBytes);
      // each stream is the command's from its own mark on: sshd reads stdout and stderr from two
      // pipes, so either mark may arrive first; nothing before a mark is streamed (a login shell that
      // refuses the line, csh or fish, is retried through /bin/sh: its complaint must not stream)
      const startOut = new CommandStart(marks.stdout, (b) => loginOut.add(b));
      const startErr = new CommandStart(marks.stderr, (b) => loginErr.add(b));
      let pid: RemotePid | null = null;
      let exitCode: number | null = null;
      let sig: string | null = null;
      let failure: Error | null = null;
      ch.on('data', (b: Buffer) => {
        const own = startOut.push(b);
        if (own === null || own.length === 0) return;
        out.add(own);
        opts.onStdout?.(own);
      });
      ch.stderr.on('data', (b: Buffer) => {
        const own = startErr.push(b);
        if (own === null) return;
        if (!pid) pid = pidOfMark(startErr.line);
        if (own.length === 0) return;
        errs.add(own);
        opts.onStderr?.(own);
      });
      ch.on('exit', (code: number | null, signalName?: string) => {
        exitCode = typeof code === 'number' ? code : null;
        sig = signalName ?? null;
      });
      const stop = (why: Error) => {
        if (failure) return;
        failure = why;
        stopRemote(client, ch, pid, opts.killAfterMs);
      };
      const disarm = armDeadline(opts, stop);
      ch.on('close', () => {
        disarm();
        // a stream whose mark never came (the command never started, or closed it): all of it is output
        const stdout = startOut.done ? out.text() : loginOut.text() + startOut.rest().toString('utf8');
        const stderr = startErr.done ? errs.text() : loginErr.text() + startErr.rest().toString('utf8');
        const login = {
          stdout: startOut.done ? loginOut.text() : '',
          stderr: startErr.done ? loginErr.text() : '',
        };
        const said = login.stdout || login.stderr ? { login } : {};
        if (failure) return reject(Object.assign(failure, { partial: { stdout, stderr, ...said } }));
        resolve({ exitCode, signal: sig, stdout, stderr, ...said, reported: startErr.done });
      });
    });
  return openSession<ClientChannel, ExecResult & { reported: boolean }>(
    (cb) => client.exec(wireCommand(command, shell, nonce), cb),
    run,
    opts.signal,
  );
}

/**
 * Ends what the command started (remoteProcess.ts), then the channel. The tree is killed before the
 * channel is signalled: a server that kills the shell on a signal request (Dropbear) would orphan
 * its children, and the tree could no longer be found from the shell.
 */
function stopRemote(client: Client, ch: ClientChannel, pid: RemotePid | null, killAfterMs?: number): void {
  const signalAndClose = () => {
    try {
      ch.signal('KILL');
    } catch {
      // not every server takes signal requests
    }
    ch.close();
  };
  if (!pid) return signalAndClose();
  void killRemote(client, pid, killAfterMs).then(signalAndClose);
}
