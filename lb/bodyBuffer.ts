// A request's body read up to a bound before a backend connection is taken for it, as HAProxy's
// `option http-buffer-request` does: a client that sends its body slowly (or one byte of it, and
// nothing more) holds no backend connection while it does; a body that fits is sent in one write with
// the head, and can be sent again to another backend when the first refuses the connection. A body
// larger than the bound is streamed after it, with backpressure.
import type { Readable } from 'node:stream';

export class BodyTooLarge extends Error {}

export interface BufferedBody {
  chunks: Buffer[];
  size: number;
  /** the rest of the body, to stream after `chunks`; null when the body is whole */
  rest: Readable | null;
}

/**
 * Reads `body` until it ends or `bound` bytes are in; `cb` then gets them, or the body's error (a
 * BodyError from the connection, or BodyTooLarge past `max`). Returns a function that stops reading
 * (the client's answer was given meanwhile).
 */
export function bufferBody(
  body: Readable,
  bound: number,
  max: number,
  cb: (r: BufferedBody | Error) => void,
): () => void {
  const chunks: Buffer[] = [];
  let size = 0;
  let settled = false;
  const stop = () => {
    settled = true;
    body.off('data', onData);
    body.off('end', onEnd);
    body.off('error', onError);
  };
  const onData = (d: Buffer) => {
    if (settled) return;
    chunks.push(d);
    size += d.length;
    if (size > max) {
      stop();
      return cb(new BodyTooLarge(`request body over ${max} bytes`));
    }
    if (size >= bound) {
      body.pause();
      stop();
      cb({ chunks, size, rest: body });
    }
  };
  const onEnd = () => {
    if (settled) return;
    stop();
    cb({ chunks, size, rest: null });
  };
  const onError = (e: Error) => {
    if (settled) return;
    stop();
    cb(e);
  };
  body.on('data', onData);
  body.once('end', onEnd);
  body.once('error', onError);
  return stop;
}
