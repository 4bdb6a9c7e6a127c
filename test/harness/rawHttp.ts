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

/** writes `pieces` one after another and reads until `responses` status lines arrived, the server closed, or timeoutMs passed */
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

/** `wire` cut into pieces of the given lengths, in order (the rest in a last piece): how a test splits bytes anywhere */
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
