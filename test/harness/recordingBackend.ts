// A backend that records every request it parses (method, path, body, headers), answers each with
// its sequence number, and answers /healthz with `ok`. What the LB forwards is exactly what it
// sees: a request smuggled inside another's body shows up here as a request of its own. A request
// is recorded the moment it is parsed, so once every connection to the backend has closed (idle()),
// the record holds everything the LB sent. Every answer names the path it answers (`X-Seen-Path`).
// A request's `X-Echo` header comes back in the answer's `X-Echo`, byte for byte (Node reads and
// writes header bytes as latin1). Paths under /chunked are answered in two writes, without a length
// (chunked); under /stream, a part every 50 ms, never ending; under /nodate, without a Date header;
// under /big?bytes=N, N bytes with their length, written only as fast as the LB takes them (a large
// answer costs this process no memory).
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  method: string;
  path: string;
  body: Buffer;
  headers: IncomingHttpHeaders;
}

export class RecordingBackend {
  readonly requests: Recorded[] = [];
  /** answers cut off before they were whole (the LB gave up on the request) */
  cutOff = 0;
  private constructor(private readonly server: Server) {}

  static async start(): Promise<RecordingBackend> {
    const server = createServer();
    const b = new RecordingBackend(server);
    server.on('request', (req, res) => {
      if (req.url === '/healthz') return void res.end('ok');
      const rec: Recorded = { method: req.method!, path: req.url!, body: Buffer.alloc(0), headers: req.headers };
      b.requests.push(rec);
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        rec.body = Buffer.concat(chunks);
        if (req.headers['x-echo'] !== undefined) res.setHeader('x-echo', req.headers['x-echo']);
        res.setHeader('x-seen-path', req.url!);
        if (req.url!.startsWith('/nodate')) res.sendDate = false;
        const seen = Buffer.from(`seen ${b.requests.length}\n`);
        res.on('close', () => (res.writableFinished ? undefined : b.cutOff++));
        if (req.url!.startsWith('/big'))
          return bigAnswer(res, Number(new URL(req.url!, 'http://x').searchParams.get('bytes')));
        if (req.url!.startsWith('/stream')) {
          // never ends: a part every 50 ms until the LB gives up on it
          const t = setInterval(() => res.write(Buffer.from('part, ')), 50);
          res.on('close', () => clearInterval(t));
          return void res.write(Buffer.from('first part, '));
        }
        // an answer without a length: Node sends it chunked
        if (req.url!.startsWith('/chunked')) res.write(Buffer.from('first part, '));
        // a Buffer, so Node writes the header bytes as latin1 (with a string it writes head and body as UTF-8)
        res.end(seen);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    return b;
  }

  get addr(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** resolves once no connection to the backend is open (bounded: rejects after timeoutMs) */
  async idle(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const n = await new Promise<number>((r, j) => this.server.getConnections((e, c) => (e ? j(e) : r(c))));
      if (n === 0) return;
      if (Date.now() > deadline)
        throw new Error(`recording backend still has ${n} connection(s) after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

const bigChunk = Buffer.alloc(64 * 1024, 'b');

/** `bytes` bytes of `b`, each 64 KiB written when the last was taken */
function bigAnswer(res: ServerResponse, bytes: number): void {
  res.writeHead(200, { 'content-length': bytes });
  let left = bytes;
  const more = (): void => {
    while (left > 0) {
      const n = Math.min(left, bigChunk.length);
      left -= n;
      if (!res.write(n === bigChunk.length ? bigChunk : bigChunk.subarray(0, n))) return void res.once('drain', more);
    }
    res.end();
  };
  more();
}
