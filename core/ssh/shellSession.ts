// A shell kept running on a pooled connection, reading commands from its stdin. Every command sent
// over SSH costs the server a session: sshd forks, the login shell starts, a channel opens and closes
// (most of the time a pooled command to 50 hosts takes, BENCHMARKS.md). The Fleet view asks every host
// for its numbers every few seconds, so its pool keeps one shell per connection instead and each
// command costs a subshell.
//
// What a command gets is what an exec gives it, with two differences, both named in the README: its
// stdin is /dev/null (an exec's stays open, so a command reading it waits), and a process it leaves
// running in the background may still write into the next command's output. Each command runs in a
// subshell, so its `cd`, `export` and `exit` stay its own; its end is a random marker on stdout (with
// the exit status) and on stderr. The shell is the login shell (`$SHELL -s`), or /bin/sh where that is
// csh or fish, as for exec. A command that times out or is stopped is killed with the processes it
// started (its tree: it shares the kept shell's process group, so the group is not the command's);
// the shell goes on.
import { connectionOf, type KeptShell } from './connection';
import { randomBytes } from 'node:crypto';
import type { Client, ClientChannel } from 'ssh2';
import { Capture } from './capture';
import { armDeadline } from './deadline';
import { execCommand, type ExecOptions, type ExecResult } from './exec';
import { shellQuote } from './quote';
import { CommandStart } from './commandStart';
import { killRemote, pidOfMark, type RemotePid } from './remoteProcess';
import { commandMarks, loginShellKnown, loginShellOf, newNonce, wireCommand } from './remoteShell';
import { UntilMarker } from './untilMarker';
import { openSession } from './sessionOpen';

/** how long a new shell may take to answer its first command */
const startTimeoutMs = 10_000;

export class ShellSession {
  /** a command is running */
  busy = false;
  closed = false;
  private seq = 0;
  private pid: RemotePid | null = null;
  /** the wire line's marks: what the login writes before them is not any command's */
  private readonly startOut: CommandStart;
  private readonly startErr: CommandStart;
  private stdoutSink: ((b: Buffer) => void) | null = null;
  private stderrSink: ((b: Buffer) => void) | null = null;
  private closeSink: (() => void) | null = null;

  private constructor(
    private readonly client: Client,
    private readonly ch: ClientChannel,
    private readonly nonce: string,
    wireNonce: string,
  ) {
    const marks = commandMarks(wireNonce);
    this.startOut = new CommandStart(marks.stdout, () => undefined);
    this.startErr = new CommandStart(marks.stderr, () => undefined);
    ch.on('data', (b: Buffer) => {
      const own = this.startOut.push(b);
      if (own?.length) this.stdoutSink?.(own);
    });
    ch.stderr.on('data', (b: Buffer) => this.onStderr(b));
    ch.on('close', () => {
      this.closed = true;
      this.closeSink?.();
    });
  }

  /** starts a shell on the connection; null when it cannot be had (then exec is the way) */
  static open(client: Client): Promise<ShellSession | null> {
    const shell = loginShellOf(client);
    // $SHELL is the login shell sshd ran (a POSIX one, or the line would not have run); else /bin/sh
    const start = shell === 'posix' ? 'exec "${SHELL:-/bin/sh}" -s' : 'exec /bin/sh -s';
    const wireNonce = newNonce();
    return openSession<ClientChannel, ShellSession | null>(
      (cb) => client.exec(wireCommand(start, shell, wireNonce), cb),
      (ch) => new ShellSession(client, ch, randomBytes(12).toString('hex'), wireNonce).readPidThenStart(),
    ).catch(() => null);
  }

  /** the wrapper's pid report (the shell's pid: `exec` keeps it) ends the login's words; then the commands' */
  private onStderr(b: Buffer): void {
    const own = this.startErr.push(b);
    if (own === null) return;
    if (!this.pid) this.pid = pidOfMark(this.startErr.line);
    if (own.length) this.stderrSink?.(own);
  }

  /** a first command: the shell answers, and said its pid (without it a stuck command could not be ended) */
  private async readPidThenStart(): Promise<ShellSession | null> {
    try {
      const r = await this.run('true', { timeoutMs: startTimeoutMs });
      if (r.exitCode === 0 && this.pid) return this;
    } catch {
      // no answer: a shell that cannot read commands from stdin
    }
    this.end();
    return null;
  }

