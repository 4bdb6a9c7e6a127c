// One client request's way to the backends: a try on a backend with room (waiting in the pool's queue
// when none has), its answer handed to the client as it comes (1xx first, a 101 into a tunnel), and
// each try counted on its backend by how it ended: answered, failed by the backend, or ended by the
// client. A try the backend refused (or whose connection it reset, for a GET or HEAD without a body)
// is tried once more on another backend; one whose client left is not.
import type { Socket } from 'node:net';
import type { Backend } from './backend';
import { BodyTooLarge } from './bodyBuffer';
import { BodyError, type FrontRequest } from './front/connection';
import { sendError } from './front/errorAnswer';
import type { CutReason, FrontResponse } from './front/response';
import { answerFields } from './headers';
import type { Pool } from './pool';
import { Tunnel } from './tunnel';
import { Exchange, type AnswerSink, type UpstreamFailure } from './upstream/exchange';
import type { ResponseHead } from './upstream/responseHead';

export interface ForwardOptions {
  connectTimeoutMs: number;
  /** the backend sending nothing while the LB waits on it */
  serverTimeoutMs: number;
  /** a tunnel with nothing crossing it */
  tunnelTimeoutMs: number;
  maxBodyBytes: number;
  /** count each backend's tries and answers (off only to measure what counting costs) */
  stats: boolean;
}

/** what the request sends to a backend, made once for all its tries */
export interface Outgoing {
  /** the request line and forwarded fields, framing included, without the blank line */
  head: string;
  /** the client sent no Host (HTTP/1.0): each try names its backend */
  needsHost: boolean;
  body: Buffer[];
  rest: FrontRequest['body'];
  chunked: boolean;
}

/** the status an LB answers with when a backend failed it, as HAProxy does */
const statusOf: Record<UpstreamFailure['kind'], number> = {
  refused: 503,
  connectTimeout: 503,
  timeout: 504,
  reset: 502,
  malformed: 502,
};

export class Forward implements AnswerSink {
  private b: Backend | null = null;
  private ex: Exchange | null = null;
  private started = 0;
  private tries = 0;
  private firstFailure = '';
  private cancelQueue: (() => void) | null = null;
  /** the request needs nothing more from a backend: answered, refused, or its client gone */
  private over = false;
  private tunnelled = false;
  /** the status of the answer being forwarded */
  private status = 0;

  constructor(
    private readonly pool: Pool,
    private readonly req: FrontRequest,
    private readonly res: FrontResponse,
    private readonly out: Outgoing,
    private readonly opts: ForwardOptions,
  ) {
    res.onClose((cut) => cut && this.clientCut(cut));
    const rest = out.rest;
    if (rest) {
      // counted before the exchange writes it: a body past the limit is never sent whole
      let size = out.body.reduce((n, b) => n + b.length, 0);
      rest.on('data', (d: Buffer) => {
        size += d.length;
        if (size > opts.maxBodyBytes) rest.destroy(new BodyTooLarge(`request body over ${opts.maxBodyBytes} bytes`));
      });
      rest.on('error', (e) => this.bodyFailed(e));
    }
  }

  start(exclude?: Backend): void {
    let settled = false;
    const cancel = this.pool.acquire(exclude, (b, why) => {
      settled = true;
      this.cancelQueue = null;
      if (this.over) return;
      if (!b) return this.refuse(503, this.firstFailure ? `${this.firstFailure}; ${why}` : why);
      this.tryOn(b);
    });
    // a backend with room now answered at once; else the request waits in the queue
    if (!settled) this.cancelQueue = cancel;
  }

  private tryOn(b: Backend): void {
    this.b = b;
    b.begin();
    this.tries++;
    if (this.opts.stats) {
      b.traffic.requests++;
      this.started = performance.now();
    }
    const out = this.out;
    let head = out.head;
    if (out.needsHost) head += `host: ${b.addr}\r\n`;
    const conn = b.sockets.take();
    this.ex = new Exchange(
      b.sockets,
      conn,
      {
        method: this.req.method,
        head: head + '\r\n',
        body: out.body,
        rest: out.rest,
        chunked: out.chunked,
        // set on the body by the connection when it ends (front/connection.ts)
        trailers: () => (this.req.body as { trailers?: string } | null)?.trailers ?? '',
        upgrade: this.req.upgrade !== undefined,
      },
      this,
      { connectMs: this.opts.connectTimeoutMs, serverMs: this.opts.serverTimeoutMs },
      () => {
        this.ex = null;
        if (!this.tunnelled) b.end();
      },
    );
  }

