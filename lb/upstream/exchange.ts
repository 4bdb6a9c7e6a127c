// One request and its answer on one connection to a backend: writes the request (its head, then its
// body as it comes, framed as it came), reads the answer: informational answers (1xx) handed on as they
// come, then the final head, then the body by its framing (length, chunked, or until the close), with
// backpressure both ways. What the backend does wrong is a failure of its own kind: refused, reset,
// timed out, malformed. What came with the head in the same read is checked before the head is handed
// on, so an answer broken from its start is answered 502 while nothing of it is out, as HAProxy does.
import type { Readable } from 'node:stream';
import type { Socket } from 'node:net';
import { ChunkedDecoder, ChunkedError } from '../front/chunked';
import { headEnd, MalformedAnswer, parseResponseHead, type ResponseHead } from './responseHead';
import type { ConnUser, SocketPool, UpstreamConn } from './socketPool';

/** bytes of an answer's head; more is malformed */
export const maxAnswerHeadBytes = 64 * 1024;

export type FailureKind = 'refused' | 'connectTimeout' | 'reset' | 'timeout' | 'malformed';

export interface UpstreamFailure {
  kind: FailureKind;
  /** what happened, in words: `refused the connection (ECONNREFUSED)` */
  detail: string;
  /** the final answer's head had come (the answer broke off) */
  answered: boolean;
}

/** where the answer goes */
export interface AnswerSink {
  informational(head: ResponseHead): void;
  head(head: ResponseHead): void;
  /** false: wait; the exchange reads on once resume() is called */
  data(chunk: Buffer): boolean;
  end(trailers: string): void;
  /** the backend switched protocols: the socket and what it sent after its 101 are the tunnel's */
  upgraded(head: ResponseHead, socket: Socket, rest: Buffer): void;
  failed(f: UpstreamFailure): void;
}

export interface UpstreamRequest {
  method: string;
  /** the request head, whole, as latin1 */
  head: string;
  /** body bytes read so far (all of it when `rest` is null) */
  body: Buffer[];
  /** the rest of the body, streamed after `body` */
  rest: Readable | null;
  chunked: boolean;
  /** chunked bodies: the trailer lines to send, once `rest` ends (or at once without `rest`) */
  trailers: () => string;
  /** the client asked to switch protocols: a 101 is expected */
  upgrade: boolean;
}

export interface ExchangeTimeouts {
  connectMs: number;
  /** the backend sending nothing while the LB waits on it (HAProxy's `timeout server`) */
  serverMs: number;
}

type Phase = 'head' | 'body' | 'done';

export class Exchange implements ConnUser {
  deadline: number;
  private phase: Phase = 'head';
  private buf: Buffer | null = null;
  private head: ResponseHead | null = null;
  private left = 0;
  private chunks: ChunkedDecoder | null = null;
  private paused = false;
  private sentAll = false;
  /** the final head went to the sink: a failure now breaks an answer off */
  private headOut = false;
  private restData: ((b: Buffer) => void) | null = null;

  constructor(
    private readonly pool: SocketPool,
    private readonly conn: UpstreamConn,
    private readonly req: UpstreamRequest,
    private readonly sink: AnswerSink,
    private readonly t: ExchangeTimeouts,
    /** called once, when the connection is no longer this exchange's */
    private readonly done: () => void,
  ) {
    conn.user = this;
    this.deadline = Date.now() + (conn.connected ? t.serverMs : t.connectMs);
    this.send();
  }

  /** the sink took what it could not take before */
  resume(): void {
    if (!this.paused || this.phase === 'done') return;
    this.paused = false;
    this.deadline = Date.now() + this.t.serverMs;
    this.conn.socket.resume();
  }

  /** the client side gave up: drop the connection, tell the sink nothing more */
  abort(): void {
    if (this.phase === 'done') return;
    this.finish(false);
  }

  // ---- ConnUser

  onConnect(): void {
    if (this.phase !== 'done') this.deadline = Date.now() + this.t.serverMs;
  }

  onData(d: Buffer): void {
    if (this.phase === 'done') return;
    if (!this.paused) this.deadline = Date.now() + this.t.serverMs;
    try {
      if (this.phase === 'head') this.readHead(d);
      else this.readBody(d);
    } catch (e) {
      if (!(e instanceof MalformedAnswer || e instanceof ChunkedError)) throw e;
      this.fail('malformed', `sent a malformed answer: ${e.message}`);
    }
  }

  onEnd(): void {
    if (this.phase === 'body' && this.head!.framing.kind === 'close') return this.complete();
    this.onClose(undefined);
  }

  onClose(error: NodeJS.ErrnoException | undefined): void {
    if (this.phase === 'done') return;
    const code = error?.code;
    if (!this.conn.connected)
      return this.fail('refused', `refused the connection (${code ?? error?.message ?? 'closed'})`);
    if (this.headOut)
      return this.fail(
        code === 'ECONNRESET' ? 'reset' : 'malformed',
        `closed the connection before the answer was whole (${code ?? 'FIN'})`,
      );
    if (this.buf?.length) return this.fail('malformed', 'closed the connection in the middle of its answer head');
    this.fail('reset', `closed the connection without an answer (${code ?? 'FIN'})`);
  }

  timedOut(): void {
    if (this.phase === 'done') return;
    if (!this.conn.connected)
      this.fail('connectTimeout', `did not accept the connection within ${this.t.connectMs} ms`);
    else this.fail('timeout', `sent nothing for ${this.t.serverMs} ms`);
  }

