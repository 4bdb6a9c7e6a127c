// The answer to one request on a client connection: a status line and the caller's header fields,
// framed for this client (the caller's Content-Length, else chunked for HTTP/1.1, else the end of the
// connection for HTTP/1.0), no body after HEAD, 204 or 304; a Date where the caller gave none, and the
// idle timeout (`Keep-Alive: timeout=N`) when the connection stays open. Small answers leave in one write.
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

type Mode = 'none' | 'length' | 'chunked' | 'close';

const crlf = Buffer.from('\r\n');
const lastChunk = Buffer.from('0\r\n\r\n');

export class FrontResponse {
  headersSent = false;
  /** end() was called: the whole answer is written */
  finished = false;
  private mode: Mode = 'none';
  private keepOpen = true;
  private closeAfter = false;
  private closeCallbacks: Array<() => void> = [];
  private closed = false;

  constructor(
    private readonly socket: Socket,
    private readonly bodyless: boolean,
    private readonly minor: 0 | 1,
    /** whether the connection must end after this answer; asked when the head is written */
    private readonly mustClose: () => boolean,
    /** the answer is complete (keepOpen: the connection may carry another request) */
    private readonly onFinish: (keepOpen: boolean) => void,
    /** how long an idle connection is kept, told to the client so it does not reuse one about to close */
    private readonly keepAliveSecs = 0,
  ) {}

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
    this.keepOpen = this.mode !== 'close' && !this.closeAfter && !this.mustClose();
    if (!this.keepOpen) head += 'connection: close\r\n';
    else if (this.keepAliveSecs > 0) head += `keep-alive: timeout=${this.keepAliveSecs}\r\n`;
    // one write for the head and whatever the same tick adds (a small answer's body and its end)
    this.socket.cork();
    process.nextTick(uncork, this.socket);
    this.socket.write(head + '\r\n', 'latin1');
  }

  /** ends the connection after this answer (its request's body may be unread, so no request can follow) */
  closeConnection(): void {
    this.closeAfter = true;
  }

  /** false: the client is slow, wait for onDrain */
  write(chunk: Buffer): boolean {
    if (this.mode === 'none' || chunk.length === 0) return true;
    if (this.mode !== 'chunked') return this.socket.write(chunk);
    this.socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
    this.socket.write(chunk);
    return this.socket.write(crlf);
  }

  onDrain(cb: () => void): void {
    this.socket.once('drain', cb);
  }

  end(chunk?: Buffer | string): void {
    if (this.finished) return;
    if (!this.headersSent) throw new Error('end() before writeHead()');
    if (chunk !== undefined) this.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    if (this.mode === 'chunked') this.socket.write(lastChunk);
    this.finished = true;
    this.fireClose();
    this.onFinish(this.keepOpen);
  }

  /** cuts the connection, unless the answer is already whole (then it is left to finish) */
  destroy(): void {
    if (!this.finished) this.socket.destroy();
  }

  /** called once: when the answer is whole, or when the connection ends before */
  onClose(cb: () => void): void {
    if (this.closed) cb();
    else this.closeCallbacks.push(cb);
  }

  /** the connection is gone */
  socketClosed(): void {
    this.fireClose();
  }

  private fireClose(): void {
    if (this.closed) return;
    this.closed = true;
    for (const cb of this.closeCallbacks.splice(0)) cb();
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
