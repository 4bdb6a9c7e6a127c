// What the proxy listener hands its handler: one request (its head read, its body as it arrives) and
// the answer to write; and the limits a client connection is held to.
import type { BodyStream } from './requestBody';
import type { Framing } from './requestHead';
import type { FrontResponse } from './response';

export interface FrontRequest {
  method: string;
  /** origin-form request target: path and query */
  url: string;
  rawHeaders: string[];
  framing: Framing;
  /** 0 for HTTP/1.0 */
  minor: 0 | 1;
  remoteAddress: string | undefined;
  /** the body as it arrives (null when the request has none); it fails with a BodyError */
  body: BodyStream | null;
  /** the protocol the client asks to switch to (Upgrade), when it may */
  upgrade?: string;
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
  /** an answer the client takes nothing of for this long is cut (HAProxy's `timeout client`) */
  clientTimeoutMs: number;
}
