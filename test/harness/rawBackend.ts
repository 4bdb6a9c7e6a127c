// A backend that answers with raw bytes, for tests of what a proxy does with unusual or broken answers
// (1xx before the final answer, other transfer codings, resets, answers cut short) and of what reaches
// a backend (each request's head as it came, and its body). Each request is answered by the script
// registered for its path (`on(path, script)`), else with `200 ok`. It reads requests itself (a head up
// to CRLF CRLF, a body by Content-Length or chunked), leniently: it is the far side of the proxy under
// test, and records what the proxy sent, not whether it was well formed.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export interface RawRequest {
  /** the request line */
  line: string;
  method: string;
  path: string;
  /** header fields as sent, in order: [name, value] (names as written) */
  fields: [string, string][];
  /** the body, de-chunked */
  body: Buffer;
  /** the body came chunked */
  chunked: boolean;
  /** a chunked body's trailer lines, as sent */
  trailers: string;
}

/** what the backend does once a request is read: `write` these pieces (each its own write), then `after` */
export interface RawAnswer {
  write: (string | Buffer)[];
  /** keep: read the next request; close: FIN; reset: RST; hang: say nothing more, keep the connection */
  after?: 'keep' | 'close' | 'reset' | 'hang';
  /** upgrade: after writing, echo every byte the peer sends (a tunnel's far end) */
  echo?: boolean;
}

export type RawScript = (req: RawRequest) => RawAnswer;

const okAnswer: RawScript = () => ({ write: ['HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n'] });

export class RawBackend {
  readonly requests: RawRequest[] = [];
  /** connections accepted so far */
  connections = 0;
  private readonly scripts = new Map<string, RawScript>();
  private readonly sockets = new Set<Socket>();
  private constructor(private readonly server: Server) {}

  static async start(): Promise<RawBackend> {
    const server = createServer({ allowHalfOpen: true });
    const b = new RawBackend(server);
    server.on('connection', (s) => b.serve(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    return b;
  }

  get addr(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** answers requests whose path starts with `prefix` with `script` */
  on(prefix: string, script: RawScript): void {
    this.scripts.set(prefix, script);
  }

  /** the requests whose path starts with `prefix`, in the order they came */
  seen(prefix: string): RawRequest[] {
    return this.requests.filter((r) => r.path.startsWith(prefix));
  }

  /** open connections now */
  get open(): number {
    return this.sockets.size;
  }

  private scriptFor(path: string): RawScript {
    let best = '';
    for (const p of this.scripts.keys()) if (path.startsWith(p) && p.length > best.length) best = p;
    return best ? this.scripts.get(best)! : okAnswer;
  }

  private serve(s: Socket): void {
    this.connections++;
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    let busy = false;
    let tunnel = false;
    s.on('data', (d: Buffer) => {
      if (tunnel) return void s.write(d);
      buf = Buffer.concat([buf, d]);
      if (!busy) next();
    });
    s.on('end', () => (tunnel ? s.end() : undefined));
    const next = (): void => {
      const got = readRequest(buf);
      if (!got) return;
      buf = buf.subarray(got.used);
      this.requests.push(got.req);
      const answer = this.scriptFor(got.req.path)(got.req);
      busy = true;
      void (async () => {
        for (const piece of answer.write) {
          if (s.destroyed) return;
          s.write(piece);
          await new Promise((r) => setTimeout(r, 5));
        }
        busy = false;
        if (answer.echo) {
          tunnel = true;
          if (buf.length) s.write(buf);
          return;
        }
        const after = answer.after ?? 'keep';
        if (after === 'close') s.end();
        else if (after === 'reset') s.resetAndDestroy();
        else if (after === 'keep') next();
      })();
    };
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** one request from the front of `buf`, or null when it is not whole yet */
export function readRequest(buf: Buffer): { req: RawRequest; used: number } | null {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const lines = buf.toString('latin1', 0, end).split('\r\n');
  const [method = '', path = ''] = lines[0].split(' ');
  const fields = lines.slice(1).map((l): [string, string] => {
    const c = l.indexOf(':');
    return [l.slice(0, c), l.slice(c + 1).trim()];
  });
  const get = (n: string) => fields.filter(([k]) => k.toLowerCase() === n).map(([, v]) => v);
  let at = end + 4;
  const chunked = get('transfer-encoding').some((v) => /chunked/i.test(v));
  let body = Buffer.alloc(0);
  let trailers = '';
  if (chunked) {
    const parts: Buffer[] = [];
    for (;;) {
      const eol = buf.indexOf('\r\n', at);
      if (eol < 0) return null;
      const size = parseInt(buf.toString('latin1', at, eol), 16);
      at = eol + 2;
      if (size === 0) {
        // trailers up to an empty line
        for (;;) {
          const e = buf.indexOf('\r\n', at);
          if (e < 0) return null;
          const empty = e === at;
          if (!empty) trailers += buf.toString('latin1', at, e + 2);
          at = e + 2;
          if (empty) break;
        }
        break;
      }
      if (buf.length < at + size + 2) return null;
      parts.push(buf.subarray(at, at + size));
      at += size + 2;
    }
    body = Buffer.concat(parts);
  } else {
    const n = Number(get('content-length')[0] ?? 0);
    if (buf.length < at + n) return null;
    body = Buffer.from(buf.subarray(at, at + n));
    at += n;
  }
  return { req: { line: lines[0], method, path, fields, body, chunked, trailers }, used: at };
}
