// Opens a session channel (exec, shell, sftp), once more after a short wait when the server says it
// has no session free. OpenSSH frees a closed session only on its next pass through its main loop,
// so a channel opened just after another closed can find all MaxSessions (10) still taken although
// the pool keeps at most 8 open: sshd logs "no more sessions" and answers "open failed" (seen on
// these machines: 8 of 600 opens, 30 commands at a time on one connection). Nothing ran on a channel
// that was never opened, so opening it again is safe. Bounded: 5 attempts over about 0.6 s.
//
// `setup` runs inside ssh2's callback, before anything else: ssh2 parses every packet of one read
// in one go, so a fast command's exit-status can be emitted in the same tick as the channel's
// confirmation, and a listener attached a microtask later never hears it.
import { sleep } from '../sleep';

type Opener<T> = (cb: (err: Error | undefined, channel: T) => void) => void;

const waitsMs = [20, 60, 150, 350];

/** true for the server's refusal to open a session (not for a connection that is gone) */
export function isSessionRefused(err: unknown): boolean {
  return err instanceof Error && /^\(SSH\) Channel open failure: open failed$/.test(err.message);
}

export async function openSession<T, R>(
  open: Opener<T>,
  setup: (channel: T) => R | Promise<R>,
  signal?: AbortSignal,
): Promise<R> {
  for (let attempt = 0; ; attempt++) {
    let box: { value: R | Promise<R> };
    try {
      box = await new Promise<{ value: R | Promise<R> }>((resolve, reject) => {
        try {
          open((err, ch) => {
            if (err) return reject(err);
            try {
              resolve({ value: setup(ch) });
            } catch (e) {
              resolve({ value: Promise.reject(e as Error) }); // never into ssh2's parser
            }
          });
        } catch (e) {
          reject(e as Error); // ssh2 throws when the connection is already closed
        }
      });
    } catch (err) {
      if (!isSessionRefused(err) || attempt >= waitsMs.length || signal?.aborted) throw err;
      await sleep(waitsMs[attempt], signal);
      continue;
    }
    return box.value; // what setup returned (a rejection of it is the caller's, never retried)
  }
}
