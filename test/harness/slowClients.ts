// Clients that misbehave slowly, for the LB's tests and its bench: a raw connection that sends bytes
// and then reads or never reads, and the 2 x N of them that tie up a proxy (N trickling one byte of
// a POST body, N never reading a 32 MiB answer); and a process's resident memory, to see what they cost.
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';

/** a connection to 127.0.0.1:port that has sent `bytes`; paused (never reading) unless `read` */
export function openRawClient(port: number, bytes: string, read: boolean): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    s.once('connect', () => {
      if (!read) s.pause();
      s.write(bytes);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/**
 * n clients that send a POST to `trickledPath` with one byte of its 1,000-byte body, then n that ask
 * the backend for 32 MiB (`/big?bytes=`) and never read it; each on its own connection, opened one at a
 * time. If one cannot be opened, those already open are closed.
 */
export async function openSlowClients(port: number, n: number, trickledPath: string): Promise<Socket[]> {
  const out: Socket[] = [];
  try {
    for (let i = 0; i < n; i++)
      out.push(
        await openRawClient(port, `POST ${trickledPath} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nx`, true),
      );
    for (let i = 0; i < n; i++)
      out.push(await openRawClient(port, `GET /big?bytes=${32 * 1024 * 1024} HTTP/1.1\r\nHost: x\r\n\r\n`, false));
    return out;
  } catch (e) {
    for (const s of out) s.destroy();
    throw e;
  }
}

/** the process's resident memory in MiB (/proc/PID/status) */
export function rssMiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]) / 1024;
}
