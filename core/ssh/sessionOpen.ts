// Opens a session channel (exec, shell, sftp), once more after a short wait when the server says it
// has no session free. OpenSSH frees a closed session only on its next pass through its main loop,
// so a channel opened just after another closed can find all MaxSessions (10) still taken although
// the pool keeps at most 8 open: sshd logs "no more sessions" and answers "open failed" (seen on
// these machines: 8 of 600 opens, 30 commands at a time on one connection). Nothing ran on a channel
// that was never opened, so opening it again is safe. Bounded: 5 attempts over about 0.6 s.
import { sleep } from '../sleep';

type Opener<T> = (cb: (err: Error | undefined, channel: T) => void) => void;

const waitsMs = [20, 60, 150, 350];

/** true for the server's refusal to open a session (not for a connection that is gone) */
export function isSessionRefused(err: unknown): boolean {
  return err instanceof Error && /^\(SSH\) Channel open failure: open failed$/.test(err.message);
}

export async function openSession<T>(open: Opener<T>, signal?: AbortSignal): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await new Promise<T>((resolve, reject) => {
        try {
          open((err, ch) => (err ? reject(err) : resolve(ch)));
        } catch (e) {
          reject(e as Error); // ssh2 throws when the connection is already closed
        }
      });
    } catch (err) {
      if (!isSessionRefused(err) || attempt >= waitsMs.length || signal?.aborted) throw err;
      await sleep(waitsMs[attempt], signal);
    }
  }
}
