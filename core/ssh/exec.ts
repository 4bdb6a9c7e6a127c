// Runs one command on an open connection: stdout and stderr apart, exit code or signal, and a
// deadline that really ends the remote command. sshd starts each session in its own session and
// process group, so the command is prefixed with a line that reports the shell's pid on stderr;
// on timeout or abort the whole group is killed over a second channel, then the channel closed.
import type { Client, ClientChannel } from 'ssh2';
import { TimeoutError } from '../errors';

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
}

const pidMarker = 'FLEET-PID ';

export function execCommand(client: Client, command: string, opts: ExecOptions = {}): Promise<ExecResult> {
  const max = opts.maxOutputBytes ?? 16 * 1024 * 1024;
  const wrapped = `printf '${pidMarker}%s\\n' "$$" >&2\n${command}`;
  return new Promise((resolve, reject) => {
    client.exec(wrapped, (err, ch) => {
      if (err) return reject(err);
      const out = new Capture(max);
      const errs = new Capture(max);
      let pid: number | null = null;
      let head = '';
      let headDone = false;
      let exitCode: number | null = null;
      let sig: string | null = null;
      let failure: Error | null = null;
      ch.on('data', (b: Buffer) => out.add(b));
      ch.stderr.on('data', (b: Buffer) => {
        if (headDone) return errs.add(b);
        head += b.toString('latin1');
        const nl = head.indexOf('\n');
        if (nl < 0 && head.length < 64) return;
        headDone = true;
        const first = nl < 0 ? head : head.slice(0, nl);
        if (first.startsWith(pidMarker) && /^\d+$/.test(first.slice(pidMarker.length))) {
          pid = Number(first.slice(pidMarker.length));
          errs.add(Buffer.from(head.slice(nl + 1), 'latin1'));
        } else errs.add(Buffer.from(head, 'latin1'));
      });
      ch.on('exit', (code: number | null, signalName?: string) => {
        exitCode = typeof code === 'number' ? code : null;
        sig = signalName ?? null;
      });
      const stop = (why: Error) => {
        if (failure) return;
        failure = why;
        killRemote(client, ch, pid);
      };
      const timer = opts.timeoutMs
        ? setTimeout(() => stop(new TimeoutError(opts.label ?? '?', 'command', opts.timeoutMs!)), opts.timeoutMs)
        : undefined;
      const onAbort = () => stop(opts.signal?.reason instanceof Error ? opts.signal.reason : new Error('aborted'));
      if (opts.signal?.aborted) onAbort();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      ch.on('close', () => {
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        if (!headDone) errs.add(Buffer.from(head, 'latin1'));
        if (failure) return reject(Object.assign(failure, { partial: { stdout: out.text(), stderr: errs.text() } }));
        resolve({ exitCode, signal: sig, stdout: out.text(), stderr: errs.text() });
      });
    });
  });
}

/** kills the command's process group (pid comes from our own marker, checked to be digits) */
function killRemote(client: Client, ch: ClientChannel, pid: number | null): void {
  try {
    ch.signal('KILL');
  } catch {
    // not every server takes signal requests
  }
  const close = () => ch.close();
  if (pid === null || !Number.isSafeInteger(pid) || pid <= 1) return close();
  // SSH runs every command through the remote shell; the only value in it is this integer
  const killGroup = `kill -KILL -- -${pid} 2>/dev/null || kill -KILL ${pid}`;
  try {
    client.exec(killGroup, (err, k) => {
      if (err) return close();
      k.resume();
      k.stderr.resume();
      const t = setTimeout(() => k.close(), 5000);
      k.on('close', () => {
        clearTimeout(t);
        close();
      });
    });
  } catch {
    close();
  }
}

class Capture {
  private readonly parts: Buffer[] = [];
  private kept = 0;
  dropped = 0;
  constructor(private readonly max: number) {}
  add(b: Buffer): void {
    const room = this.max - this.kept;
    if (room > 0) {
      const part = b.length > room ? b.subarray(0, room) : b;
      this.parts.push(part);
      this.kept += part.length;
    }
    this.dropped += Math.max(0, b.length - Math.max(room, 0));
  }
  text(): string {
    const s = Buffer.concat(this.parts).toString('utf8');
    return this.dropped > 0 ? `${s}\n[fleet: ${this.dropped} more bytes dropped]\n` : s;
  }
}