  // ---- sending

  private send(): void {
    const { req, conn } = this;
    const s = conn.socket;
    const body = req.body;
    const frame = (b: Buffer) => (req.chunked ? [Buffer.from(`${b.length.toString(16)}\r\n`), b, crlf] : [b]);
    const first: Buffer[] = [Buffer.from(req.head, 'latin1')];
    for (const b of body) if (b.length) first.push(...frame(b));
    if (req.rest === null) {
      if (req.chunked) first.push(Buffer.from(`0\r\n${req.trailers()}\r\n`, 'latin1'));
      this.sentAll = true;
    }
    s.write(first.length === 1 ? first[0] : Buffer.concat(first));
    const rest = req.rest;
    if (rest === null) return;
    this.restData = (b: Buffer) => {
      if (this.phase === 'done') return;
      let ok = true;
      for (const p of frame(b)) ok = s.write(p) && ok;
      if (!ok) {
        rest.pause();
        s.once('drain', () => {
          if (this.phase === 'done') return;
          this.deadline = Date.now() + this.t.serverMs;
          rest.resume();
        });
      }
    };
    rest.on('data', this.restData);
    rest.resume();
    rest.once('end', () => {
      if (this.phase === 'done') return;
      if (req.chunked) s.write(`0\r\n${req.trailers()}\r\n`, 'latin1');
      this.sentAll = true;
    });
  }

  // ---- reading

  private readHead(d: Buffer): void {
    let buf = this.buf === null ? d : Buffer.concat([this.buf, d]);
    for (;;) {
      const end = headEnd(buf);
      if (end < 0 || end > maxAnswerHeadBytes) {
        if (buf.length > maxAnswerHeadBytes)
          throw new MalformedAnswer(`an answer head over ${maxAnswerHeadBytes} bytes`);
        this.buf = buf;
        return;
      }
      const head = parseResponseHead(buf.toString('latin1', 0, end), this.req.method);
      buf = buf.subarray(end);
      if (head.status === 101) {
        if (!this.req.upgrade)
          throw new MalformedAnswer('101 Switching Protocols to a request that asked for no upgrade');
        this.phase = 'done';
        this.deadline = 0;
        const socket = this.conn.socket;
        this.conn.user = null;
        socket.removeAllListeners('data');
        socket.removeAllListeners('end');
        this.sink.upgraded(head, socket, buf);
        return this.done();
      }
      if (head.status < 200) {
        this.sink.informational(head);
        if (this.phase === 'done') return;
        continue;
      }
      this.buf = null;
      this.head = head;
      this.phase = 'body';
      const f = head.framing;
      if (f.kind === 'length') this.left = f.bytes;
      else if (f.kind === 'chunked') this.chunks = new ChunkedDecoder();
      // the body bytes of this read are checked before the head goes on
      const pieces: Buffer[] = [];
      const whole =
        buf.length > 0 ? this.take(buf, pieces) : f.kind === 'none' || (f.kind === 'length' && f.bytes === 0);
      this.headOut = true;
      this.sink.head(head);
      // the sink may have given up on it (the client left meanwhile)
      if ((this.phase as Phase) === 'done') return;
      return this.deliver(pieces, whole);
    }
  }

  private readBody(d: Buffer): void {
    const pieces: Buffer[] = [];
    const whole = this.take(d, pieces);
    this.deliver(pieces, whole);
  }

  /** the body's bytes in `d` into `pieces`; true when the body is whole */
  private take(d: Buffer, pieces: Buffer[]): boolean {
    const f = this.head!.framing;
    let used = d.length;
    let whole = false;
    if (f.kind === 'none') {
      used = 0;
      whole = true;
    } else if (f.kind === 'close') pieces.push(d);
    else if (f.kind === 'length') {
      used = Math.min(this.left, d.length);
      if (used > 0) pieces.push(used === d.length ? d : d.subarray(0, used));
      this.left -= used;
      whole = this.left === 0;
    } else {
      const step = this.chunks!.push(d);
      pieces.push(...step.data);
      used = step.used;
      whole = step.done;
    }
    // bytes past the answer: the backend sent more than it framed; its connection cannot be reused
    if (used < d.length) this.head!.close = true;
    return whole;
  }

  private deliver(pieces: Buffer[], whole: boolean): void {
    let more = true;
    for (const p of pieces) if (p.length) more = this.sink.data(p) && more;
    if (this.phase === 'done') return;
    if (whole) return this.complete();
    if (!more) {
      this.paused = true;
      this.deadline = 0; // the client is slow, not the backend: the client timeout runs
      this.conn.socket.pause();
    }
  }

  private complete(): void {
    const trailers = this.chunks?.trailers ?? '';
    const head = this.head!;
    // an answer that came before the whole request went out leaves the connection unusable
    this.finish(!head.close && head.framing.kind !== 'close' && this.sentAll);
    this.sink.end(trailers);
  }

  private fail(kind: FailureKind, detail: string): void {
    if (this.phase === 'done') return;
    const answered = this.headOut;
    this.finish(false);
    this.sink.failed({ kind, detail, answered });
  }

  private finish(reuse: boolean): void {
    this.phase = 'done';
    this.deadline = 0;
    if (this.restData) this.req.rest?.off('data', this.restData);
    if (this.paused) this.conn.socket.resume();
    if (reuse) this.pool.give(this.conn, this.head?.keepAliveSecs ?? 0);
    else this.pool.discard(this.conn);
    this.done();
  }
}

const crlf = Buffer.from('\r\n');
