// The answer to one request on a client connection: a status line and the caller's header fields,
// framed for this client (the caller's Content-Length, else chunked for HTTP/1.1, else the end of the
// connection for HTTP/1.0), no body after HEAD, 204 or 304; a Date where the caller gave none, and the
// idle timeout (`Keep-Alive: timeout=N`) when the connection stays open. Small answers leave in one write.
// Informational answers (1xx) go before it to HTTP/1.1 clients; a 101 hands the socket to a tunnel.
// Writes the client does not take are told to the connection (`blocked`), which cuts a client that
// takes nothing for the client timeout.
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

type Mode = 'none' | 'length' | 'chunked' | 'close';

/**
 * How an answer's connection ended before the answer was whole: the client left (a reset, or it
 * closed), the client took nothing of it for the client timeout, or the LB cut it (a timeout on the
 * request, a shutdown).
 */
export type CutReason = 'clientGone' | 'clientTimeout' | 'lbCut';

/** what the connection gives each answer */
export interface ResponseHooks {
  /** whether the connection must end after this answer; asked when the head is written */
  mustClose(): boolean;
  /** the answer is complete (keepOpen: the connection may carry another request) */
  finished(keepOpen: boolean): void;
  /** a write was not taken at once (true), or what was queued is now taken (false) */
  blocked(on: boolean): void;
  /** the answer was 101: the socket and the bytes read after the request go to a tunnel */
  upgraded(): Buffer;
}

const crlf = Buffer.from('\r\n');

export class FrontResponse {
  headersSent = false;
  /** end() was called: the whole answer is written */
  finished = false;
  /** set when the connection ended before the answer was whole */
  cut: CutReason | null = null;
  private mode: Mode = 'none';
  private keepOpen = true;
  private closeAfter = false;
  private closeCallbacks: Array<(cut: CutReason | null) => void> = [];
  private drainCallbacks: Array<() => void> = [];
  private closed = false;
  private waitingDrain = false;

  constructor(
    private readonly socket: Socket,
    private readonly bodyless: boolean,
    private readonly minor: 0 | 1,
    private readonly hooks: ResponseHooks,
    /** how long an idle connection is kept, told to the client so it does not reuse one about to close */
    private readonly keepAliveSecs = 0,
  ) {}

  /** an informational answer (1xx but 101) before the final one; HTTP/1.0 clients get none (RFC 9110 §15.2) */
  writeInformational(status: number, headers: readonly string[]): void {
    if (this.headersSent || this.minor === 0 || this.closed) return;
    let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Informational'}\r\n`;
    for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
    this.socket.write(head + '\r\n', 'latin1');
  }

  /**
   * Writes the status line and `headers` (name, value… as latin1 strings, already free of CR, LF
   * and hop-by-hop fields: the caller's duty) and this connection's framing fields.
   */
  writeHead(status: number, headers: readonly string[]): void {
    if (this.headersSent) throw new Error('the answer has already begun');
    this.headersSent = true;
    let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
    let hasLength = false;
    let hasDate = false;
    for (let i = 0; i < headers.length; i += 2) {
      const k = headers[i];
      if (k.length === 14 && k.toLowerCase() === 'content-length') hasLength = true;
      else if (k.length === 4 && k.toLowerCase() === 'date') hasDate = true;
      head += `${k}: ${headers[i + 1]}\r\n`;
    }
    // a recipient with a clock adds the Date an answer lacks (RFC 9110 §6.6.1), as node:http did
    if (!hasDate) head += `date: ${httpDate()}\r\n`;
    const noBody = this.bodyless || status === 204 || status === 304 || status < 200;
    if (noBody) this.mode = 'none';
    else if (hasLength) this.mode = 'length';
    else if (this.minor === 1) {
      this.mode = 'chunked';
      head += 'transfer-encoding: chunked\r\n';
    } else this.mode = 'close';
    this.keepOpen = this.mode !== 'close' && !this.closeAfter && !this.hooks.mustClose();
    if (!this.keepOpen) head += 'connection: close\r\n';
    else if (this.keepAliveSecs > 0) head += `keep-alive: timeout=${this.keepAliveSecs}\r\n`;
    // one write for the head and whatever the same tick adds (a small answer's body and its end)
    this.socket.cork();
    process.nextTick(uncork, this.socket);
    this.socket.write(head + '\r\n', 'latin1');
  }

