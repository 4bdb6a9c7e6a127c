// One client connection to the LB's proxy listener, as the state machine of connectionStates.ts: reads
// request heads and bodies from the bytes as they arrive (cut anywhere, pipelined or not), hands each
// request to the handler in order, one at a time, and reads the next only when the answer to this one
// is whole and taken. Bodies are streamed with backpressure; a connection that idles, trickles its
// head or its body, or leaves its answer unread past the limits is closed. Every change of state goes
// through `to(event)`, which looks the next state up in the table.
import type { Socket } from 'node:net';
import { ChunkedError } from './chunked';
import { next, type ConnEvent, type ConnState } from './connectionStates';
import { sendError } from './errorAnswer';
import type { FrontHandler, FrontLimits, FrontRequest } from './handler';
import { BodyError, RequestBody } from './requestBody';
import { parseRequestHead } from './requestHead';
import { FrontResponse, type CutReason, type ResponseHooks } from './response';

export { BodyError } from './requestBody';
export type { FrontHandler, FrontLimits, FrontRequest } from './handler';

/** how long a closing connection's late bytes are read and dropped */
const lingerMs = 2000;

const continueLine = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n');

/** watches every transition (the property tests); undefined `to`: the table has no such transition */
export type TransitionObserver = (from: ConnState, event: ConnEvent, to: ConnState | undefined) => void;

export class FrontConnection {
  static observer: TransitionObserver | undefined;
  state: ConnState = 'idle';
  /** when the state's wait runs out (0: none) */
  deadline = 0;
  /** while the answer's writes wait for the client: when the client timeout cuts it (0: not waiting) */
  sendDeadline = 0;
  /** the server is shutting down: answer what is in flight with `Connection: close` */
  shuttingDown = false;
  private buf: Buffer | null = null;
  private requestStarted = 0;
  private body: RequestBody | null = null;
  private res: FrontResponse | null = null;
  /** the client has ended its side (it may still read) */
  private clientEnded = false;
  /** why the LB destroyed the socket, told to the answer in flight */
  private cutReason: CutReason = 'clientGone';
  /** re-entrancy: `run` called while running is folded into the running call */
  private running = false;
  private again = false;

  constructor(
    readonly socket: Socket,
    private readonly handler: FrontHandler,
    private readonly limits: FrontLimits,
    /** told of each request refused before the handler saw it (a malformed or late head), by status */
    private readonly refused: (status: number) => void = () => undefined,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('end', () => this.onClientEnd());
    socket.on('error', () => undefined);
    socket.on('close', () => this.onSocketClose());
    this.enter('idle');
  }

  /** between requests with nothing read of the next one and every answer sent */
  get idle(): boolean {
    return this.state === 'idle' && this.socket.writableLength === 0 && !this.buf?.length;
  }

  /** the sweep found a deadline passed */
  timedOut(now: number): void {
    if (this.sendDeadline !== 0 && now > this.sendDeadline) {
      this.sendDeadline = 0;
      this.to('sendTimeout');
      return this.cut('clientTimeout');
    }
    if (this.deadline === 0 || now <= this.deadline) return;
    const from = this.state;
    this.deadline = 0;
    const to = this.to('deadline');
    if (to === 'closed') return this.cut(from === 'drainWait' ? 'clientTimeout' : 'lbCut');
    // a request half read: say so (when nothing of an answer is out yet), then close
    if (from === 'head') this.refused(408);
    const what = from === 'head' ? 'the request head took too long' : 'the request body took too long';
    this.failRequest(408, what, 'clientTimeout');
  }

  /** the server shuts down: an idle connection goes now (once its answers are taken), a busy one after its answer */
  shutdown(): void {
    this.shuttingDown = true;
    if (this.state === 'closed' || (this.state === 'idle' && !this.idle)) return;
    if (this.to('shutdown') === 'closed') this.cut('lbCut');
  }

  // ---- the machine

  private to(event: ConnEvent): ConnState {
    const from = this.state;
    const n = next(from, event);
    FrontConnection.observer?.(from, event, n);
    if (n === undefined) {
      // a bug: never guess what a connection in an unexpected state means
      this.state = 'closed';
      this.cut('lbCut');
      return 'closed';
    }
    if (n !== from) {
      this.state = n;
      this.enter(n);
    }
    return n;
  }

