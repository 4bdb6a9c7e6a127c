// The corpus of the differential suite (lbHaproxyDifferential.test.ts): raw client requests and raw
// backend answers, each sent through the built-in LB and through HAProxy 2.6. `PATH` in a request is the
// case's own path (/d/NAME), which the raw backend answers with the case's `answer`. A case whose
// outcomes differ names the choice (its id is listed in lb/README.md, "Where it differs from HAProxy")
// and says what the built-in LB does instead.
import type { RawAnswer } from '../harness/rawBackend';

export interface Outcome {
  /** status classes of the answers, interim ones first ('none': no answer) */
  answers: string[];
  /** the connection did not carry a next request */
  closed: boolean;
  /** what the backend received: `METHOD path body=… fields=…` per request */
  backend: string[];
  /** after a 101: the echo of the bytes sent into the tunnel */
  tunnel?: string;
}

export interface Case {
  name: string;
  /** raw client bytes, in pieces; PATH is /d/NAME */
  request: string[];
  answer?: RawAnswer;
  /** bytes sent into the tunnel after a 101 */
  tunnel?: string;
  /** the outcomes differ by choice: an id from lb/README.md, and what the built-in LB does */
  choice?: { id: string; lb: Partial<Outcome> };
}

const get = 'GET PATH HTTP/1.1\r\nHost: x\r\n\r\n';
const ok = 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n';
const answer = (...write: string[]): RawAnswer => ({ write });

