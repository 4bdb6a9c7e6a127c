// A request's body as a client connection reads it: the bytes that belong to it taken from what the
// connection has buffered (by its length, or chunked, checked by ChunkedDecoder), pushed into a
// Readable for whoever forwards it, with backpressure; its trailers set on the stream when it ends.
// It fails with a BodyError saying whose doing that was.
import { Readable } from 'node:stream';
import { ChunkedDecoder } from './chunked';
import type { Framing } from './requestHead';

/** why a request's body ended before it was whole */
export class BodyError extends Error {
  constructor(
    readonly reason: 'clientGone' | 'clientTimeout' | 'malformed',
    message: string,
  ) {
    super(message);
  }
}

/** a body stream; `trailers` (lines with their CRLFs) once it has ended chunked */
export type BodyStream = Readable & { trailers?: string };

export class RequestBody {
  readonly stream: BodyStream;
  private left: number;
  private readonly chunked: ChunkedDecoder | null;

  constructor(
    framing: Exclude<Framing, { kind: 'none' }>,
    /** the reader wants more (after it had enough) */
    wants: () => void,
    /** the reader destroyed the stream */
    gone: () => void,
  ) {
    this.stream = new Readable({
      read: wants,
      destroy: (e, cb) => {
        gone();
        cb(e);
      },
    });
    // the body ends in an error when the client leaves or sends it malformed; whoever reads it hears
    // that, and a body nobody reads (an answer given before it: 404) must not crash the LB
    this.stream.on('error', () => undefined);
    this.left = framing.kind === 'length' ? framing.bytes : 0;
    this.chunked = framing.kind === 'chunked' ? new ChunkedDecoder() : null;
  }

  /**
   * Takes what of `buf` belongs to the body: how many bytes it used, whether the body is whole, and
   * whether its reader has enough for now. Throws ChunkedError on a malformed chunked body.
   */
  take(buf: Buffer): { used: number; done: boolean; full: boolean } {
    const s = this.stream;
    let used: number;
    let done: boolean;
    let more = true;
    if (this.chunked) {
      const step = this.chunked.push(buf);
      for (const d of step.data) more = s.push(d) && more;
      used = step.used;
      done = step.done;
    } else {
      used = Math.min(this.left, buf.length);
      more = s.push(used === buf.length ? buf : buf.subarray(0, used));
      this.left -= used;
      done = this.left === 0;
    }
    if (done) {
      s.trailers = this.chunked?.trailers ?? '';
      s.push(null);
    }
    return { used, done, full: !more };
  }

  fail(e: BodyError): void {
    this.stream.destroy(e);
  }
}