  /** what entering a state does: its deadline, and reading on or not */
  private enter(s: ConnState): void {
    const now = Date.now();
    this.deadline = 0;
    switch (s) {
      case 'idle':
        this.deadline = now + this.limits.keepAliveTimeoutMs;
        if (this.socket.isPaused()) this.socket.resume();
        // the next request runs after this answer's writes are queued, never inside them
        if (this.buf?.length || this.clientEnded) process.nextTick(() => this.run());
        return;
      case 'head':
        this.requestStarted = now;
        this.deadline = now + this.limits.headersTimeoutMs;
        return;
      case 'body':
        this.deadline = this.requestStarted + this.limits.requestTimeoutMs;
        if (this.socket.isPaused()) this.socket.resume();
        return;
      case 'bodyFull':
        this.deadline = this.requestStarted + this.limits.requestTimeoutMs;
        this.socket.pause();
        return;
      case 'drainWait':
        this.deadline = now + this.limits.clientTimeoutMs;
        this.socket.pause();
        this.socket.once('drain', () => this.state === 'drainWait' && this.to('drained'));
        return;
      case 'abandoned':
        // the answer comes from the handler; a client that takes nothing of it is cut by sendDeadline
        this.socket.pause();
        this.deadline = now + this.limits.clientTimeoutMs;
        return;
      case 'closing':
        // ended by whoever moved here: after the answer in flight (answered), or at once (endGracefully)
        this.buf = null;
        return;
      case 'closed':
        this.sendDeadline = 0;
        return;
      default:
        return; // answering, tunnel: no deadline of the connection's own
    }
  }

  // ---- reading

  private onData(d: Buffer): void {
    if (this.state === 'closing' || this.state === 'closed' || this.state === 'tunnel') return; // dropped
    this.buf = this.buf === null || this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    this.run();
  }

  /** reads what the buffer holds, as far as the state allows */
  private run(): void {
    if (this.running) return void (this.again = true);
    this.running = true;
    try {
      do {
        this.again = false;
        const s = this.state;
        if (s === 'idle' || s === 'head') this.readHead();
        else if (s === 'body') this.readBody();
        else if (s === 'answering' && this.buf !== null && this.buf.length > this.limits.maxHeadBytes)
          this.socket.pause(); // a client pipelining far ahead waits for its answers
      } while (this.again);
    } finally {
      this.running = false;
    }
  }