  // ---- the answer

  informational(h: ResponseHead): void {
    if (this.answeredElsewhere()) return;
    this.res.writeInformational(h.status, answerFields(h.rawHeaders, false));
  }

  head(h: ResponseHead): void {
    if (this.answeredElsewhere()) return;
    this.status = h.status;
    if (this.opts.stats) this.b!.traffic.answered(h.status, performance.now() - this.started);
    const keepLength = h.framing.kind === 'length' || this.req.method === 'HEAD' || h.status === 304;
    this.res.writeHead(h.status, answerFields(h.rawHeaders, keepLength));
  }

  data(chunk: Buffer): boolean {
    if (this.res.write(chunk)) return true;
    const ex = this.ex;
    this.res.onDrain(() => ex?.resume());
    return false;
  }

  end(trailers: string): void {
    this.over = true;
    this.res.end(undefined, trailers);
  }

  upgraded(h: ResponseHead, socket: Socket, rest: Buffer): void {
    const b = this.b!;
    this.over = true;
    this.tunnelled = true;
    if (this.opts.stats) {
      b.traffic.answered(101, performance.now() - this.started);
      b.traffic.upgrades++;
    }
    const client = this.res.upgrade(answerFields(h.rawHeaders, false, true));
    const t: Tunnel = new Tunnel(client.socket, client.head, socket, rest, this.opts.tunnelTimeoutMs, () => {
      b.tunnels.delete(t);
      b.end();
    });
    b.tunnels.add(t);
  }

  failed(f: UpstreamFailure): void {
    const b = this.b!;
    const replayable = this.out.rest === null;
    if (this.opts.stats) {
      if (!f.answered) b.traffic.errors++;
      else if (this.status < 500) b.traffic.brokenAnswers++;
    }
    if (this.over) return;
    const what = `backend ${b.addr} ${f.detail}`;
    const retriable =
      !f.answered &&
      !this.res.headersSent &&
      replayable &&
      (f.kind === 'refused' ||
        f.kind === 'connectTimeout' ||
        (f.kind === 'reset' &&
          this.out.body.length === 0 &&
          (this.req.method === 'GET' || this.req.method === 'HEAD')));
    if (retriable && this.tries === 1 && this.pool.hasOther(b)) {
      this.firstFailure = what;
      return this.start(b);
    }
    this.over = true;
    if (this.res.headersSent) return this.res.destroy();
    const message = this.firstFailure
      ? `${what}, after ${this.firstFailure}`
      : retriable && this.tries === 1
        ? `${what}; no other healthy backend in pool ${this.pool.pattern} to try`
        : what;
    sendError(this.res, statusOf[f.kind], message, this.out.rest !== null);
  }

  /**
   * The connection answered the client itself meanwhile (a 408 for a body past the request timeout):
   * this try's answer has nowhere to go. Its end is counted where the body's failure is heard.
   */
  private answeredElsewhere(): boolean {
    if (!this.res.headersSent && !this.res.cut) return false;
    this.over = true;
    this.ex?.abort();
    return true;
  }

  // ---- the client's side

  /** the client's connection ended before its answer was whole */
  private clientCut(cut: CutReason): void {
    this.over = true;
    this.endTry(cut === 'clientTimeout' ? 'clientTimeout' : 'clientGone');
  }

  /**
   * the request's body failed while a try streamed it (the client left, stalled, broke its framing, or it grew too
   * large)
   */
  private bodyFailed(e: Error): void {
    if (this.over) return;
    this.over = true;
    this.endTry(e instanceof BodyError && e.reason === 'clientTimeout' ? 'clientTimeout' : 'clientGone');
    // the connection answers a malformed or late body itself; a body too large is this side's to answer
    if (!(e instanceof BodyError)) sendError(this.res, 413, e.message, true);
  }

  private endTry(why: 'clientGone' | 'clientTimeout'): void {
    if (this.cancelQueue) {
      this.cancelQueue();
      this.cancelQueue = null;
      if (why === 'clientTimeout') this.pool.front.clientTimeouts++;
      else this.pool.front.clientAborts++;
      return;
    }
    const ex = this.ex;
    if (!ex) return;
    if (this.opts.stats) {
      if (why === 'clientTimeout') this.b!.traffic.clientTimeouts++;
      else this.b!.traffic.clientAborts++;
    }
    ex.abort();
  }

  private refuse(status: number, message: string): void {
    this.over = true;
    this.pool.front.refuse(status);
    sendError(this.res, status, message, this.out.rest !== null);
  }
}
