// Raw HTTP/1.1 over one TCP connection, for framing tests: the bytes go out exactly as given (split
// where the test says), and the answers come back as text with their status lines counted.
import { connect } from 'node:net';

export interface RawExchange {
  /** everything the server sent */
  text: string;
  /** status codes of the responses, in order */
  statuses: number[];
  /** the server closed the connection */
  closed: boolean;
}

/**
 * writes `pieces` one after another and reads until `responses` status lines arrived, the server closed, or timeoutMs
 * passed
 */
export function rawExchange(
  port: number,
  pieces: readonly (string | Buffer)[],
  responses: number,
  timeoutMs = 5000,
): Promise<RawExchange> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let text = '';
    let closed = false;
    const statuses = () => [...text.matchAll(/^HTTP\/1\.1 (\d{3}) /gm)].map((m) => Number(m[1]));
    const finish = () => {
      clearTimeout(t);
      s.destroy();
      resolve({ text, statuses: statuses(), closed });
    };
    const t = setTimeout(finish, timeoutMs);
    s.on('data', (d) => {
      text += d.toString('latin1');
      // a response is complete when its body is: the backend's bodies end with \n, the LB's errors are JSON
      if (statuses().length >= responses && /(\n|\})$/.test(text)) finish();
    });
    s.on('end', () => ((closed = true), finish()));
    s.on('error', (e) => (text ? ((closed = true), finish()) : (clearTimeout(t), reject(e))));
    s.on('connect', async () => {
      for (const p of pieces) {
        s.write(p);
        await new Promise((r) => setImmediate(r));
      }
    });
  });
}

/**
 * `wire` cut into pieces of the given lengths, in order (the rest in a last piece): how a test splits bytes anywhere
 */
export function cutAt(wire: Buffer, cuts: readonly number[]): Buffer[] {
  const pieces: Buffer[] = [];
  let at = 0;
  for (const c of cuts) {
    if (at + c >= wire.length) break;
    pieces.push(wire.subarray(at, at + c));
    at += c;
  }
  pieces.push(wire.subarray(at));
  return pieces;
}

export interface ProbedExchange {
  /** what came back for the request (the probe's answer not included) */
  text: string;
  /** status codes of the answers to the request, interim ones included, up to its final answer */
  statuses: number[];
  /** the connection did not carry the next request (the probe got no answer before the close) */
  closed: boolean;
  /** after a 101: what came back through the tunnel */
  tunnel?: string;
  /** nothing decided within the bound */
  timedOut: boolean;
}

/**
 * Writes `pieces`, then as soon as a final answer (or a 101) begins, `probe` (a whole request) on the same
 * connection: its answer says the connection was kept, the close that it was not. A positive signal
 * either way, no quiet period to wait out. After a 101, `tunnelBytes` go into the tunnel instead and
 * their echo ends the exchange. Bounded by `boundMs`.
 */
export function probedExchange(
  port: number,
  pieces: readonly (string | Buffer)[],
  opts: { probe: string; tunnelBytes?: string; boundMs: number },
): Promise<ProbedExchange> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let text = '';
    let probedAt = -1;
    let tunnelAt = -1;
    let done = false;
    const lines = () => [...text.matchAll(/^HTTP\/1\.[01] (\d{3})[^\r\n]*\r?\n/gm)];
    const finish = (closed: boolean, timedOut = false, cutAt = text.length) => {
      if (done) return;
      done = true;
      clearTimeout(t);
      s.destroy();
      const mine = text.slice(0, cutAt);
      const statuses: number[] = [];
      for (const m of mine.matchAll(/^HTTP\/1\.[01] (\d{3})/gm)) {
        statuses.push(Number(m[1]));
        if (Number(m[1]) >= 200 || Number(m[1]) === 101) break;
      }
      resolve({
        text: mine,
        statuses,
        closed,
        timedOut,
        ...(tunnelAt >= 0 ? { tunnel: text.slice(tunnelAt) } : {}),
      });
    };
    const t = setTimeout(() => finish(false, true), opts.boundMs);
    s.on('data', (d) => {
      text += d.toString('latin1');
      if (tunnelAt >= 0) {
        if (text.slice(tunnelAt).includes(opts.tunnelBytes!)) finish(false);
        return;
      }
      const finals = lines().filter((m) => Number(m[1]) >= 200 || Number(m[1]) === 101);
      if (finals.length === 0) return;
      if (probedAt < 0) {
        const first = finals[0];
        if (Number(first[1]) === 101 && opts.tunnelBytes !== undefined) {
          const end = text.indexOf('\r\n\r\n', first.index!);
          if (end < 0) return;
          tunnelAt = end + 4;
          s.write(opts.tunnelBytes);
          return;
        }
        probedAt = text.length;
        s.write(opts.probe);
      } else if (finals.length > 1) finish(false, false, finals[1].index);
    });
    s.on('end', () => finish(true));
    s.on('close', () => finish(true));
    s.on('error', () => finish(true));
    s.on('connect', async () => {
      for (const p of pieces) {
        s.write(p);
        await new Promise((r) => setImmediate(r));
      }
    });
  });
}