  private readHead(): void {
    let buf = this.buf;
    if (buf !== null && buf.length > 0) {
      // empty lines before a request line are ignored (RFC 9112 §2.2): some clients end a body with one
      let skip = 0;
      while (skip + 1 < buf.length && buf[skip] === 0x0d && buf[skip + 1] === 0x0a) skip += 2;
      if (skip > 0) buf = this.buf = buf.subarray(skip);
    }
    if (buf === null || buf.length === 0) {
      // after the client's half close: its pipelined requests are answered, then the connection ends
      if (this.clientEnded && this.state === 'idle' && this.to('clientEnd') === 'closing') this.endGracefully();
      return;
    }
    if (this.state === 'idle') this.to('headStart');
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0 || end > this.limits.maxHeadBytes) {
      if (buf.length > this.limits.maxHeadBytes)
        this.refuseHead(431, `request head over ${this.limits.maxHeadBytes} bytes`);
      else if (this.clientEnded && this.to('clientEnd') === 'closed') this.cut('clientGone'); // a head cut off is no request
      return;
    }
    const head = parseRequestHead(buf.toString('latin1', 0, end));
    this.buf = buf.subarray(end + 4);
    if ('status' in head) return this.refuseHead(head.status, head.message);
    const { framing } = head;
    const res = new FrontResponse(
      this.socket,
      head.method === 'HEAD',
      head.minor,
      this.hooksFor(head.close),
      Math.floor(this.limits.keepAliveTimeoutMs / 1000),
    );
    this.res = res;
    this.body = null;
    if (framing.kind === 'none') this.to('headWholeNoBody');
    else {
      const body: RequestBody = new RequestBody(
        framing,
        () => this.readerWants(),
        () => this.readerGone(body),
      );
      this.body = body;
      this.to('headWhole');
      if (head.expectContinue) this.socket.write(continueLine);
    }
    const req: FrontRequest = {
      method: head.method,
      url: head.target,
      rawHeaders: head.rawHeaders,
      framing,
      minor: head.minor,
      remoteAddress: this.socket.remoteAddress,
      body: this.body?.stream ?? null,
      ...(head.upgrade !== undefined ? { upgrade: head.upgrade } : {}),
    };
    try {
      this.handler(req, res);
    } catch (e) {
      if (!res.headersSent) {
        this.to('handlerThrew');
        this.failRequest(500, `the LB failed on this request: ${(e as Error).message}`, 'malformed');
      } else if (!res.finished) {
        this.to('handlerThrew');
        this.cut('lbCut');
      }
    }
    this.again = true;
  }

  private readBody(): void {
    const buf = this.buf;
    if (buf === null || buf.length === 0) return;
    let step;
    try {
      step = this.body!.take(buf);
    } catch (e) {
      if (!(e instanceof ChunkedError)) throw e;
      return this.badBody(`malformed chunked body: ${e.message}`);
    }
    this.buf = step.used === buf.length ? null : buf.subarray(step.used);
    if (step.done) {
      this.body = null;
      this.to('bodyWhole');
      this.again = true;
    } else if (step.full) this.to('readerFull');
  }

  private readerWants(): void {
    if (this.state !== 'bodyFull') return;
    this.to('readerWants');
    this.run();
  }

  /** whoever read the body gave up on it (the upstream failed, it was too large): read no more of it */
  private readerGone(body: RequestBody): void {
    if (this.body !== body) return; // the connection ended it itself
    this.body = null;
    this.to('readerGone');
  }

  private badBody(message: string): void {
    const body = this.body;
    this.body = null;
    this.to('bodyBad');
    body?.fail(new BodyError('malformed', message));
    if (this.res && !this.res.headersSent) sendError(this.res, 400, message);
    else this.cut('lbCut');
  }

  // ---- answering

  private hooksFor(clientClose: boolean): ResponseHooks {
    return {
      mustClose: () => clientClose || this.shuttingDown || this.state !== 'answering' || this.endedAndDone(),
      finished: (keepOpen) => this.answered(keepOpen),
      blocked: (on) => {
        this.sendDeadline = on ? Date.now() + this.limits.clientTimeoutMs : 0;
      },
      upgraded: () => {
        this.to('upgrade');
        this.res = null;
        this.sendDeadline = 0;
        this.socket.removeAllListeners('data');
        this.socket.removeAllListeners('end');
        if (this.socket.isPaused()) this.socket.resume();
        const rest = this.buf ?? Buffer.alloc(0);
        this.buf = null;
        return rest;
      },
    };
  }

  /** the client ended its side and sent nothing more to answer */
  private endedAndDone(): boolean {
    return this.clientEnded && !this.buf?.length;
  }

  /** the answer is whole: read the next request, or end the connection */
  private answered(keepOpen: boolean): void {
    this.res = null;
    this.sendDeadline = 0;
    if (!keepOpen) this.to('answerLast');
    // the client is not reading its answers: read no further request (each would add an answer to
    // memory) until it has taken what is queued, for at most the client timeout
    else if (this.socket.writableNeedDrain) this.to('answerQueued');
    else this.to('answerWhole');
    if (this.state === 'closing') this.endGracefully();
  }

  /** an error answer from the LB itself about the request being read; the connection ends after it */
  private failRequest(status: number, message: string, why: BodyError['reason']): void {
    const body = this.body;
    this.body = null;
    body?.fail(new BodyError(why, message));
    const res = this.res ?? new FrontResponse(this.socket, false, 1, this.hooksFor(true));
    if (res.headersSent) return this.cut(why === 'clientTimeout' ? 'clientTimeout' : 'lbCut');
    this.res = res;
    sendError(res, status, message, true);
  }

  private refuseHead(status: number, message: string): void {
    this.refused(status);
    this.res = new FrontResponse(this.socket, false, 1, this.hooksFor(true));
    this.to('headBad');
    sendError(this.res, status, message, true);
  }

  // ---- ending

  /**
   * Ends the connection after the last answer. What the client still sends is read and dropped for a
   * while: closing with unread bytes would reset the connection, and the client could lose the answer.
   */
  private endGracefully(): void {
    if (this.socket.writableEnded) return;
    this.buf = null;
    this.deadline = Date.now() + lingerMs;
    this.socket.end();
    this.socket.resume();
  }

  /** a client that takes nothing is reset: what is queued for it would never be read, and holds memory */
  private cut(why: CutReason): void {
    this.cutReason = why;
    if (why === 'clientTimeout' && !this.socket.destroyed) this.socket.resetAndDestroy();
    else this.socket.destroy();
  }

  /** the client will send no more (a half close): answer what it asked, then close */
  private onClientEnd(): void {
    this.clientEnded = true;
    const s = this.state;
    // what is buffered is still answered (a whole head); a head cut off is not
    if (s === 'idle' || s === 'head') this.run();
    else if (s === 'body' || s === 'bodyFull') this.badBody('the connection ended before the request body did');
    else if (s === 'closing') {
      this.to('clientEnd');
      if (!this.res) this.cut('clientGone');
    } else if (s !== 'closed') this.to('clientEnd');
  }

  private onSocketClose(): void {
    this.to('clientGone');
    this.deadline = 0;
    this.sendDeadline = 0;
    const body = this.body;
    this.body = null;
    body?.fail(new BodyError(this.cutReason === 'clientTimeout' ? 'clientTimeout' : 'clientGone', 'client went away'));
    this.res?.socketClosed(this.cutReason);
  }
}