  /**
   * Answers 101 with `headers` (the backend's, its Connection and Upgrade among them) and hands the
   * socket over: returns it with the bytes the client sent after its request.
   */
  upgrade(headers: readonly string[]): { socket: Socket; head: Buffer } {
    if (this.headersSent) throw new Error('the answer has already begun');
    this.headersSent = true;
    let head = 'HTTP/1.1 101 Switching Protocols\r\n';
    for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
    this.socket.write(head + '\r\n', 'latin1');
    this.finished = true;
    const rest = this.hooks.upgraded();
    this.fireClose(null);
    return { socket: this.socket, head: rest };
  }

  /** ends the connection after this answer (its request's body may be unread, so no request can follow) */
  closeConnection(): void {
    this.closeAfter = true;
  }

  /** false: the client is slow, wait for onDrain */
  write(chunk: Buffer): boolean {
    if (this.mode === 'none' || chunk.length === 0 || this.closed) return true;
    let ok: boolean;
    if (this.mode !== 'chunked') ok = this.socket.write(chunk);
    else {
      this.socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
      this.socket.write(chunk);
      ok = this.socket.write(crlf);
    }
    if (!ok) this.waitForDrain();
    return ok;
  }

  /** cb once the client has taken what is queued */
  onDrain(cb: () => void): void {
    if (!this.waitingDrain) return void process.nextTick(cb);
    this.drainCallbacks.push(cb);
  }

  /** `trailers`: trailer lines with their CRLFs, sent when the answer goes out chunked */
  end(chunk?: Buffer | string, trailers = ''): void {
    if (this.finished || this.closed) return;
    if (!this.headersSent) throw new Error('end() before writeHead()');
    if (chunk !== undefined) this.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    if (this.mode === 'chunked') this.socket.write(`0\r\n${trailers}\r\n`, 'latin1');
    this.finished = true;
    // what is still queued is the connection's to wait for now (one listener, not one per answer)
    if (this.waitingDrain) {
      this.socket.off('drain', this.drained);
      this.waitingDrain = false;
      this.drainCallbacks = [];
    }
    this.fireClose(null);
    this.hooks.finished(this.keepOpen);
  }

  /** cuts the connection, unless the answer is already whole (then it is left to finish) */
  destroy(): void {
    if (!this.finished) this.socket.destroy();
  }

  /** called once: when the answer is whole (null), or when the connection ends before (why) */
  onClose(cb: (cut: CutReason | null) => void): void {
    if (this.closed) cb(this.cut);
    else this.closeCallbacks.push(cb);
  }

  /** the connection is gone (why, when the answer was not whole) */
  socketClosed(why: CutReason): void {
    if (!this.finished) this.cut = why;
    this.fireClose(this.cut);
  }

  private waitForDrain(): void {
    if (this.waitingDrain) return;
    this.waitingDrain = true;
    this.hooks.blocked(true);
    this.socket.once('drain', this.drained);
  }

  private readonly drained = (): void => {
    this.waitingDrain = false;
    this.hooks.blocked(false);
    for (const cb of this.drainCallbacks.splice(0)) cb();
  };

  private fireClose(cut: CutReason | null): void {
    if (this.closed) return;
    this.closed = true;
    for (const cb of this.closeCallbacks.splice(0)) cb(cut);
  }
}

let dateSecond = -1;
let dateText = '';

/** the current time as an HTTP date, made once a second */
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

function uncork(s: Socket): void {
  s.uncork();
}
