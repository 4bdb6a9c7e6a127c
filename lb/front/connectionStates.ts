// The states of one client connection and what each event moves it to: the whole of
// lb/front/connection.ts's control flow as data. Every transition the connection takes is looked up
// here (`next`); an event a state does not list is a bug, caught by the property tests
// (test/integration/lbConnectionStates.test.ts), and in service it cuts the connection rather than
// guess. A state's deadline is set on entering it (see `deadlineOf` in connection.ts).
//
//   idle ──headStart──► head ──headWhole──► body ◄──readerWants── bodyFull
//    ▲                   │                   │  └──readerFull──────►┘
//    │      headWholeNoBody                  │ bodyWhole
//    │                   ▼                   ▼
//    ├──answerWhole── answering ◄────────────┘           answering ──upgrade──► tunnel
//    │    (drained)      │ answerWhole, the client not reading
//    └──drained──── drainWait
//   any state ──headBad/bodyBad/answerLast/handlerThrew/deadline──► closing ──► closed
//   body ──readerGone──► abandoned ──answerWhole──► closing      any ──clientGone──► closed

export const states = [
  /** between requests, nothing of the next one read (deadline: the keep-alive timeout) */
  'idle',
  /** part of a request head read (deadline: the head timeout, from its first byte) */
  'head',
  /** the handler has the request; its body is being read (deadline: the request timeout) */
  'body',
  /** the body's reader has enough for now: the socket is paused until it asks for more */
  'bodyFull',
  /** the request is read whole; its answer is not whole yet (no deadline: the backend's timeouts run) */
  'answering',
  /** the answer is whole but the client has not taken it: no further request is read (deadline: the client timeout) */
  'drainWait',
  /** the body's reader gave up on it: nothing more is read, the answer ends the connection */
  'abandoned',
  /** the connection was upgraded (101): its bytes belong to the tunnel */
  'tunnel',
  /** the last answer is sent and the FIN with it; late bytes are read and dropped (deadline: the linger) */
  'closing',
  /** the socket is gone */
  'closed',
] as const;
export type ConnState = (typeof states)[number];

export const events = [
  /** the first byte of a request head (empty lines before it skipped) */
  'headStart',
  /** a whole head of a request with a body */
  'headWhole',
  /** a whole head of a request without a body */
  'headWholeNoBody',
  /** a head refused (4xx/5xx from the LB, then close) */
  'headBad',
  /** the body's last byte */
  'bodyWhole',
  /** a body refused: malformed chunks, cut off by the client's FIN */
  'bodyBad',
  /** the body's reader holds enough */
  'readerFull',
  /** the body's reader wants more */
  'readerWants',
  /** the body's reader destroyed it (the upstream failed, it was too large) */
  'readerGone',
  /** the answer is whole and the connection may carry another request */
  'answerWhole',
  /** the answer is whole and the connection must end (Connection: close, HTTP/1.0, a refused request) */
  'answerLast',
  /** the answer is whole, the connection may go on, but the client has not read what is queued */
  'answerQueued',
  /** the client took what was queued */
  'drained',
  /** the answer was 101 Switching Protocols */
  'upgrade',
  /** the handler threw */
  'handlerThrew',
  /** the client ended its side (FIN): it may still read */
  'clientEnd',
  /** the socket closed (a reset, or both sides ended) */
  'clientGone',
  /** the state's deadline passed */
  'deadline',
  /** the answer's writes made no progress for the client timeout (the client does not read) */
  'sendTimeout',
  /** the server is shutting down */
  'shutdown',
] as const;
export type ConnEvent = (typeof events)[number];

type Row = Partial<Record<ConnEvent, ConnState>>;

/** what every live state does with the client leaving: nothing more to do */
const gone: Row = { clientGone: 'closed' };
/** events of a request in progress whose answer may already be streaming */
const inRequest: Row = {
  ...gone,
  bodyWhole: 'answering',
  bodyBad: 'closing',
  readerGone: 'abandoned',
  // answered before the body was read: the rest of the body cannot be told from a next request
  answerWhole: 'closing',
  answerLast: 'closing',
  answerQueued: 'closing',
  handlerThrew: 'closing',
  clientEnd: 'closing',
  deadline: 'closing',
  sendTimeout: 'closed',
  shutdown: 'body',
};

export const table: Record<ConnState, Row> = {
  idle: {
    ...gone,
    headStart: 'head',
    headWhole: 'body',
    headWholeNoBody: 'answering',
    headBad: 'closing',
    clientEnd: 'closing',
    deadline: 'closed',
    shutdown: 'closed',
  },
  head: {
    ...gone,
    headWhole: 'body',
    headWholeNoBody: 'answering',
    headBad: 'closing',
    // a head cut off by the FIN is no request
    clientEnd: 'closed',
    deadline: 'closing',
    shutdown: 'head',
  },
  body: { ...inRequest, readerFull: 'bodyFull', readerWants: 'body' },
  bodyFull: { ...inRequest, readerFull: 'bodyFull', readerWants: 'body', shutdown: 'bodyFull' },
  answering: {
    ...gone,
    answerWhole: 'idle',
    answerQueued: 'drainWait',
    answerLast: 'closing',
    upgrade: 'tunnel',
    handlerThrew: 'closing',
    // a half close: the answer still goes out, then the connection ends
    clientEnd: 'answering',
    sendTimeout: 'closed',
    shutdown: 'answering',
    // a reader that lets go of a body it has read whole changes nothing
    readerGone: 'answering',
  },
  drainWait: { ...gone, drained: 'idle', clientEnd: 'drainWait', deadline: 'closed', shutdown: 'drainWait' },
  abandoned: {
    ...gone,
    answerWhole: 'closing',
    answerLast: 'closing',
    answerQueued: 'closing',
    handlerThrew: 'closing',
    clientEnd: 'abandoned',
    deadline: 'closed',
    sendTimeout: 'closed',
    shutdown: 'abandoned',
    readerGone: 'abandoned',
    bodyBad: 'abandoned',
  },
  tunnel: { ...gone, clientEnd: 'tunnel', shutdown: 'tunnel', readerGone: 'tunnel' },
  closing: {
    ...gone,
    clientEnd: 'closing',
    deadline: 'closed',
    shutdown: 'closing',
    answerWhole: 'closing',
    answerLast: 'closing',
    answerQueued: 'closing',
    handlerThrew: 'closing',
    readerGone: 'closing',
    bodyBad: 'closing',
    sendTimeout: 'closed',
  },
  closed: Object.fromEntries(events.map((e) => [e, 'closed'])) as Row,
};

/** the state `event` moves `from` to, or undefined when `from` does not expect it (a bug) */
export function next(from: ConnState, event: ConnEvent): ConnState | undefined {
  return table[from][event];
}