export const corpus: Case[] = [
  // --- clients
  { name: 'get', request: [get] },
  {
    name: 'head',
    request: ['HEAD PATH HTTP/1.1\r\nHost: x\r\n\r\n'],
    answer: answer('HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\n'),
  },
  { name: 'post-length', request: ['POST PATH HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n', 'hello'] },
  { name: 'post-empty', request: ['POST PATH HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n'] },
  { name: 'get-with-body', request: ['GET PATH HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc'] },
  {
    name: 'post-chunked',
    request: [
      'POST PATH HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n',
      '3\r\nabc\r\n',
      '2\r\nde\r\n0\r\n\r\n',
    ],
  },
  {
    name: 'chunked-trailer',
    request: ['POST PATH HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Sum: 1\r\n\r\n'],
  },
  {
    name: 'chunked-trailer-malformed',
    request: [
      'POST PATH HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nnot a field\r\n\r\n',
    ],
  },
  {
    name: 'chunk-size-0x',
    request: ['POST PATH HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0x3\r\nabc\r\n0\r\n\r\n'],
  },
  {
    name: 'expect-continue',
    request: ['POST PATH HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n', 'abc'],
  },
  { name: 'http10', request: ['GET PATH HTTP/1.0\r\nHost: x\r\n\r\n'] },
  { name: 'connection-close', request: ['GET PATH HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'] },
  { name: 'unknown-method', request: ['PURGE PATH HTTP/1.1\r\nHost: x\r\n\r\n'] },
  { name: 'connect-path', request: ['CONNECT / HTTP/1.1\r\nHost: x\r\n\r\n'] },
  {
    name: 'two-lengths',
    request: ['POST PATH HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd'],
  },
  { name: 'length-signed', request: ['POST PATH HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\nabc'] },
  { name: 'two-hosts', request: ['GET PATH HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n'] },
  { name: 'space-in-name', request: ['GET PATH HTTP/1.1\r\nHost: x\r\nX A: 1\r\n\r\n'] },
  { name: 'space-before-colon', request: ['GET PATH HTTP/1.1\r\nHost: x\r\nX-A : 1\r\n\r\n'] },
  { name: 'head-too-large', request: [`GET PATH HTTP/1.1\r\nHost: x\r\nX: ${'a'.repeat(17_000)}\r\n\r\n`] },
  {
    name: 'websocket',
    request: [
      'GET PATH HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    ],
    answer: {
      write: [
        'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n',
      ],
      echo: true,
    },
    tunnel: 'frame-bytes',
  },
  {
    name: 'websocket-refused',
    request: [
      'GET PATH HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    ],
    answer: answer('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n'),
  },
  // choices: what the LB refuses that HAProxy lets through (lb/README.md)
  {
    name: 'connection-named',
    request: ['GET PATH HTTP/1.1\r\nHost: x\r\nConnection: X-Hop\r\nX-Hop: 1\r\nX-Kept: 2\r\n\r\n'],
    answer: answer('HTTP/1.1 200 OK\r\nConnection: X-Resp\r\nX-Resp: 1\r\nContent-Length: 3\r\n\r\nok\n'),
    choice: {
      id: 'D-hop-by-hop',
      lb: { answers: ['2xx'], backend: ['GET /d/connection-named body="" fields=host,x-forwarded-for,x-kept'] },
    },
  },
  {
    name: 'hop-by-hop-fixed',
    request: [
      'GET PATH HTTP/1.1\r\nHost: x\r\nKeep-Alive: 300\r\nTE: trailers\r\nProxy-Connection: keep-alive\r\nTrailer: X\r\n\r\n',
    ],
    choice: { id: 'D-hop-by-hop', lb: { backend: ['GET /d/hop-by-hop-fixed body="" fields=host,x-forwarded-for'] } },
  },
  {
    name: 'length-and-chunked',
    request: [
      'POST PATH HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
    ],
    choice: { id: 'D-ambiguous-framing', lb: { answers: ['4xx'], closed: true, backend: [] } },
  },
  {
    name: 'chunked-in-http10',
    request: ['POST PATH HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'],
    choice: { id: 'D-ambiguous-framing', lb: { answers: ['4xx'], closed: true, backend: [] } },
  },
  {
    name: 'folded-line',
    request: ['GET PATH HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n 2\r\n\r\n'],
    choice: { id: 'D-ambiguous-framing', lb: { answers: ['4xx'], closed: true, backend: [] } },
  },
  {
    name: 'bare-lf',
    request: ['GET PATH HTTP/1.1\nHost: x\n\n'],
    choice: { id: 'D-ambiguous-framing', lb: { answers: ['4xx'], closed: true, backend: [] } },
  },
  {
    name: 'control-byte',
    request: ['GET PATH HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n'],
    choice: { id: 'D-ambiguous-framing', lb: { answers: ['4xx'], closed: true, backend: [] } },
  },
  {
    name: 'no-host',
    request: ['GET PATH HTTP/1.1\r\n\r\n'],
    choice: { id: 'D-request-target', lb: { answers: ['4xx'], closed: true, backend: [] } },
  },
  {
    name: 'absolute-url',
    request: ['GET http://x/d/absolute-url HTTP/1.1\r\nHost: x\r\n\r\n'],
    choice: { id: 'D-request-target', lb: { answers: ['4xx'], closed: true, backend: [] } },
  },
  {
    name: 'http2-line',
    request: ['GET PATH HTTP/2.0\r\nHost: x\r\n\r\n'],
    choice: { id: 'D-request-target', lb: { answers: ['5xx'], closed: true, backend: [] } },
  },
  {
    name: 'transfer-gzip',
    request: ['POST PATH HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'],
    choice: { id: 'D-transfer-coding', lb: { answers: ['5xx'], closed: true, backend: [] } },
  },
  {
    name: 'expect-other',
    request: ['POST PATH HTTP/1.1\r\nHost: x\r\nExpect: foo\r\nContent-Length: 3\r\n\r\nabc'],
    choice: { id: 'D-expect', lb: { answers: ['4xx'], closed: true, backend: [] } },
  },
  {
    name: 'http10-no-host',
    request: ['GET PATH HTTP/1.0\r\n\r\n'],
    choice: { id: 'D-http10-host', lb: { answers: ['2xx'], closed: true } },
  },
  {
    name: 'h2c-upgrade',
    request: [
      'GET PATH HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n',
    ],
    choice: {
      id: 'D-h2c',
      lb: { answers: ['2xx'], backend: ['GET /d/h2c-upgrade body="" fields=host,x-forwarded-for'] },
    },
  },
  {
    name: 'connect-authority',
    request: ['CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n'],
    choice: { id: 'D-connect', lb: { answers: ['4xx'], closed: true, backend: [] } },
  },

  // --- backends
  {
    name: 'early-hints',
    request: [get],
    answer: answer('HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n', ok),
  },
  { name: 'continue-unasked', request: [get], answer: answer('HTTP/1.1 100 Continue\r\n\r\n', ok) },
  {
    name: 'continue-asked',
    request: ['POST PATH HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n', 'abc'],
    answer: answer('HTTP/1.1 100 Continue\r\n\r\n', ok),
  },
  {
    name: 'interim-several',
    request: [get],
    answer: answer('HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n', ok),
  },
  { name: 'answer-500', request: [get], answer: answer('HTTP/1.1 500 Oops\r\nContent-Length: 3\r\n\r\nno\n') },
  {
    name: 'answer-chunked',
    request: [get],
    answer: answer('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'),
  },
  {
    name: 'answer-trailer',
    request: [get],
    answer: answer('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n'),
  },
  {
    name: 'answer-gzip-chunked',
    request: [get],
    answer: {
      write: ['HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'],
      after: 'close',
    },
  },
  {
    name: 'answer-two-lengths',
    request: [get],
    answer: { write: ['HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nok\n'], after: 'close' },
  },
  { name: 'answer-length-list', request: [get], answer: answer('HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\nok\n') },
  {
    name: 'answer-length-and-chunked',
    request: [get],
    answer: answer('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'),
  },
  {
    name: 'answer-until-close',
    request: [get],
    answer: { write: ['HTTP/1.1 200 OK\r\n\r\nabc'], after: 'close' },
    choice: { id: 'D-close-delimited', lb: { answers: ['2xx'], closed: false } },
  },
  {
    name: 'answer-http10',
    request: [get],
    answer: { write: ['HTTP/1.0 200 OK\r\n\r\nabc'], after: 'close' },
    choice: { id: 'D-close-delimited', lb: { answers: ['2xx'], closed: false } },
  },
  { name: 'answer-no-reason', request: [get], answer: answer('HTTP/1.1 200\r\nContent-Length: 3\r\n\r\nok\n') },
  { name: 'answer-204-length', request: [get], answer: answer('HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\n') },
  {
    name: 'answer-304',
    request: [get],
    answer: answer('HTTP/1.1 304 Not Modified\r\nContent-Length: 3\r\nETag: "x"\r\n\r\n'),
  },
  {
    name: 'answer-close-field',
    request: [get],
    answer: { write: ['HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\nok\n'], after: 'close' },
  },
  {
    name: 'answer-folded',
    request: [get],
    answer: answer('HTTP/1.1 200 OK\r\nX-A: 1\r\n  2\r\nContent-Length: 3\r\n\r\nok\n'),
  },
  { name: 'answer-bare-lf', request: [get], answer: answer('HTTP/1.1 200 OK\nContent-Length: 3\n\nok\n') },
  {
    name: 'answer-control-byte',
    request: [get],
    answer: answer('HTTP/1.1 200 OK\r\nX-A: a\x01b\r\nContent-Length: 3\r\n\r\nok\n'),
  },
  {
    name: 'answer-space-before-colon',
    request: [get],
    answer: { write: ['HTTP/1.1 200 OK\r\nContent-Length : 3\r\n\r\nok\n'], after: 'close' },
  },
  {
    name: 'answer-chunk-size-bad',
    request: [get],
    answer: { write: ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n'], after: 'close' },
  },
  {
    name: 'answer-trailer-bad',
    request: [get],
    answer: {
      write: ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nbad trailer\r\n\r\n'],
      after: 'close',
    },
  },
  {
    name: 'answer-cut',
    request: [get],
    answer: { write: ['HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'], after: 'close' },
  },
  { name: 'answer-garbage', request: [get], answer: { write: ['garbage\r\n\r\n'], after: 'close' } },
  { name: 'answer-http09', request: [get], answer: { write: ['ok\n'], after: 'close' } },
  { name: 'answer-none-close', request: [get], answer: { write: [], after: 'close' } },
  { name: 'answer-none-reset', request: [get], answer: { write: [], after: 'reset' } },
  { name: 'answer-none-timeout', request: [get], answer: { write: [], after: 'hang' } },
  {
    name: 'answer-101-unasked',
    request: [get],
    answer: {
      write: ['HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n'],
      echo: true,
    },
  },
  {
    name: 'answer-status-600',
    request: [get],
    answer: { write: ['HTTP/1.1 600 Odd\r\nContent-Length: 3\r\n\r\nok\n'], after: 'close' },
    choice: { id: 'D-status-range', lb: { answers: ['5xx'] } },
  },
  {
    name: 'answer-head-20k',
    request: [get],
    answer: answer(`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(20_000)}\r\nContent-Length: 3\r\n\r\nok\n`),
    choice: { id: 'D-answer-head-size', lb: { answers: ['2xx'] } },
  },
];
