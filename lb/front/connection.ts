// One client connection to the LB's proxy listener: reads request heads and bodies from the bytes as
// they arrive (cut anywhere, pipelined or not), hands each request to the handler in order, one at a
// time, and reads the next only when the answer to this one is whole. Bodies are streamed with
// backpressure; a connection that idles, trickles its head or its body past the limits is closed.
import { Readable } from 'node:stream';
import type { Socket } from 'node:net';
import { ChunkedDecoder, ChunkedError } from './chunked';
import { sendError } from './errorAnswer';
import { parseRequestHead, type Framing } from './requestHead';
import { FrontResponse } from './response';

export interface FrontRequest {
  method: string;
  /** origin-form request target: path and query */
  url: string;
  rawHeaders: string[];
  framing: Framing;
  remoteAddress: string | undefined;
  /** the body as it arrives (null when the request has none) */
  body: Readable | null;
}

export type FrontHandler = (req: FrontRequest, res: FrontResponse) => void;

export interface FrontLimits {
  /** bytes of one request head (request line and fields); more is refused with 431 */
  maxHeadBytes: number;
  /** from the first byte of a head to its end */
  headersTimeoutMs: number;
  /** from the first byte of a head to the end of its body */
  requestTimeoutMs: number;
  /** an idle connection between requests */
  keepAliveTimeoutMs: number;
}

/** how long a closing connection's late bytes are read and dropped */
const lingerMs = 2000;

const crlfCrlf = Buffer.from('\r\n\r\n');
const continueLine = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n');

type State = 'head' | 'body' | 'answering' | 'closing';
/** what the connection waits for: the next request, its head, its body, the client to read its answers, or to close */
type Wait = 'idle' | 'head' | 'body' | 'drain' | 'linger';

export class FrontConnection {
  /** when the current wait (idle, head, body) runs out; 0: no limit now (the answer is coming) */
  deadline = 0;
  private state: State = 'head';
  private buf: Buffer | null = null;
  private waitingFor: Wait | null = null;
  private requestStarted = 0;
  private body: Readable | null = null;
  private bodyLeft = 0;
  private chunked: ChunkedDecoder | null = null;
  private bodyPaused = false;
  private res: FrontResponse | null = null;
  private running = false;
  private again = false;
  private clientEnded = false;
  /** answers are queued that the client has not read: no request is read until they drain */
  private awaitingDrain = false;
  /** the server is shutting down: answer what is in flight with `Connection: close` */
  closing = false;