  /** runs one command (the session must not be busy) */
  run(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    if (this.busy || this.closed) return Promise.reject(new Error('the kept shell is busy or closed'));
    this.busy = true;
    const mark = `${this.nonce}-${++this.seq}`;
    const max = opts.maxOutputBytes ?? 16 * 1024 * 1024;
    const out = new Capture(max);
    const errs = new Capture(max);
    return new Promise((resolve, reject) => {
      const stdout = new UntilMarker(Buffer.from(`${mark} `), (b) => {
        out.add(b);
        opts.onStdout?.(b);
      });
      const stderr = new UntilMarker(Buffer.from(`${mark}\n`), (b) => {
        errs.add(b);
        if (b.length) opts.onStderr?.(b);
      });
      let status: string | null = null;
      let statusText = '';
      let failure: Error | null = null;
      let disarm = (): void => undefined;
      const done = () => {
        disarm();
        this.stdoutSink = this.stderrSink = this.closeSink = null;
        this.busy = false;
      };
      const finish = () => {
        if (status === null || !stderr.done) return;
        done();
        if (failure) return reject(Object.assign(failure, { partial: { stdout: out.text(), stderr: errs.text() } }));
        const code = /^\d{1,3}$/.test(status) ? Number(status) : null;
        resolve({ exitCode: code, signal: null, stdout: out.text(), stderr: errs.text() });
      };
      this.stdoutSink = (b) => {
        if (status !== null) return;
        const after = stdout.push(b);
        if (after === null) return;
        statusText += after.toString('latin1');
        const nl = statusText.indexOf('\n');
        if (nl < 0) return;
        status = statusText.slice(0, nl);
        finish();
      };
      // the subshell's pid comes first on stderr, on a line of its own: what a timeout kills. Anything
      // before it (the shell's own start, at the first command; a background process of an earlier
      // command) is passed on as this command's
      const pidStart = new CommandStart(Buffer.from(`${mark}-pid `), (b) => {
        if (!stderr.done && stderr.push(b) !== null) finish(); // no pid line: the subshell never started
      });
      let cmdPid: number | null = null;
      this.stderrSink = (b) => {
        if (!pidStart.done) {
          const own = pidStart.push(b);
          if (own === null) return;
          // no digits where the host has no /proc
          cmdPid = /^\d+$/.test(pidStart.line ?? '') ? Number(pidStart.line) : null;
          b = own;
        }
        if (!stderr.done && stderr.push(b) !== null) finish();
      };
      const onClose = () => {
        done();
        const partial = { stdout: out.text(), stderr: errs.text() };
        if (failure) return reject(Object.assign(failure, { partial }));
        // the shell itself ended mid-command (the command ended it, or the server did)
        const note = '[fleet: the host ended the shell this command ran in]\n';
        resolve({ exitCode: null, signal: null, stdout: partial.stdout, stderr: partial.stderr + note });
      };
      this.closeSink = onClose;
      // a command past its time is killed with what it started (its process tree: it shares the kept
      // shell's process group); the shell goes on. Without its pid (no /proc), the shell is ended.
      const stop = (why: Error) => {
        if (failure) return;
        failure = why;
        if (cmdPid === null || cmdPid <= 1) return this.end();
        // should the command outlive the kill (it left its tree), the shell is ended instead
        const stillRunning = () => this.closeSink === onClose;
        void killRemote(this.client, { pid: cmdPid, pgid: null }).then(() => {
          if (stillRunning()) setTimeout(() => stillRunning() && this.end(), 2000).unref();
        });
      };
      disarm = armDeadline(opts, stop);
      // a subshell keeps the command's state its own and reports its pid (/proc/self is the subshell;
      // $$ would be the kept shell's); eval of one quoted word keeps a command that does not parse
      // from swallowing the lines after it; "$?" is read before printf runs
      this.ch.write(
        `(fleet_s=; read -r fleet_s </proc/self/stat 2>/dev/null; ` +
          `printf '%s %s\\n' '${mark}-pid' "\${fleet_s%% *}" >&2; unset fleet_s; ` +
          `eval ${shellQuote(command)}) </dev/null\n` +
          `printf '%s %s\\n' '${mark}' "$?"; printf '%s\\n' '${mark}' >&2\n`,
      );
    });
  }

  /** ends the shell and what runs in it (its process group, or its tree), then the channel */
  end(): void {
    if (this.closed) return;
    const close = () => {
      try {
        this.ch.close();
      } catch {
        // already gone
      }
    };
    if (!this.pid) return close();
    void killRemote(this.client, this.pid).then(close);
  }
}

/**
 * Runs `command` in the connection's kept shell, started at its second command: the first is an
 * exec, which also tells the login shell (a connection that runs one command gets one exec, as
 * before). Exec too when the shell is busy with another command or cannot be had.
 */
export async function execKept(client: Client, command: string, opts: ExecOptions = {}): Promise<ExecResult> {
  if (!loginShellKnown(client)) return execCommand(client, command, opts);
  const k = connectionOf(client).kept as KeptShell<ShellSession>;
  if (k.failed) return execCommand(client, command, opts);
  if (!k.session || k.session.closed) {
    const entry = k;
    entry.opening ??= ShellSession.open(client).then((s) => {
      entry.opening = undefined;
      entry.session = s ?? undefined;
      if (!s) entry.failed = true;
      return s;
    });
    await entry.opening;
  }
  const s = k.session;
  if (!s || s.busy || s.closed) return execCommand(client, command, opts);
  return s.run(command, opts);
}