  constructor(
    readonly socket: Socket,
    private readonly handler: FrontHandler,
    private readonly limits: FrontLimits,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => {
      if (this.state === 'closing') return; // read and dropped until the client closes too
      this.buf = this.buf === null || this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
      this.run();
    });
    socket.on('end', () => this.onClientEnd());
    socket.on('error', () => undefined);
    socket.on('close', () => this.onSocketClose());
    this.wait('idle');
  }

  /** between requests with nothing read of the next one, or done with its last answer, and every answer sent */
  get idle(): boolean {
    if (this.socket.writableLength > 0) return false;
    if (this.state === 'closing') return this.res === null;
    return this.state === 'head' && (this.buf === null || this.buf.length === 0);
  }

  /** the deadline passed: say so when a request is half read, then close */
  timedOut(): void {
    const what = this.waitingFor;
    this.deadline = 0;
    if (what === 'idle' || what === 'linger' || what === 'drain' || this.res?.headersSent)
      return void this.socket.destroy();
    this.fail(408, what === 'head' ? 'the request head took too long' : 'the request body took too long');
  }

  private wait(what: Wait | null): void {
    this.waitingFor = what;
    if (what === null) this.deadline = 0;
    else if (what === 'drain') this.deadline = Date.now() + this.limits.requestTimeoutMs;
    else if (what === 'linger') this.deadline = Date.now() + lingerMs;
    else if (what === 'idle') this.deadline = Date.now() + this.limits.keepAliveTimeoutMs;
    else if (what === 'head') {
      this.requestStarted = Date.now();
      this.deadline = this.requestStarted + this.limits.headersTimeoutMs;
    } else this.deadline = this.requestStarted + this.limits.requestTimeoutMs;
  }

  /** reads what the buffer holds, as far as the state allows; re-entrant calls are folded into the running one */
  private run(): void {
    if (this.running) return void (this.again = true);
    if (this.awaitingDrain) return; // bytes that arrive meanwhile wait in the buffer
    this.running = true;
    try {
      do {
        this.again = false;
        if (this.state === 'head') this.readHead();
        else if (this.state === 'body') this.readBody();
        else if (this.state === 'answering' && this.buf !== null && this.buf.length > this.limits.maxHeadBytes)
          this.socket.pause(); // a client pipelining far ahead waits for its answers
      } while (this.again && !this.awaitingDrain);
    } finally {
      this.running = false;
    }
  }

  private readHead(): void {
    let buf = this.buf;
    // after the client's half close: its pipelined requests are answered, then the connection ends
    if (buf === null || buf.length === 0) return void (this.clientEnded && this.endGracefully());
    // empty lines before a request line are ignored (RFC 9112 §2.2): some clients end a body with one
    let skip = 0;
    while (skip + 1 < buf.length && buf[skip] === 0x0d && buf[skip + 1] === 0x0a) skip += 2;
    if (skip > 0) buf = this.buf = buf.subarray(skip);
    if (buf.length === 0) return void (this.clientEnded && this.endGracefully());
    if (this.waitingFor !== 'head') this.wait('head');
    const end = buf.indexOf(crlfCrlf);
    if (end < 0 || end > this.limits.maxHeadBytes) {
      if (buf.length > this.limits.maxHeadBytes) this.fail(431, `request head over ${this.limits.maxHeadBytes} bytes`);
      else if (this.clientEnded) this.socket.destroy(); // a head cut off is no request
      return;
    }
    const head = parseRequestHead(buf.toString('latin1', 0, end));
    this.buf = buf.subarray(end + 4);
    if ('status' in head) return this.fail(head.status, head.message);
    const { framing } = head;
    this.body = null;
    if (framing.kind === 'none') {
      this.state = 'answering';
      this.wait(null);
    } else {
      this.body = new Readable({ read: () => this.resumeBody(), destroy: (e, cb) => this.bodyDestroyed(e, cb) });
      // the body ends in an error when the client leaves or sends it malformed; whoever reads it (the
      // proxy's pipeline) hears that, and a body nobody reads (an answer given before it: 404, 503)
      // must not crash the LB with an unheard 'error'
      this.body.on('error', () => undefined);
      this.bodyLeft = framing.kind === 'length' ? framing.bytes : 0;
      this.chunked = framing.kind === 'chunked' ? new ChunkedDecoder() : null;
      this.state = 'body';
      this.wait('body');
      if (head.expectContinue) this.socket.write(continueLine);
    }
    const wantsClose = head.close;
    const res = new FrontResponse(
      this.socket,
      head.method === 'HEAD',
      head.minor,
      () => wantsClose || this.closing || this.state !== 'answering' || (this.clientEnded && !this.buf?.length),
      (keepOpen) => this.answered(keepOpen),
      Math.floor(this.limits.keepAliveTimeoutMs / 1000),
    );
    this.res = res;
    const req: FrontRequest = {
      method: head.method,
      url: head.target,
      rawHeaders: head.rawHeaders,
      framing,
      remoteAddress: this.socket.remoteAddress,
      body: this.body,
    };
    try {
      this.handler(req, res);
    } catch (e) {
      if (!res.headersSent) this.fail(500, `the LB failed on this request: ${(e as Error).message}`);
      else if (!res.finished) this.socket.destroy();
    }
    this.again = true;
  }

  private readBody(): void {
    const buf = this.buf;
    const body = this.body!;
    if (this.bodyPaused || buf === null || buf.length === 0) return;
    let used: number;
    let done: boolean;
    let more = true;
    if (this.chunked) {
      let step;
      try {
        step = this.chunked.push(buf);
      } catch (e) {
        if (!(e instanceof ChunkedError)) throw e;
        return this.badBody(`malformed chunked body: ${e.message}`);
      }
      for (const d of step.data) more = body.push(d) && more;
      used = step.used;
      done = step.done;
    } else {
      used = Math.min(this.bodyLeft, buf.length);
      more = body.push(used === buf.length ? buf : buf.subarray(0, used));
      this.bodyLeft -= used;
      done = this.bodyLeft === 0;
    }
    this.buf = used === buf.length ? null : buf.subarray(used);
    if (done) {
      body.push(null);
      this.body = null;
      this.chunked = null;
      this.state = 'answering';
      this.wait(null);
      this.again = true;
    } else if (!more) {
      this.bodyPaused = true;
      this.socket.pause();
    }
  }

  private resumeBody(): void {
    if (!this.bodyPaused) return;
    this.bodyPaused = false;
    this.socket.resume();
    this.run();
  }

  /** whoever read the body gave up on it (the upstream failed, or it was too large): read no more of this connection */
  private bodyDestroyed(e: Error | null, cb: (e: Error | null) => void): void {
    if (this.state === 'body') {
      this.state = 'closing';
      this.socket.pause();
    }
    cb(e);
  }

  private badBody(message: string): void {
    const body = this.body;
    this.body = null;
    this.state = 'closing';
    body?.destroy(new Error(message));
    if (this.res && !this.res.headersSent) sendError(this.res, 400, message);
    else this.socket.destroy();
  }

  /** the answer is whole: read the next request, or end the connection */
  private answered(keepOpen: boolean): void {
    this.res = null;
    if (!keepOpen || this.state !== 'answering') return this.endGracefully();
    this.state = 'head';
    if (this.socket.writableNeedDrain) {
      // the client is not reading its answers: read no further request (each would add an answer to
      // memory) until it has taken what is queued, for at most the request timeout
      this.awaitingDrain = true;
      this.socket.pause();
      this.wait('drain');
      this.socket.once('drain', () => {
        this.awaitingDrain = false;
        this.nextRequest();
      });
    } else this.nextRequest();
  }

  private nextRequest(): void {
    if (this.state !== 'head') return;
    this.wait('idle');
    if (this.socket.isPaused()) this.socket.resume();
    // the next request runs after this answer's writes are queued, never inside them
    process.nextTick(() => this.run());
  }

  /**
   * Ends the connection after the last answer. What the client still sends is read and dropped for a
   * while: closing with unread bytes would reset the connection, and the client could lose the answer.
   */
  private endGracefully(): void {
    this.state = 'closing';
    this.buf = null;
    this.wait('linger');
    this.socket.end();
    this.socket.resume();
  }

  /** an error from the LB itself; the connection ends after it (what follows cannot be trusted) */
  private fail(status: number, message: string): void {
    this.state = 'closing';
    this.wait(null);
    this.body?.destroy(new Error(message));
    this.body = null;
    const res =
      this.res ??
      new FrontResponse(
        this.socket,
        false,
        1,
        () => true,
        () => this.endGracefully(),
      );
    if (res.headersSent) return void this.socket.destroy();
    this.res = res;
    sendError(res, status, message);
  }

  /** the client will send no more (a half close): answer what it asked, then close */
  private onClientEnd(): void {
    this.clientEnded = true;
    if (this.state === 'head') {
      // a head cut off mid-way is no request; an idle connection simply ends
      if (this.buf !== null && this.buf.length > 0) this.socket.destroy();
      else this.endGracefully();
    } else if (this.state === 'body') this.badBody('the connection ended before the request body did');
    else if (this.state === 'closing' && this.res === null) this.socket.destroy();
  }

  private onSocketClose(): void {
    this.state = 'closing';
    this.deadline = 0;
    this.body?.destroy(new Error('client went away'));
    this.res?.socketClosed();
  }
}
